"""One video's files in a project folder (``DATA/<stem>/``), in DeepEthogram's layout.

``record.yaml`` names the video and its label and outputs files; :class:`VideoRecord` finds them.
This module imports neither torch nor Qt.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ethogram.errors import ProjectError, VideoError
from ethogram.io.atomic import atomic_write_text, temporary_prefix

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv")
"""File name endings taken for videos (compared in lower case)."""

MIN_FRAMES = 2
"""Fewest frames a video may have (optical flow needs a pair of frames)."""
_IMAGE_CODECS = ("png", "mjpeg", "bmp", "tiff", "webp", "jpeg2000")

__all__ = [
    "MIN_FRAMES",
    "VIDEO_SUFFIXES",
    "VideoRecord",
    "check_video_source",
    "labels_for_video",
    "stage_video",
    "write_record",
]


@dataclass
class VideoRecord:
    """The files of one video in a project (``DATA/<stem>/``)."""

    stem: str
    folder: Path

    @property
    def video_path(self) -> Path | None:
        """The video file (named in record.yaml, else the first video file in the folder)."""
        record = self.record
        name = (record.get("rgb") or {}).get("default") if isinstance(record, dict) else None
        if name and (self.folder / name).exists():
            return self.folder / name
        for path in sorted(self.folder.iterdir()):
            if path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith("."):
                return path
        return None

    @property
    def record_path(self) -> Path:
        """``record.yaml``: the files of this video and their roles."""
        return self.folder / "record.yaml"

    @property
    def record(self) -> dict[str, Any]:
        """Contents of record.yaml ({} if absent or unreadable)."""
        if not self.record_path.is_file():
            return {}
        try:
            data = yaml.safe_load(self.record_path.read_text())
        except yaml.YAMLError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def labels_path(self) -> Path:
        """``<stem>_labels.csv`` (may not exist yet)."""
        return self.folder / f"{self.stem}_labels.csv"

    @property
    def outputs_path(self) -> Path:
        """``<stem>_outputs.h5``: features and probabilities."""
        return self.folder / f"{self.stem}_outputs.h5"

    @property
    def predictions_path(self) -> Path:
        """``<stem>_predictions.csv``."""
        return self.folder / f"{self.stem}_predictions.csv"

    @property
    def has_labels(self) -> bool:
        """True if a label file exists."""
        return self.labels_path.is_file()

    def info(self):
        """Frame count, fps and size of the video (:class:`ethogram.io.video.VideoInfo`)."""
        from ethogram.io.video import video_info

        if self.video_path is None:
            raise ProjectError(f"{self.folder}: no video file in this folder")
        return video_info(self.video_path)


def write_record(record: VideoRecord, video_name: str) -> None:
    """Write ``record.yaml`` in DeepEthogram's layout for a video folder."""

    def entry(path: Path) -> dict[str, Any]:
        return {
            "all": [path.name] if path.exists() else [],
            "default": path.name if path.exists() else None,
        }

    data = {
        "key": record.stem,
        "rgb": {"all": [video_name], "default": video_name},
        "label": entry(record.labels_path),
        "output": entry(record.outputs_path),
        "flow": {"all": [], "default": None},
        "keypoint": {"all": [], "default": None},
    }
    atomic_write_text(record.record_path, yaml.safe_dump(data, sort_keys=False))


def labels_for_video(video: Path) -> Path | None:
    """Find ``<stem>_labels.csv`` beside a video or in a sibling ``labels/`` folder."""
    video = Path(video)
    candidates = [
        video.parent / f"{video.stem}_labels.csv",
        video.parent.parent / "labels" / f"{video.stem}_labels.csv",
        video.parent / "labels" / f"{video.stem}_labels.csv",
    ]
    for path in candidates:
        if path.is_file():
            return path
    return None


def check_video_source(video: str | Path):
    """Check that ``video`` (a file, or a folder of images) can be a project's video.

    Returns
    -------
    ethogram.io.video.VideoInfo
        Its frame count, frame rate and size.

    Raises
    ------
    ProjectError, VideoError
        Missing, unreadable, an image, or fewer than :data:`MIN_FRAMES` frames.
    """
    from ethogram.io.image_folder import IMAGE_SUFFIXES, list_images
    from ethogram.io.video import video_info

    video = Path(video)
    if video.is_dir():
        if not list_images(video):
            raise ProjectError(
                f"{video}: a folder with no images; expected a video file, or a folder of "
                f"{', '.join(IMAGE_SUFFIXES)} images (one per frame)"
            )
    elif not video.is_file():
        raise ProjectError(f"{video}: video file (or folder of images) not found")
    info = video_info(video)  # raises VideoError for unreadable files
    if info.n_frames < MIN_FRAMES and info.codec in _IMAGE_CODECS and not video.is_dir():
        raise VideoError(
            f"{video}: is a single {info.codec.upper()} image, not a video; expected a video "
            "file, or a folder of images (one per frame)"
        )
    if info.n_frames < MIN_FRAMES:
        raise VideoError(
            f"{video}: has {info.n_frames} frame(s); expected a video of at least "
            f"{MIN_FRAMES} frames"
        )
    return info


def stage_video(video: Path, data_dir: Path, link: bool = False) -> Path:
    """Copy (or symlink) ``video`` into a new hidden folder of ``data_dir``; return the folder.

    The folder is named like a temporary of ``<stem>`` (see :mod:`ethogram.io.atomic`), so one
    left by a killed process is recognised and removed later.
    """
    video = Path(video)
    folder = Path(
        tempfile.mkdtemp(prefix=temporary_prefix(video.stem), suffix=".tmp", dir=data_dir)
    )
    os.chmod(folder, 0o777 & ~_umask())
    target = folder / video.name
    try:
        if link:
            os.symlink(video.resolve(), target, target_is_directory=video.is_dir())
        elif video.is_dir():
            shutil.copytree(video, target)
        else:
            shutil.copy2(video, target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
