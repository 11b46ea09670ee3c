"""Frame sources behind :class:`ethogram.io.video.VideoReader`: PyAV, OpenCV and image folders.

Every backend exposes the same small interface, so the reader's cache and seeking logic is written
once:

- ``n_frames``, ``fps``, ``height``, ``width``, ``codec``, ``keyframes`` (sorted presentation
  indexes from which decoding can start; always contains 0);
- ``seek(k, target)`` positions the decoder on keyframe ``k`` or, if cheaper, on a later frame
  up to ``target`` (the first frame the caller needs); ``position`` is the index of the frame
  the next ``next_frame()`` returns (None before the first seek);
- ``next_frame() -> (index, handle)`` decodes one frame without converting it, ``to_rgb(handle)``
  converts it to a uint8 RGB (H, W, 3) array (conversion costs more than decoding, so the reader
  only converts frames it returns), ``keep(handle)`` gives what to cache for a frame decoded on
  the way (``to_rgb`` accepts it later);
- ``iter_frames(start, stop)`` decodes ``[start, stop)`` sequentially on its own decoder, leaving
  the random-access state alone.

Frame numbering is defined by presentation timestamps (pts) from a demux pass with PyAV (no
decoding, ~10 ms per 2,000 frames), so the count is right even when the container's frame count
is wrong or missing, and frame ``i`` is the same frame for every backend.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.errors import VideoError

DEFAULT_FPS = 30.0
"""Frame rate assumed when a video or an image folder does not say."""

# --------------------------------------------------------------------------- PyAV index


@dataclass
class PacketIndex:
    """What one demux pass tells about a video stream.

    Attributes
    ----------
    pts
        (n_frames,) int64 presentation timestamps of the decodable frames, in presentation order;
        frame ``i`` is the frame whose pts is ``pts[i]``. Empty when timestamps are unusable.
    keyframes
        Sorted presentation indexes of keyframes (always includes 0).
    n_frames
        Number of decodable frames.
    truncated
        True when the file ends inside a frame (an interrupted recording or copy); ``n_frames``
        then counts only the complete frames before the first missing one.
    """

    pts: np.ndarray
    keyframes: np.ndarray
    n_frames: int
    truncated: bool


def describe_open_failure(path: Path, detail: str) -> str:
    """Explain why ffmpeg could not open ``path``, spotting MP4/MOV files cut short."""
    size = path.stat().st_size
    boxes: list[bytes] = []
    cut = False
    with open(path, "rb") as fh:
        offset = 0
        while offset + 8 <= size and len(boxes) < 64:
            fh.seek(offset)
            header = fh.read(16)
            box_size = int.from_bytes(header[:4], "big")
            box_type = header[4:8]
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8 or not box_type.isascii() or not box_type.isalnum():
                break
            boxes.append(box_type)
            if offset + box_size > size:
                cut = True
                break
            offset += box_size
    if boxes[:1] == [b"ftyp"] and (cut or b"moov" not in boxes):
        return (
            f"video file {path} is truncated: it is an MP4/MOV file whose 'moov' index is "
            "missing (the recording or copy was interrupted), so its frames cannot be located"
        )
    return f"cannot read {path} as a video: expected a video file ffmpeg can open, got {detail}"


def open_av(path: Path) -> Any:
    """Open ``path`` with PyAV, turning failures into :class:`VideoError`."""
    import av

    try:
        return av.open(str(path), metadata_errors="ignore")
    except PermissionError as exc:
        raise VideoError(f"cannot read video file {path}: permission denied") from exc
    except av.error.FFmpegError as exc:
        raise VideoError(describe_open_failure(path, f"'{exc.strerror or exc}'")) from exc


def build_index(path: Path) -> tuple[PacketIndex, dict[str, Any]]:
    """Demux the first video stream of ``path`` (no decoding) and index its frames.

    Returns
    -------
    index, meta
        ``meta`` holds ``fps`` (from the container, else from timestamps, else 30), ``height``,
        ``width``, ``codec``, ``stream_index`` and ``time_base``.
    """
    import av

    if path.stat().st_size == 0:
        raise VideoError(f"video file {path} is empty (0 bytes)")
    container = open_av(path)
    try:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["no streams"]
            raise VideoError(f"video file {path} has no video stream (found: {', '.join(kinds)})")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        meta = {
            "fps": float(rate) if rate else None,
            "height": int(ctx.height),
            "width": int(ctx.width),
            "codec": ctx.name,
            "stream_index": stream.index,
            "time_base": stream.time_base,
        }
        file_size = path.stat().st_size
        pts: list[int | None] = []
        key: list[bool] = []
        truncated = False
        demux = container.demux(stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError:
                truncated = True  # the container breaks off mid-way
                break
            if packet.size == 0 or packet.is_discard:
                continue  # flush packets, frames the container says to drop
            if packet.is_corrupt or (
                packet.pos is not None and packet.pos + packet.size > file_size
            ):
                truncated = True
                continue
            pts.append(packet.pts if packet.pts is not None else packet.dts)
            key.append(bool(packet.is_keyframe))
    finally:
        container.close()
    index = _index_from_packets(pts, key, truncated)
    if index.n_frames == 0:
        raise VideoError(f"video file {path} contains no decodable video frames")
    if not meta["fps"] and index.pts.size > 1 and index.pts[-1] > index.pts[0]:
        duration = float((index.pts[-1] - index.pts[0]) * meta["time_base"])
        meta["fps"] = (index.n_frames - 1) / duration
    meta["fps"] = meta["fps"] or DEFAULT_FPS
    return index, meta


def _index_from_packets(pts: list[int | None], key: list[bool], truncated: bool) -> PacketIndex:
    n = len(pts)
    if n == 0 or any(p is None for p in pts) or len(set(pts)) != n:
        # No usable timestamps: frames are numbered in decode order and only decoded from the start.
        return PacketIndex(np.empty(0, np.int64), np.zeros(1, np.int64), n, truncated)
    raw = np.asarray(pts, dtype=np.int64)
    order = np.argsort(raw, kind="stable")
    sorted_pts = raw[order]
    # With B-frames, a file cut short (even one whose container hides it, like MKV) can miss
    # frames just before its last stored ones in presentation order. Keep the contiguous prefix:
    # look for a timestamp gap among the last frames, within the reordering depth.
    depth = int(np.max(np.abs(order - np.arange(n))))
    if depth > 0 and n > 2:
        steps = np.diff(sorted_pts)
        tail = max(0, steps.size - 2 * depth - 2)
        gaps = np.nonzero(steps[tail:] > 1.5 * np.median(steps))[0]
        if gaps.size:
            sorted_pts = sorted_pts[: tail + gaps[0] + 1]
            truncated = True
    n = sorted_pts.size
    key_pts = raw[np.asarray(key, dtype=bool)]
    keyframes = np.searchsorted(sorted_pts, key_pts)
    keyframes = keyframes[(keyframes < n) & np.isin(key_pts, sorted_pts)]
    keyframes = np.union1d(keyframes, [0]).astype(np.int64)
    return PacketIndex(sorted_pts, keyframes, n, bool(truncated))


# --------------------------------------------------------------------------- backends


def keyframe_before(keyframes: np.ndarray, i: int) -> int:
    """The last keyframe at or before frame ``i``."""
    return int(keyframes[np.searchsorted(keyframes, i, side="right") - 1])


class FrameSource:
    """What the backends share: metadata, sequential decoding on a private copy."""

    name = ""
    path: Path
    n_frames: int
    fps: float
    height: int
    width: int
    codec: str
    keyframes: np.ndarray
    position: int | None = None

    def _init_meta(self, path: Path, index: PacketIndex, meta: dict[str, Any]) -> None:
        self.path, self.n_frames, self.keyframes = path, index.n_frames, index.keyframes
        self.fps, self.codec = meta["fps"], meta["codec"]
        self.height, self.width = meta["height"], meta["width"]

    def seek(self, k: int, target: int | None = None) -> None:
        raise NotImplementedError

    def next_frame(self) -> tuple[int, Any]:
        raise NotImplementedError

    def to_rgb(self, handle: Any) -> np.ndarray:
        raise NotImplementedError

    def keep(self, handle: Any) -> Any:
        """What to cache for a frame decoded on the way: by default its RGB array."""
        return self.to_rgb(handle)

    def close(self) -> None:
        self.position = None

    def _stopped(self, index: int) -> VideoError:
        return VideoError(
            f"video file {self.path}: decoding stopped at frame {index} of {self.n_frames} "
            "(the file is corrupt or truncated)"
        )

    def iter_frames(self, start: int, stop: int) -> Iterator[tuple[int, np.ndarray]]:
        """Decode frames ``[start, stop)`` in order on a private decoder."""
        if start >= stop:
            return
        sub = copy.copy(self)
        sub._reset()
        try:
            sub.seek(keyframe_before(self.keyframes, start), start)
            while True:
                idx, handle = sub.next_frame()
                if idx >= start:
                    yield idx, sub.to_rgb(handle)
                if idx >= stop - 1:
                    return
        finally:
            sub.close()

    def _reset(self) -> None:
        """Forget the decoder state (on a copy that must not share it)."""
        self.position = None


class PyAVBackend(FrameSource):
    """Decode with PyAV (libav*), numbering frames by presentation timestamp."""

    name = "pyav"

    def __init__(self, path: Path, index: PacketIndex, meta: dict[str, Any]):
        self._init_meta(path, index, meta)
        self.index = index
        self._stream_index = meta["stream_index"]
        pts = index.pts
        self._pts_to_index = {int(p): i for i, p in enumerate(pts)} if pts.size else None
        self._reset()

    def _reset(self) -> None:
        self._container: Any = None
        self._frames: Iterator[Any] | None = None
        self._pending: Any = None
        self._start = self._counter = 0
        self.position = None

    def _open(self, prime: bool = True) -> tuple[Any, Any]:
        import av

        container = open_av(self.path)
        stream = container.streams[self._stream_index]
        stream.thread_type = "AUTO"
        if prime:
            # Feed the first packet to the decoder before any seek: it can carry stream-wide
            # facts found nowhere else (e.g. the x264 version in an SEI, which FFmpeg needs to
            # decode some 4:4:4 streams correctly; without it seeked frames come out garbled).
            with contextlib.suppress(av.error.FFmpegError):
                for packet in container.demux(stream):
                    if packet.size and not packet.is_corrupt:
                        stream.codec_context.decode(packet)
                        break
        return container, stream

    @staticmethod
    def _decoded(container: Any, stream: Any) -> Iterator[Any]:
        """Decoded frames in presentation order; bad packets and a cut-off tail are skipped."""
        import av

        demux = container.demux(stream)
        ctx = stream.codec_context
        while True:
            try:
                packet = next(demux)
            except (StopIteration, av.error.FFmpegError):
                break
            if packet.size == 0 or packet.is_corrupt:
                continue
            with contextlib.suppress(av.error.InvalidDataError):
                yield from ctx.decode(packet)
        with contextlib.suppress(av.error.FFmpegError):
            yield from ctx.decode(None)

    def _frame_index(self, frame: Any, fallback: int) -> int:
        if self._pts_to_index is None or frame.pts is None:
            return fallback
        return self._pts_to_index.get(int(frame.pts), fallback)

    def seek(self, k: int, target: int | None = None) -> None:
        """Position the decoder so that the next frame returned is keyframe ``k``."""
        import av

        if self._container is None:
            self._container, _ = self._open()
        stream = self._container.streams[self._stream_index]
        self._pending = None
        if self._pts_to_index is not None:
            try:
                pts = int(self.index.pts[k])
                self._container.seek(pts, stream=stream, backward=True, any_frame=False)
                stream.codec_context.flush_buffers()
                self._frames = self._decoded(self._container, stream)
                first = next(self._frames, None)
                if first is not None and self._frame_index(first, k) <= k:
                    self._pending, self._start, self.position = first, k, k
                    self._counter = self._frame_index(first, k)
                    return
            except av.error.FFmpegError:
                pass
        # No timestamps, or the container seeked past the target: decode from the start.
        self._container.close()
        self._container, stream = self._open(prime=False)
        self._frames = self._decoded(self._container, stream)
        self._start, self._counter, self.position = k, 0, 0 if k == 0 else None

    def next_frame(self) -> tuple[int, Any]:
        """Decode the next frame at or after the seek target; return ``(index, frame)``."""
        if self._frames is None:
            self.seek(0)
        while True:
            if self._pending is not None:
                frame, self._pending = self._pending, None
            else:
                frame = next(self._frames, None)  # type: ignore[arg-type]
            if frame is None:
                expected = self._start if self.position is None else self.position
                self.position = None
                raise self._stopped(max(expected, self._counter))
            idx = self._frame_index(frame, self._counter)
            self._counter = idx + 1
            if idx >= self._start:  # earlier: leading frames of an open GOP, or decoding from 0
                self.position = idx + 1
                return idx, frame

    def to_rgb(self, frame: Any) -> np.ndarray:
        """Convert a decoded PyAV frame to uint8 RGB (H, W, 3)."""
        return frame.to_ndarray(format="rgb24")

    def keep(self, frame: Any) -> Any:
        """Cache the decoded frame itself; it is converted only if used."""
        return frame

    def close(self) -> None:
        """Release the decoder."""
        if self._container is not None:
            self._container.close()
        self._reset()


class OpenCVBackend(FrameSource):
    """Decode with OpenCV's FFmpeg backend; frame numbering and keyframes come from PyAV."""

    name = "opencv"

    def __init__(self, path: Path, index: PacketIndex, meta: dict[str, Any]):
        self._init_meta(path, index, meta)
        self._reset()

    def _reset(self) -> None:
        self._cap: Any = None
        self.position = None

    def seek(self, k: int, target: int | None = None) -> None:
        """Position the decoder on keyframe ``k``, or 16 frames later if ``target`` allows."""
        import cv2

        if self._cap is None or k == 0:
            self.close()
            self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
            if not self._cap.isOpened():
                raise VideoError(f"cannot read {self.path} as a video with OpenCV")
        # OpenCV seeks to frame p by jumping to the keyframe before p - 16 and decoding forward;
        # asking for k + 16 lands on keyframe k instead of the one before it.
        position = k + 16 if target is not None and target >= k + 16 else k
        if position > 0:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, position)
        self.position = position

    def next_frame(self) -> tuple[int, Any]:
        """Decode (grab) the next frame; return ``(index, capture)``."""
        if self._cap is None or self.position is None:
            self.seek(0)
        idx = self.position or 0
        if idx >= self.n_frames or not self._cap.grab():
            self.position = None
            raise self._stopped(idx)
        self.position = idx + 1
        return idx, self._cap

    def to_rgb(self, cap: Any) -> np.ndarray:
        """Convert the frame just grabbed to uint8 RGB (H, W, 3)."""
        import cv2

        ok, bgr = cap.retrieve()
        if not ok:
            raise VideoError(f"video file {self.path}: OpenCV could not convert a decoded frame")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the capture."""
        if self._cap is not None:
            self._cap.release()
        self._reset()
