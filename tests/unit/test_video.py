"""Video reading and writing: frame-exact access, counts, chunks, image folders, bad files."""

from __future__ import annotations

import hashlib
import pickle
import shutil
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from ethogram.errors import VideoError
from ethogram.io.video import (
    VideoInfo,
    VideoReader,
    VideoWriter,
    open_video,
    read_video,
    video_info,
    write_video,
)

REAL_VIDEO = Path(__file__).resolve().parents[3] / "shared" / "data" / "openfield" / "m3v1mp4.mp4"
REAL_N_FRAMES = 2330
REAL_KEYFRAMES = (0, 182, 366, 548)  # first keyframes of the real video (H.264 IDR frames)
N, H, W = 30, 48, 64


def make_frames(n: int = N, height: int = H, width: int = W) -> np.ndarray:
    """Frames whose top band encodes the frame number as a flat grey level; the rest moves."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(
        rng.integers(0, 256, (height + n, width + n, 3), np.uint8), (5, 5), 0
    )
    frames = np.stack([texture[i : i + height, i : i + width] for i in range(n)])
    frames[:, : height // 2] = (10 + 8 * np.arange(n, dtype=np.uint8))[:, None, None, None]
    return frames


def frame_id(frame: np.ndarray) -> int:
    """The frame number encoded by :func:`make_frames` (robust to lossy codecs)."""
    band = frame[: frame.shape[0] // 2 - 8, 4:-4]
    return int(round((float(band.mean()) - 10) / 8))


def digest(frame: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(frame).tobytes(), digest_size=16).hexdigest()


@pytest.fixture(scope="module")
def tiny_videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny")
    frames = make_frames()
    return {
        ext: write_video(folder / f"tiny.{ext}", frames, 30) for ext in ("mp4", "avi", "mkv", "mov")
    }


@pytest.fixture(scope="module")
def real_video(tmp_path_factory) -> Path:
    if not REAL_VIDEO.exists():
        pytest.skip(f"real test video not found at {REAL_VIDEO}")
    path = tmp_path_factory.mktemp("real") / REAL_VIDEO.name
    shutil.copyfile(REAL_VIDEO, path)
    return path


@pytest.fixture(scope="module")
def real_reference(real_video) -> dict[int, str]:
    """Digests of frames 0..399 of the real video, from one sequential decoding pass."""
    with VideoReader(real_video) as reader:
        return {
            first + j: digest(frame)
            for first, chunk in reader.iter_chunks(100, 0, 400)
            for j, frame in enumerate(chunk)
        }


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("ext", ["mp4", "avi", "mkv", "mov"])
@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_written_video_reads_back_same_count_and_nearly_same_pixels(tiny_videos, ext, backend):
    frames = make_frames()
    with VideoReader(tiny_videos[ext], backend=backend) as reader:
        assert len(reader) == N
        assert reader.shape == (N, H, W, 3)
        assert reader.fps == pytest.approx(30.0)
        decoded = reader[:]
    assert decoded.dtype == np.uint8
    assert [frame_id(f) for f in decoded] == list(range(N))
    assert np.abs(decoded.astype(int) - frames).mean() < 10


def test_mkv_without_frame_count_metadata_still_has_exact_length(tiny_videos):
    with av.open(str(tiny_videos["mkv"])) as container:
        assert container.streams.video[0].frames == 0  # Matroska stores no frame count
        n_decoded = sum(1 for _ in container.decode(video=0))
    with VideoReader(tiny_videos["mkv"]) as reader:
        assert len(reader) == n_decoded == N
        assert sum(1 for _ in reader) == N


def test_crf_zero_mp4_of_grey_frames_is_lossless_up_to_rounding(tmp_path):
    frames = make_frames().mean(axis=-1, keepdims=True).astype(np.uint8).repeat(3, axis=-1)
    path = write_video(tmp_path / "lossless.mp4", frames, 25, crf=0)
    decoded = read_video(path)
    assert decoded.shape == frames.shape
    # Grey has no chroma to subsample: only the RGB <-> YUV rounding is left.
    assert np.abs(decoded.astype(int) - frames).max() <= 1


def test_video_info_reports_count_fps_size_and_codec(tiny_videos):
    info = video_info(tiny_videos["mp4"])
    assert info == VideoInfo(tiny_videos["mp4"], N, pytest.approx(30.0), H, W, "h264")
    assert video_info(tiny_videos["avi"]).codec == "mjpeg"


def test_read_video_resizes_with_inter_area_and_honours_range(tiny_videos):
    with open_video(tiny_videos["mp4"]) as reader:
        expected = np.stack(
            [cv2.resize(reader[i], (32, 32), interpolation=cv2.INTER_AREA) for i in range(5, 12)]
        )
    small = read_video(tiny_videos["mp4"], size=32, start=5, stop=12)
    assert small.shape == (7, 32, 32, 3)
    np.testing.assert_array_equal(small, expected)
    assert read_video(tiny_videos["mp4"]).shape == (N, H, W, 3)


# ----------------------------------------------------------------------------- indexing


def test_slices_return_stacked_frames_in_slice_order(tiny_videos):
    with VideoReader(tiny_videos["mp4"]) as reader:
        assert [frame_id(f) for f in reader[2:10:3]] == [2, 5, 8]
        assert [frame_id(f) for f in reader[-3:]] == [N - 3, N - 2, N - 1]
        assert [frame_id(f) for f in reader[::-7]] == [29, 22, 15, 8, 1]
        assert reader[5:2].shape == (0, H, W, 3)


def test_negative_indexes_count_from_end_and_out_of_range_raises_index_error(tiny_videos):
    with VideoReader(tiny_videos["mp4"]) as reader:
        assert frame_id(reader[-1]) == N - 1
        np.testing.assert_array_equal(reader[-N], reader[0])
        with pytest.raises(IndexError, match="out of range"):
            reader[N]
        with pytest.raises(IndexError):
            reader[-N - 1]


def test_iteration_yields_every_frame_in_order(tiny_videos):
    with VideoReader(tiny_videos["mkv"]) as reader:
        assert [frame_id(f) for f in reader] == list(range(N))


def test_iter_chunks_covers_the_range_in_consecutive_chunks(tiny_videos):
    with VideoReader(tiny_videos["mp4"]) as reader:
        chunks = list(reader.iter_chunks(chunk_size=7, start=3, stop=25))
        whole = reader[3:25]
    assert [first for first, _ in chunks] == [3, 10, 17, 24]
    assert [len(c) for _, c in chunks] == [7, 7, 7, 1]
    np.testing.assert_array_equal(np.concatenate([c for _, c in chunks]), whole)


def test_chunks_kept_by_the_caller_are_never_overwritten(tiny_videos):
    with VideoReader(tiny_videos["mp4"]) as reader:
        kept = list(reader.iter_chunks(chunk_size=4))  # all chunks referenced at once
        view = None
        for first, chunk in reader.iter_chunks(chunk_size=4):  # the usual loop reuses memory
            assert [frame_id(f) for f in chunk] == list(range(first, first + len(chunk)))
            if first == 0:
                view = chunk[1:3]  # a view keeps its chunk alive
    assert [frame_id(f) for _, c in kept for f in c] == list(range(N))
    assert [frame_id(f) for f in view] == [1, 2]


def test_returned_frames_are_copies_not_the_cache(tiny_videos):
    with VideoReader(tiny_videos["mp4"]) as reader:
        frame = reader[3]
        frame[:] = 0
        assert frame_id(reader[3]) == 3


def test_closed_reader_refuses_to_read(tiny_videos):
    with VideoReader(tiny_videos["mp4"]) as reader:
        pass
    with pytest.raises(ValueError, match="closed"):
        reader[0]


def test_reader_pickles_by_path_and_reopens(tiny_videos):
    with VideoReader(tiny_videos["avi"], backend="opencv", cache_size=8) as reader:
        copy = pickle.loads(pickle.dumps(reader))
    with copy:
        assert (copy.backend, copy.cache_size, len(copy)) == ("opencv", 8, N)
        assert frame_id(copy[7]) == 7


# ----------------------------------------------------------------------------- real video


def test_real_video_has_true_length_and_decodes_to_its_last_frame(real_video):
    with VideoReader(real_video) as reader:
        assert len(reader) == REAL_N_FRAMES
        assert reader.shape == (REAL_N_FRAMES, 480, 640, 3)
        assert reader.fps == pytest.approx(30.0, abs=0.01)
        # Sequential decoding from the last keyframes ends exactly at len.
        tail = list(reader.iter_chunks(chunk_size=64, start=-30))
        assert [(first, len(c)) for first, c in tail] == [(REAL_N_FRAMES - 30, 30)]
        with pytest.raises(IndexError):
            reader[REAL_N_FRAMES]


def test_chunks_starting_mid_video_equal_random_access_frames(real_video):
    # A fresh decoder must decode correctly after seeking (the stream needs the first packet's
    # SEI to decode its 4:4:4 frames; without it frames seeked to come out garbled).
    with VideoReader(real_video) as reader:
        ((first, chunk),) = list(reader.iter_chunks(chunk_size=16, start=2225, stop=2235))
    with VideoReader(real_video, backend="opencv") as other:
        assert first == 2225
        for j, frame in enumerate(chunk):
            assert digest(frame) == digest(other[2225 + j])


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_random_access_equals_sequential_decoding(real_video, real_reference, backend):
    indexes = [0, 1, 5, 181, 182, 183, 250, 366, 367, 399, 100, 3, 365, 182]
    with VideoReader(real_video, backend=backend) as reader:
        for i in indexes:
            assert digest(reader[i]) == real_reference[i], f"frame {i}"


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_stepping_backwards_equals_sequential_decoding_and_uses_the_cache(
    real_video, real_reference, backend
):
    with VideoReader(real_video, backend=backend, cache_size=128) as reader:
        start = reader.decode_stats["seeks"]
        for i in range(390, 170, -1):  # crosses keyframes 366 and 182
            assert digest(reader[i]) == real_reference[i], f"frame {i}"
        stats = reader.decode_stats
    # 220 backward steps: a seek each time the cache runs out, not one per frame.
    assert stats["seeks"] - start <= 4
    assert stats["cache_hits"] >= 200


def test_reading_the_next_frame_does_not_seek_again(real_video, real_reference):
    with VideoReader(real_video) as reader:
        reader[200]
        before = reader.decode_stats
        for i in range(201, 206):
            assert digest(reader[i]) == real_reference[i]
        after = reader.decode_stats
    assert after["seeks"] == before["seeks"]
    assert after["decoded"] - before["decoded"] == 5


def test_real_video_slices_equal_sequential_decoding(real_video, real_reference):
    with VideoReader(real_video) as reader:
        frames = reader[360:372:3]
    assert [digest(f) for f in frames] == [real_reference[i] for i in range(360, 372, 3)]


# ----------------------------------------------------------------------------- image folders


def write_images(folder: Path, names: list[str], ids: list[int]) -> None:
    folder.mkdir()
    frames = make_frames(max(ids) + 1)
    for name, i in zip(names, ids, strict=True):
        assert cv2.imwrite(str(folder / name), cv2.cvtColor(frames[i], cv2.COLOR_RGB2BGR))


def test_image_folder_reads_as_video_in_natural_order(tmp_path):
    write_images(tmp_path / "imgs", ["f10.png", "f2.png", "f1.png", "f3.png"], [10, 2, 1, 3])
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    with VideoReader(tmp_path / "imgs") as reader:
        assert len(reader) == 4
        assert reader.fps == 30.0
        assert reader.shape == (4, H, W, 3)
        assert [frame_id(f) for f in reader[:]] == [1, 2, 3, 10]
        assert [frame_id(f) for f in reader] == [1, 2, 3, 10]
        assert frame_id(reader[-1]) == 10
    assert VideoReader(tmp_path / "imgs", fps=12.5).fps == 12.5


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_image_folder_reads_jpeg_and_tiff(tmp_path, suffix):
    write_images(tmp_path / "imgs", [f"{i:03d}{suffix}" for i in range(3)], [0, 1, 2])
    info = video_info(tmp_path / "imgs")
    assert (info.n_frames, info.height, info.width, info.codec) == (3, H, W, "images")
    assert [frame_id(f) for f in read_video(tmp_path / "imgs")] == [0, 1, 2]


def test_image_of_another_size_in_folder_names_the_image(tmp_path):
    write_images(tmp_path / "imgs", ["1.png", "2.png"], [0, 1])
    cv2.imwrite(str(tmp_path / "imgs" / "3.png"), np.zeros((10, 10, 3), np.uint8))
    with VideoReader(tmp_path / "imgs") as reader:
        with pytest.raises(VideoError, match=r"3\.png is 10x10 pixels, expected 64x48"):
            reader[2]


def test_folder_without_images_raises_video_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hi")
    with pytest.raises(VideoError, match="contains no images"):
        VideoReader(tmp_path / "empty")


# ----------------------------------------------------------------------------- bad files


def test_missing_file_raises_video_error_naming_it(tmp_path):
    with pytest.raises(VideoError, match=r"not found: .*nothere\.mp4"):
        VideoReader(tmp_path / "nothere.mp4")


def test_empty_file_is_reported_as_empty(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match=r"empty\.mp4 is empty \(0 bytes\)"):
        VideoReader(tmp_path / "empty.mp4")


def test_text_file_renamed_mp4_is_reported_as_not_a_video(tmp_path):
    (tmp_path / "notes.mp4").write_text("these are my notes, not a video\n" * 20)
    with pytest.raises(VideoError, match=r"cannot read .*notes\.mp4 as a video"):
        VideoReader(tmp_path / "notes.mp4")


def test_file_without_video_stream_is_reported(tmp_path):
    path = tmp_path / "sound.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(VideoError, match=r"sound\.mkv has no video stream \(found: audio\)"):
        VideoReader(path)


def test_mp4_cut_before_its_index_is_reported_as_truncated(tiny_videos, tmp_path):
    data = tiny_videos["mp4"].read_bytes()  # moov (the index) is written at the end
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4 is truncated.*'moov' index is missing"):
        VideoReader(tmp_path / "cut.mp4")


def remux_index_first(src: Path, dst: Path) -> None:
    with (
        av.open(str(src)) as source,
        av.open(str(dst), "w", options={"movflags": "faststart"}) as out,
    ):
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


@pytest.mark.parametrize("kind", ["mp4-index-first", "mkv"])
def test_truncated_file_with_index_reads_its_complete_frames(tiny_videos, tmp_path, kind):
    if kind == "mkv":
        full = tiny_videos["mkv"]
    else:
        full = tmp_path / "indexed.mp4"
        remux_index_first(tiny_videos["mp4"], full)
    data = full.read_bytes()
    cut = tmp_path / f"cut{full.suffix}"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with VideoReader(full) as complete, VideoReader(cut) as reader:
        n = len(reader)
        assert 0 < n < N
        sequential = np.concatenate([c for _, c in reader.iter_chunks(8)])
        assert len(sequential) == n  # len is exactly what decodes
        np.testing.assert_array_equal(sequential, complete[:n])
        np.testing.assert_array_equal(reader[n - 1], complete[n - 1])
        assert [frame_id(f) for f in sequential] == list(range(n))
    if kind != "mkv":  # MKV hides a cut between frames; MP4 knows its full length
        assert reader.truncated


def test_unknown_backend_raises_video_error(tiny_videos):
    with pytest.raises(VideoError, match="unknown video backend 'ffmpeg'"):
        VideoReader(tiny_videos["mp4"], backend="ffmpeg")


# ----------------------------------------------------------------------------- writing


def test_writer_leaves_nothing_when_the_block_raises(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(tmp_path / "out.mp4", fps=30) as writer:
            writer.write(make_frames(5))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_keeps_existing_file_until_new_one_is_complete(tmp_path, tiny_videos):
    target = tmp_path / "out.mp4"
    shutil.copyfile(tiny_videos["mp4"], target)
    with VideoWriter(target, fps=10) as writer:
        writer.write(make_frames(4))
        assert len(VideoReader(target)) == N  # still the old video
    assert len(VideoReader(target)) == 4


def test_writer_pads_odd_frame_size_to_even(tmp_path):
    frames = make_frames(6, height=47, width=63)
    with VideoWriter(tmp_path / "odd.mp4", fps=30) as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.frame_size == (48, 64)
    decoded = read_video(tmp_path / "odd.mp4")
    assert decoded.shape == (6, 48, 64, 3)
    assert [frame_id(f[:47, :63]) for f in decoded] == list(range(6))


def test_writer_rejects_float_frames_naming_dtype_and_shape(tmp_path):
    with VideoWriter(tmp_path / "bad.mp4", fps=30) as writer:
        with pytest.raises(
            VideoError, match=r"expected uint8 .* got float64 array of shape \(4, 4, 3\)"
        ):
            writer.write(np.zeros((4, 4, 3)))
        writer.write(make_frames(2))


def test_writer_rejects_frames_of_another_size(tmp_path):
    with VideoWriter(tmp_path / "bad.mp4", fps=30) as writer:
        writer.write(make_frames(2))
        with pytest.raises(VideoError, match="must all be 64x48 pixels like the first, got 32x48"):
            writer.write(make_frames(2, width=32))


def test_writer_rejects_unknown_extension_and_bad_fps(tmp_path):
    with pytest.raises(VideoError, match=r"expected a file ending in .mp4.*got '\.gif'"):
        VideoWriter(tmp_path / "x.gif", fps=30)
    with pytest.raises(VideoError, match="fps must be > 0"):
        VideoWriter(tmp_path / "x.mp4", fps=0)
    assert list(tmp_path.iterdir()) == []


def test_writer_without_frames_creates_no_file(tmp_path):
    with pytest.raises(VideoError, match="no frames were written"):
        with VideoWriter(tmp_path / "nothing.mp4", fps=30):
            pass
    assert list(tmp_path.iterdir()) == []


def test_read_first_frame_equals_the_readers_first_frame_and_rejects_garbage(tmp_path):
    from ethogram.io.video import read_first_frame
    from tests.conftest import make_video

    path = make_video(tmp_path / "clip.mp4", n_frames=12)
    with VideoReader(path) as video:
        np.testing.assert_array_equal(read_first_frame(path), video[0])
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 500)
    with pytest.raises(VideoError):
        read_first_frame(bad)
    with pytest.raises(VideoError, match="not found"):
        read_first_frame(tmp_path / "missing.mp4")
