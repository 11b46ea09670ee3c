"""A folder of images read as a video (one image per frame, in natural name order).

:class:`ImageFolderBackend` is one of the frame sources behind
:class:`ethogram.io.video.VideoReader` (see :mod:`ethogram.io.video_backends` for the interface).

>>> natural_key("frame10.png") > natural_key("frame2.png")
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ethogram.errors import VideoError
from ethogram.io.video_backends import DEFAULT_FPS, FrameSource

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
DEFAULT_IMAGE_FPS = DEFAULT_FPS

__all__ = ["DEFAULT_IMAGE_FPS", "IMAGE_SUFFIXES", "ImageFolderBackend", "list_images", "read_image"]


def natural_key(name: str) -> list[Any]:
    """Sort key that orders ``frame2.png`` before ``frame10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder: Path) -> list[Path]:
    """Image files of ``folder`` in natural order (``2.png`` before ``10.png``)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image(path: Path) -> np.ndarray:
    """Read one image as uint8 RGB (H, W, 3); 16-bit images are scaled to 8 bits."""
    import cv2

    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise VideoError(f"cannot read image {path}: {exc.strerror or exc}") from exc
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise VideoError(
            f"cannot read image {path}: expected a PNG/JPEG/TIFF/BMP image, got unreadable data"
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class ImageFolderBackend(FrameSource):
    """A folder of images read as a video, one image per frame."""

    name = "images"

    def __init__(self, folder: Path, fps: float | None = None):
        self.path = folder
        self.files = list_images(folder)
        if not self.files:
            raise VideoError(
                f"folder {folder} contains no images: expected files ending in "
                f"{', '.join(IMAGE_SUFFIXES)}, found {len(os.listdir(folder))} other entries"
            )
        self.height, self.width = read_image(self.files[0]).shape[:2]
        self.n_frames = len(self.files)
        self.fps = float(fps) if fps else DEFAULT_IMAGE_FPS
        self.codec = "images"
        self.keyframes = np.arange(self.n_frames, dtype=np.int64)

    def seek(self, k: int, target: int | None = None) -> None:
        """Images need no decoding state: the next frame is ``target`` (or ``k``)."""
        self.position = k if target is None else target

    def next_frame(self) -> tuple[int, Path]:
        """Return ``(index, image path)`` of the next frame."""
        idx = self.position or 0
        self.position = idx + 1
        return idx, self.files[idx]

    def to_rgb(self, file: Path) -> np.ndarray:
        """Read an image, checking it has the size of the first one."""
        image = read_image(file)
        if image.shape[:2] != (self.height, self.width):
            raise VideoError(
                f"image {file} is {image.shape[1]}x{image.shape[0]} pixels, expected "
                f"{self.width}x{self.height} like the first image of folder {self.path}"
            )
        return image

    def keep(self, file: Path) -> Path:
        """Cache the file name; it is read only if used."""
        return file
