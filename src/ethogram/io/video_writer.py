"""Write videos atomically: H.264 (yuv420p) in .mp4/.mov/.mkv, MJPEG in .avi.

:class:`VideoWriter` writes to a temporary name renamed into place on success. Both default
codecs store colour at half resolution, which needs even sizes: odd widths/heights are padded by
repeating the last row/column (see ``writer.frame_size``). Re-exported by :mod:`ethogram.io.video`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.errors import VideoError
from ethogram.io.atomic import atomic_path

__all__ = ["VideoWriter", "write_video"]

_CONTAINER_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}
_DEFAULT_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".avi": "mjpeg"}
_CRF_CODECS = ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1")
_PIX_FMT_PREFERENCE = ("yuv420p", "yuvj420p", "yuv444p", "rgb24", "bgr24", "bgr0", "gray")


class VideoWriter:
    """Write frames to a video file atomically (temporary name, renamed on success).

    Parameters
    ----------
    path
        Destination .mp4, .mov, .mkv or .avi.
    fps
        Frame rate.
    codec
        ffmpeg encoder name; None picks ``libx264`` (yuv420p) for .mp4/.mov/.mkv and ``mjpeg`` for
        .avi.
    crf
        Quality for H.264/H.265/VP9/AV1 (0 = lossless luma, 18 = visually lossless, 23 = ffmpeg's
        default). For MJPEG it maps to the JPEG quantizer ``2 + crf // 6``.

    Notes
    -----
    Frames are uint8 RGB, (H, W, 3) or (N, H, W, 3), all the same size. With a 4:2:0 pixel
    format an odd width or height is padded by one repeated row/column.
    """

    def __init__(self, path: str | Path, fps: float, codec: str | None = None, crf: int = 18):
        import av

        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in _CONTAINER_FORMATS:
            raise VideoError(
                f"cannot write video {self.path}: expected a file ending in "
                f"{', '.join(_CONTAINER_FORMATS)}, got {suffix or 'no extension'!r}"
            )
        try:
            fps_value = float(fps)
        except (TypeError, ValueError):
            fps_value = math.nan
        if not (math.isfinite(fps_value) and fps_value > 0):
            raise VideoError(f"cannot write video {self.path}: fps must be > 0, got {fps!r}")
        self.fps = fps if isinstance(fps, Fraction) else fps_value
        self.codec = codec or _DEFAULT_CODECS[suffix]
        self.crf = int(crf)
        try:
            encoder = av.codec.Codec(self.codec, "w")
        except Exception as exc:
            raise VideoError(
                f"cannot write video {self.path}: unknown video encoder {self.codec!r}"
            ) from exc
        formats = [f.name for f in (encoder.video_formats or [])]
        # MJPEG wants full-range ("j") YUV; the others limited-range yuv420p when they have it.
        preference = (
            ("yuvj420p", *_PIX_FMT_PREFERENCE) if self.codec == "mjpeg" else _PIX_FMT_PREFERENCE
        )
        self.pix_fmt = next((f for f in preference if f in formats), None)
        if self.pix_fmt is None:
            raise VideoError(
                f"cannot write video {self.path}: encoder {self.codec!r} supports none of "
                f"{', '.join(_PIX_FMT_PREFERENCE)}"
            )
        self.frame_size: tuple[int, int] | None = None  # (height, width) written
        self.n_written = 0
        self._input_size: tuple[int, int] | None = None
        self._format = _CONTAINER_FORMATS[suffix]
        self._container: Any = None
        self._stream: Any = None
        self._done = True  # until the temporary file exists
        self._stack = contextlib.ExitStack()
        try:
            self._tmp = self._stack.enter_context(atomic_path(self.path))
        except OSError as exc:
            raise VideoError(f"cannot write video {self.path}: {exc.strerror or exc}") from exc
        self._done = False

    def _start(self, height: int, width: int) -> None:
        import av

        pad = "420" in self.pix_fmt
        self._input_size = (height, width)
        self.frame_size = (height + height % 2, width + width % 2) if pad else (height, width)
        self._container = av.open(str(self._tmp), mode="w", format=self._format)
        rate = Fraction(self.fps).limit_denominator(100_000)
        stream = self._container.add_stream(self.codec, rate=rate)
        stream.height, stream.width = self.frame_size
        stream.pix_fmt = self.pix_fmt
        if self.codec in _CRF_CODECS:
            stream.options = {"crf": str(self.crf)}
        elif self.codec == "mjpeg":
            q = min(max(2 + self.crf // 6, 2), 31)
            stream.codec_context.qmin = stream.codec_context.qmax = q
        self._stream = stream

    def _encode(self, frame: Any) -> None:
        import av

        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.error.FFmpegError as exc:
            raise VideoError(f"cannot write video {self.path}: {exc.strerror or exc}") from exc

    def write(self, frames: np.ndarray) -> None:
        """Append one frame (H, W, 3) or a batch (N, H, W, 3) of uint8 RGB frames."""
        import av

        if self._done:
            raise ValueError(f"VideoWriter for {self.path} is closed")
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or frames.shape[-1] != 3:
            raise VideoError(
                f"cannot write to {self.path}: expected uint8 RGB frames shaped (H, W, 3) or "
                f"(N, H, W, 3), got {frames.dtype} array of shape {frames.shape}"
            )
        batch = frames[None] if frames.ndim == 3 else frames
        height, width = batch.shape[1:3]
        if self._input_size is None:
            self._start(height, width)
        elif (height, width) != self._input_size:
            raise VideoError(
                f"cannot write to {self.path}: frames must all be {self._input_size[1]}x"
                f"{self._input_size[0]} pixels like the first, got {width}x{height}"
            )
        pad_h, pad_w = self.frame_size[0] - height, self.frame_size[1] - width  # type: ignore[index]
        for frame in batch:
            if pad_h or pad_w:
                frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            self._encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24"))
            self.n_written += 1

    def close(self) -> None:
        """Finish the file and move it into place. Raises VideoError if no frame was written."""
        if self._done:
            return
        try:
            if self._container is None:
                raise VideoError(f"no frames were written to {self.path}; the file was not created")
            self._encode(None)
            self._container.close()
        except BaseException as exc:
            self.abort(exc)
            raise
        self._done = True
        self._stack.close()

    def abort(self, exc: BaseException | None = None) -> None:
        """Stop writing and delete the temporary file; ``path`` is left untouched."""
        if self._done:
            return
        self._done = True
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
        error = exc or RuntimeError("video writing aborted")
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(error), error, error.__traceback__)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            self.close()
        else:
            self.abort(exc)

    def __del__(self) -> None:
        if not getattr(self, "_done", True):
            self.abort()


def write_video(
    path: str | Path, frames: np.ndarray | Iterable[np.ndarray], fps: float, **kwargs: Any
) -> Path:
    """Write ``frames`` ((N, H, W, 3) array or iterable of (H, W, 3)) to ``path``; return the path.

    Keyword arguments go to :class:`VideoWriter` (``codec``, ``crf``).
    """
    with VideoWriter(path, fps, **kwargs) as writer:
        if isinstance(frames, np.ndarray):
            writer.write(frames)
        else:
            for frame in frames:
                writer.write(frame)
    return Path(path)
