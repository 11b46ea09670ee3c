"""Read and write videos: frame-exact random access, fast sequential chunks, atomic writes.

:class:`VideoReader` opens a video file (.mp4, .avi, .mov, .mkv, anything ffmpeg reads) or a folder
of images as a read-only array of uint8 RGB frames (T, H, W, 3)::

    with open_video("mouse.mp4") as video:
        first, last = video[0], video[-1]
        for start, frames in video.iter_chunks(256):  # fast sequential decoding
            ...

Frames are numbered by presentation timestamp from one demux pass, so ``len(video)`` is the true
number of decodable frames even when the container's count is wrong or missing, and ``video[i]``
is exactly the ``i``-th frame of sequential decoding. Random access seeks to the keyframe before
the target and decodes forward; an LRU cache makes stepping backwards cheap, and the decoder
position is kept so that reading ``i`` then ``i + 1`` does not seek.

Truncated files (a recording or copy cut short): an MP4/MOV whose ``moov`` index was never written
(it comes last in most recordings) cannot be read and raises a VideoError saying it is truncated;
otherwise (MKV, AVI, MP4 with the index first) the reader opens, ``len`` counts the complete frames
before the first missing one (all of them decode), and ``truncated`` is True when detectable.

:class:`VideoWriter` and :func:`write_video` (defined in :mod:`ethogram.io.video_writer`,
re-exported here) write H.264 (yuv420p) in .mp4/.mov/.mkv and MJPEG in .avi, to a temporary name
renamed into place on success. Both store colour at half resolution, which needs even sizes: odd
widths/heights are padded by repeating the last row/column (see ``writer.frame_size``).
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.errors import VideoError
from ethogram.io.image_folder import ImageFolderBackend
from ethogram.io.video_backends import (
    OpenCVBackend,
    PyAVBackend,
    build_index,
    keyframe_before,
)
from ethogram.io.video_writer import VideoWriter, write_video

__all__ = [
    "BACKENDS",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "open_video",
    "read_first_frame",
    "read_video",
    "video_info",
    "write_video",
]

BACKENDS = ("pyav", "opencv")
#: The frame cache never holds more than this many bytes, whatever ``cache_size`` says.
CACHE_MAX_BYTES = 512 * 2**20


@dataclass(frozen=True)
class VideoInfo:
    """Basic facts about a video (or image folder)."""

    path: Path
    n_frames: int
    fps: float
    height: int
    width: int
    codec: str


class VideoReader:
    """A video file or image folder as a read-only sequence of uint8 RGB frames (H, W, 3).

    Parameters
    ----------
    path
        Video file, or folder of .png/.jpg/.tif/.bmp images (sorted naturally, one per frame).
    backend
        ``"auto"`` (= ``"pyav"``), ``"pyav"`` or ``"opencv"`` for files; folders are always read
        as images.
    cache_size
        Number of recently decoded frames kept in memory (capped at 512 MiB).
    fps
        Frame rate to report instead of the container's (image folders: default 30).

    Raises
    ------
    VideoError
        The path is missing, empty, not a video, a truncated MP4 without index, or a folder
        without images.

    Notes
    -----
    A reader is not thread-safe; open one per thread or worker process (readers pickle by path).
    """

    def __init__(
        self,
        path: str | Path,
        backend: str = "auto",
        cache_size: int = 128,
        fps: float | None = None,
    ):
        self.path = Path(path)
        self.backend = backend
        self.truncated = False
        self._fps_override = fps
        self._cache: OrderedDict[int, Any] = OrderedDict()  # RGB arrays or backend handles
        self._stats = {"seeks": 0, "decoded": 0, "cache_hits": 0}
        self._closed = False
        if fps is not None and not (math.isfinite(fps) and fps > 0):
            raise VideoError(f"fps for {self.path} must be a positive number, got {fps!r}")
        if not self.path.exists():
            raise VideoError(f"video file not found: {self.path}")
        if self.path.is_dir():
            if backend not in ("auto", "images"):
                raise VideoError(
                    f"{self.path} is a folder (read as images), but backend {backend!r} "
                    "reads video files; use backend='auto'"
                )
            self._backend: Any = ImageFolderBackend(self.path, fps)
            self.backend = "images"
        else:
            self._backend = self._open_file(backend)
        frame_bytes = max(self._backend.height * self._backend.width * 3, 1)
        self.cache_size = max(1, min(int(cache_size), CACHE_MAX_BYTES // frame_bytes))
        try:
            first = self._read(0)
        except BaseException:
            self._backend.close()
            raise
        # Trust the decoded frame over container metadata for the size.
        self._height, self._width = int(first.shape[0]), int(first.shape[1])

    def _open_file(self, backend: str) -> Any:
        if backend not in ("auto", *BACKENDS):
            raise VideoError(
                f"unknown video backend {backend!r} for {self.path}: expected one of "
                f"'auto', {', '.join(repr(b) for b in BACKENDS)}"
            )
        index, meta = build_index(self.path)
        self.truncated = index.truncated
        self.backend = "pyav" if backend == "auto" else backend
        if self.backend == "opencv":
            return OpenCVBackend(self.path, index, meta)
        return PyAVBackend(self.path, index, meta)

    # ------------------------------------------------------------------ properties
    @property
    def fps(self) -> float:
        """Frames per second (the ``fps`` argument if given, else the container's)."""
        return float(self._fps_override or self._backend.fps)

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return self._height

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return self._width

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(T, H, W, 3)."""
        return (len(self), self._height, self._width, 3)

    @property
    def codec(self) -> str:
        """Codec name as ffmpeg spells it (``"h264"``), or ``"images"`` for a folder."""
        return str(self._backend.codec)

    @property
    def keyframes(self) -> np.ndarray:
        """Indexes of the frames decoding can start from (random access cost grows with the gap)."""
        return self._backend.keyframes.copy()

    @property
    def decode_stats(self) -> dict[str, int]:
        """Counters since opening: ``seeks``, ``decoded`` frames, ``cache_hits``."""
        return dict(self._stats)

    def info(self) -> VideoInfo:
        """A :class:`VideoInfo` for this video."""
        return VideoInfo(self.path, len(self), self.fps, self.height, self.width, self.codec)

    def __len__(self) -> int:
        return int(self._backend.n_frames)

    def __repr__(self) -> str:
        return (
            f"VideoReader({str(self.path)!r}, backend={self.backend!r}, n_frames={len(self)}, "
            f"size={self.width}x{self.height}, fps={self.fps:.3f})"
        )

    # ------------------------------------------------------------------ random access
    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"VideoReader for {self.path} is closed")

    def _cache_put(self, index: int, frame: np.ndarray) -> None:
        self._cache[index] = frame
        self._cache.move_to_end(index)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _read(self, i: int, cache_back: bool = True) -> np.ndarray:
        """Frame ``i`` (0 <= i < len), from the cache or decoded; the array is the cached one."""
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            self._stats["cache_hits"] += 1
            if not isinstance(cached, np.ndarray):
                cached = self._cache[i] = self._backend.to_rgb(cached)
            return cached
        backend = self._backend
        k = keyframe_before(backend.keyframes, i)
        # Cache the frames decoded on the way (converted lazily when the backend allows), so
        # stepping back is cheap.
        lowest_kept = max(k, i - self.cache_size + 1) if cache_back else i
        pos = backend.position
        if pos is None or i < pos or k > pos:
            backend.seek(k, lowest_kept)
            self._stats["seeks"] += 1
        while True:
            idx, handle = backend.next_frame()
            self._stats["decoded"] += 1
            if idx == i:
                frame = backend.to_rgb(handle)
                self._cache_put(i, frame)
                return frame
            if idx > i:
                raise VideoError(
                    f"video file {self.path}: frame {i} could not be decoded (the decoder "
                    f"skipped from before it to frame {idx}; the file may be corrupt)"
                )
            if idx >= lowest_kept and idx not in self._cache:
                self._cache_put(idx, backend.keep(handle))

    def _normalize_index(self, index: Any) -> int:
        n = len(self)
        try:
            i = int(index)
        except TypeError:
            raise TypeError(
                f"video frames are indexed by int or slice, got {type(index).__name__}"
            ) from None
        if isinstance(index, (bool, np.bool_)) or i != index:
            raise TypeError(f"video frame index must be an integer, got {index!r}")
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"frame {index} is out of range for {self.path} ({n} frames)")
        return i

    def __getitem__(self, index: int | slice) -> np.ndarray:
        """``reader[i]`` -> (H, W, 3); ``reader[a:b:step]`` -> (N, H, W, 3). Both are copies."""
        self._check_open()
        if isinstance(index, slice):
            indexes = range(*index.indices(len(self)))
            out = np.empty((len(indexes), self._height, self._width, 3), np.uint8)
            # Decode in increasing order whatever the step sign.
            order = range(len(indexes)) if indexes.step > 0 else range(len(indexes) - 1, -1, -1)
            for j in order:
                out[j] = self._read(indexes[j], cache_back=abs(indexes.step) == 1)
            return out
        return self._read(self._normalize_index(index)).copy()

    # ------------------------------------------------------------------ sequential
    def _iter_range(self, start: int, stop: int) -> Iterator[tuple[int, np.ndarray]]:
        expected = start
        for idx, frame in self._backend.iter_frames(start, stop):
            if idx != expected:
                raise VideoError(
                    f"video file {self.path}: frame {expected} could not be decoded (the "
                    f"decoder skipped to frame {idx}; the file may be corrupt)"
                )
            expected += 1
            yield idx, frame
        if expected < stop:
            raise VideoError(
                f"video file {self.path}: decoding stopped at frame {expected}, expected "
                f"{stop} frames (the file is corrupt or truncated)"
            )

    def _range(self, start: int, stop: int | None) -> tuple[int, int]:
        start, stop, _ = slice(start, stop).indices(len(self))
        return start, max(start, stop)

    def iter_chunks(
        self, chunk_size: int = 256, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Decode ``[start, stop)`` sequentially, in chunks.

        Parameters
        ----------
        chunk_size
            Frames per chunk (the last chunk may be shorter).
        start, stop
            Frame range, Python slice semantics (negative values count from the end).

        Yields
        ------
        first_index, frames
            Index of the chunk's first frame and a uint8 array (n, H, W, 3) that is the caller's
            to keep: its memory is reused for a later chunk only once nothing refers to it.
        """
        self._check_open()
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        start, stop = self._range(start, stop)
        buffer: np.ndarray | None = None
        # Chunks already yielded. Fresh chunks of a few hundred MB cost as much in page faults as
        # decoding; a chunk nobody refers to any more (refcount) is refilled instead.
        spares: list[np.ndarray] = []
        first = start
        for idx, frame in self._iter_range(start, stop):
            if buffer is None:
                first = idx
                shape = (min(chunk_size, stop - idx), *frame.shape)
                buffer = _unreferenced(spares, shape)
                if buffer is None:
                    buffer = np.empty(shape, np.uint8)
            buffer[idx - first] = frame
            if idx - first + 1 == len(buffer):
                yield first, buffer
                spares = [buffer, *spares[:1]]
                buffer = None

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield every frame in order (sequential decoding, independent of random access)."""
        self._check_open()
        for _, frame in self._iter_range(0, len(self)):
            yield frame

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Release the decoder and the cache. Safe to call twice."""
        if not self._closed:
            self._backend.close()
            self._cache.clear()
            self._closed = True

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        # Decoders cannot be pickled: a copy (e.g. in a DataLoader worker) reopens the file.
        backend = "auto" if self.backend == "images" else self.backend
        return (VideoReader, (self.path, backend, self.cache_size, self._fps_override))


def _unreferenced(arrays: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray | None:
    """Pop an array of ``shape`` from ``arrays`` that nothing else refers to, if any."""
    for j in range(len(arrays)):
        # References: the list, and getrefcount's argument. Views and tensors add their own.
        if arrays[j].shape == shape and sys.getrefcount(arrays[j]) <= 2:
            return arrays.pop(j)
    return None


def open_video(path: str | Path, **kwargs: Any) -> VideoReader:
    """Open a video file or image folder; keyword arguments go to :class:`VideoReader`."""
    return VideoReader(path, **kwargs)


def read_first_frame(path: str | Path) -> np.ndarray:
    """The first frame (H, W, 3 uint8) of a video file or image folder, without indexing it all.

    Opening a :class:`VideoReader` demuxes the whole file first (to number the frames exactly),
    which takes longer for longer videos; this decodes only what comes first, so a viewer can
    show a frame at once while the reader is being opened.

    Raises
    ------
    VideoError
        The path is missing, empty, not a video, or has no decodable frame.
    """
    from ethogram.io.video_backends import PyAVBackend, open_av

    path = Path(path)
    if not path.exists():
        raise VideoError(f"video file not found: {path}")
    if path.is_dir():
        images = ImageFolderBackend(path)
        return images.to_rgb(images.files[0])
    if path.stat().st_size == 0:
        raise VideoError(f"video file {path} is empty (0 bytes)")
    container = open_av(path)
    try:
        if not container.streams.video:
            raise VideoError(f"{path}: has no video stream")
        for frame in PyAVBackend._decoded(container, container.streams.video[0]):
            return frame.to_ndarray(format="rgb24")
    finally:
        container.close()
    raise VideoError(f"{path}: no frame could be decoded")


def video_info(path: str | Path) -> VideoInfo:
    """Frame count, frame rate, size and codec of a video file or image folder."""
    with VideoReader(path, cache_size=1) as reader:
        return reader.info()


def read_video(
    path: str | Path,
    size: int | tuple[int, int] | None = None,
    start: int = 0,
    stop: int | None = None,
) -> np.ndarray:
    """Decode a whole video (or ``[start, stop)``) into one uint8 array (T, H, W, 3).

    Parameters
    ----------
    path
        Video file or image folder.
    size
        If given, every frame is resized (``cv2.INTER_AREA``) to ``(size, size)``, or to
        ``(height, width)`` when a pair.
    start, stop
        Frame range, Python slice semantics.
    """
    import cv2

    with VideoReader(path, cache_size=1) as reader:
        start, stop = reader._range(start, stop)
        if size is None:
            height, width = reader.height, reader.width
        else:
            height, width = (size, size) if isinstance(size, int) else size
        out = np.empty((stop - start, height, width, 3), np.uint8)
        for idx, frame in reader._iter_range(start, stop):
            if size is not None:
                frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
            out[idx - start] = frame
    return out
