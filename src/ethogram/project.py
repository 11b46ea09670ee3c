"""A project folder: behaviors, videos, labels and models (compatible with DeepEthogram's).

Layout::

    <project>/
      project_config.yaml       DeepEthogram's keys (project.name, project.class_names, ...)
                                plus an ``ethogram:`` section with the preset and setting overrides
      DATA/<stem>/<video>, record.yaml, <stem>_labels.csv, <stem>_outputs.h5, <stem>_predictions.csv
      models/<YYMMDD_HHMMSS>_<stage>_<tag>/

This module imports neither torch nor Qt.

Examples
--------
>>> project = Project.create("mice_project", ["background", "groom", "rear"])  # doctest: +SKIP
>>> project.add_video("session1.mp4", labels="session1_labels.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ethogram.errors import EthogramError, ProjectError
from ethogram.io.atomic import atomic_write_text
from ethogram.io.labels import LabelTable, empty_labels, fill_background, read_labels, write_labels
from ethogram.video_record import (  # noqa: F401  (part of this module's API)
    VIDEO_SUFFIXES,
    VideoRecord,
    labels_for_video,
    write_record,
)

CONFIG_NAME = "project_config.yaml"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


def _check_behavior_name(name: str) -> str:
    name = name.strip()
    if not _NAME_RE.match(name):
        raise ProjectError(
            f"behavior name {name!r} is not valid: use letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class Project:
    """A project folder. Use :meth:`create` or :meth:`open`, not the constructor."""

    def __init__(self, root: Path, config: dict[str, Any]):
        self.root = Path(root)
        self.config = config

    # ---- creation and opening -------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        behaviors: list[str],
        name: str | None = None,
        preset: str = "fast",
    ) -> Project:
        """Create a new project folder.

        Parameters
        ----------
        path
            Folder to create (must not exist, or be empty).
        behaviors
            Behavior names; ``background`` is added first if missing.
        name
            Project name (default: the folder name).
        preset
            Settings preset stored in the project (``fast``, ``medium``, ``slow``).

        Returns
        -------
        Project
            The new project.
        """
        from ethogram.config import resolve_preset

        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise ProjectError(f"{root}: already exists and is not an empty folder")
        names = [_check_behavior_name(b) for b in behaviors if b.strip()]
        names = ["background"] + [b for b in names if b != "background"]
        if len(names) < 2:
            raise ProjectError("a project needs at least one behavior besides 'background'")
        if len(set(names)) != len(names):
            dupes = sorted({b for b in names if names.count(b) > 1})
            raise ProjectError(f"duplicate behavior names {dupes}")
        config = {
            "project": {
                "name": name or root.name,
                "class_names": names,
                "data_path": "DATA",
                "model_path": "models",
                "config_file": CONFIG_NAME,
                "labeler": None,
            },
            "ethogram": {"preset": resolve_preset(preset), "settings": {}},
        }
        root.mkdir(parents=True, exist_ok=True)
        (root / "DATA").mkdir(exist_ok=True)
        (root / "models").mkdir(exist_ok=True)
        project = cls(root, config)
        project.save()
        return project

    @classmethod
    def open(cls, path: str | Path) -> Project:
        """Open an ethogram or DeepEthogram project folder (or its ``project_config.yaml``)."""
        path = Path(path)
        root = path.parent if path.name == CONFIG_NAME else path
        config_path = root / CONFIG_NAME
        if not root.exists():
            raise ProjectError(f"{root}: project folder not found")
        if not config_path.is_file():
            raise ProjectError(
                f"{root}: not a project folder (no {CONFIG_NAME}); create one with `ethogram new`"
            )
        try:
            config = yaml.safe_load(config_path.read_text())
        except yaml.YAMLError as exc:
            raise ProjectError(f"{config_path}: not valid YAML ({exc})") from None
        if not isinstance(config, dict) or not isinstance(config.get("project"), dict):
            raise ProjectError(f"{config_path}: expected a 'project:' section, found none")
        names = config["project"].get("class_names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ProjectError(f"{config_path}: 'project.class_names' must be a list of behaviors")
        if names[0] != "background":
            raise ProjectError(
                f"{config_path}: the first behavior must be 'background', found {names[0]!r}"
            )
        # DeepEthogram stores an absolute project.path from the machine it ran on: the folder
        # is where the file is, so that value is never used.
        return cls(root, config)

    def save(self) -> None:
        """Write ``project_config.yaml`` atomically, keeping keys this tool does not use."""
        text = yaml.safe_dump(self.config, sort_keys=False)
        atomic_write_text(self.config_path, text)

    # ---- basic properties -----------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        """Path of ``project_config.yaml``."""
        return self.root / CONFIG_NAME

    @property
    def name(self) -> str:
        """Project name."""
        return str(self.config["project"].get("name") or self.root.name)

    @property
    def behaviors(self) -> list[str]:
        """Behavior names, ``background`` first."""
        return list(self.config["project"]["class_names"])

    @property
    def data_dir(self) -> Path:
        """``DATA/``: one folder per video."""
        return self.root / str(self.config["project"].get("data_path") or "DATA")

    @property
    def models_dir(self) -> Path:
        """``models/``: one folder per trained model."""
        return self.root / str(self.config["project"].get("model_path") or "models")

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r}, behaviors={self.behaviors}, videos={len(self.videos)})"

    # ---- settings -------------------------------------------------------------------------
    @property
    def preset(self) -> str:
        """The project's settings preset."""
        section = self.config.get("ethogram") or {}
        return str(section.get("preset") or "fast")

    def settings(self, preset: str | None = None, overrides: list[str] | None = None):
        """Resolved :class:`ethogram.config.Settings`: preset, then project overrides, then args."""
        from ethogram.config import load_settings

        section = self.config.get("ethogram") or {}
        project_overrides = dict(section.get("settings") or {})
        return load_settings(preset or self.preset, project_overrides, overrides)

    # ---- videos ---------------------------------------------------------------------------
    @property
    def videos(self) -> list[VideoRecord]:
        """The project's videos, sorted by name (folders of DATA/ that hold a video file)."""
        if not self.data_dir.is_dir():
            return []
        records = []
        for folder in sorted(p for p in self.data_dir.iterdir() if p.is_dir()):
            record = VideoRecord(folder.name, folder)
            if record.video_path is not None:
                records.append(record)
        return records

    def video(self, stem: str) -> VideoRecord:
        """The record of the video named ``stem``."""
        for record in self.videos:
            if record.stem == stem:
                return record
        known = [r.stem for r in self.videos]
        raise ProjectError(f"{self.root}: no video named {stem!r}; the project has {known}")

    def check_video(self, video: str | Path, labels: str | Path | None = None) -> LabelTable | None:
        """Check that a video can be added (readable, new name, fitting labels); change nothing.

        Returns
        -------
        LabelTable or None
            The validated labels, if a label file was given.
        """
        from ethogram.io.video import video_info

        video = Path(video)
        if not video.is_file():
            raise ProjectError(f"{video}: video file not found")
        if (self.data_dir / video.stem).exists():
            raise ProjectError(
                f"{self.root}: a video named {video.stem!r} is already in the project"
            )
        info = video_info(video)  # raises VideoError for unreadable files
        if labels is None:
            return None
        return read_labels(labels, behaviors=self.behaviors, n_frames=info.n_frames)

    def add_video(
        self,
        video: str | Path,
        labels: str | Path | None = None,
        link: bool = False,
    ) -> VideoRecord:
        """Add a video (copied, or symlinked with ``link``), with optional labels.

        Everything is checked before anything is written: an unreadable video, labels of the
        wrong length or with other behaviors raise an error and leave the project unchanged.

        Parameters
        ----------
        video
            Video file to add.
        labels
            DeepEthogram label CSV for this video.
        link
            Symlink the video instead of copying it.

        Returns
        -------
        VideoRecord
            The new video's record.
        """
        video = Path(video)
        table = self.check_video(video, labels)
        stem = video.stem
        folder = self.data_dir / stem
        folder.mkdir(parents=True)
        try:
            target = folder / video.name
            if link:
                os.symlink(video.resolve(), target)
            else:
                shutil.copy2(video, target)
            record = VideoRecord(stem, folder)
            if table is not None:
                write_labels(record.labels_path, table.values, self.behaviors, backup=False)
            write_record(record, video.name)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return record

    def remove_video(self, stem: str) -> Path:
        """Remove a video's folder from the project; it is moved to ``DATA/.removed/``.

        Returns
        -------
        pathlib.Path
            Where the folder was moved (labels are never deleted outright).
        """
        record = self.video(stem)
        trash = self.data_dir / ".removed"
        trash.mkdir(exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        dest = trash / f"{stem}.{stamp}"
        shutil.move(str(record.folder), dest)
        return dest

    # ---- labels ---------------------------------------------------------------------------
    def read_labels(self, stem: str) -> LabelTable | None:
        """The labels of video ``stem`` (columns in project order), or None if it has none."""
        record = self.video(stem)
        if not record.has_labels:
            return None
        return read_labels(record.labels_path, behaviors=self.behaviors)

    def write_labels(self, stem: str, values: np.ndarray) -> Path | None:
        """Replace the labels of video ``stem`` (the old file is backed up).

        Returns the backup's path, if a file was replaced.
        """
        record = self.video(stem)
        n_frames = record.info().n_frames
        if len(values) != n_frames:
            raise ProjectError(
                f"{record.labels_path}: labels have {len(values)} rows, video has {n_frames} frames"
            )
        saved = write_labels(record.labels_path, values, self.behaviors)
        write_record(record, record.video_path.name)
        return saved

    def labeled_videos(self) -> list[VideoRecord]:
        """Videos that have a label file."""
        return [r for r in self.videos if r.has_labels]

    # ---- behaviors ------------------------------------------------------------------------
    def _rewrite_all_labels(self, transform, new_behaviors: list[str]) -> None:
        """Validate every label file, transform all, then write them (with backups)."""
        tables = []
        for record in self.labeled_videos():
            tables.append((record, read_labels(record.labels_path, behaviors=self.behaviors)))
        new_values = [(record, transform(table.values)) for record, table in tables]
        for record, values in new_values:
            write_labels(record.labels_path, values, new_behaviors)
        self.config["project"]["class_names"] = new_behaviors
        self.save()

    def add_behavior(self, name: str, absent: bool = False) -> None:
        """Add a behavior. Existing labels get a new column of -1 (not yet labeled).

        With ``absent``, frames already labeled get 0 instead (you assert the behavior does not
        occur in them).
        """
        name = _check_behavior_name(name)
        if name in self.behaviors:
            raise ProjectError(f"{self.root}: behavior {name!r} already exists")

        def transform(values: np.ndarray) -> np.ndarray:
            column = np.full((len(values), 1), -1, dtype=np.int8)
            if absent:
                column[(values >= 0).all(axis=1)] = 0
            return np.concatenate([values, column], axis=1)

        self._rewrite_all_labels(transform, self.behaviors + [name])

    def rename_behavior(self, old: str, new: str) -> None:
        """Rename a behavior in the project and in every label file."""
        if old not in self.behaviors:
            raise ProjectError(f"{self.root}: no behavior {old!r}; behaviors are {self.behaviors}")
        if old == "background":
            raise ProjectError("'background' cannot be renamed: it means 'no other behavior'")
        new = _check_behavior_name(new)
        if new in self.behaviors:
            raise ProjectError(f"{self.root}: behavior {new!r} already exists")
        names = [new if b == old else b for b in self.behaviors]
        self._rewrite_all_labels(lambda v: v, names)

    def remove_behavior(self, name: str) -> None:
        """Remove a behavior and its label column; background is recomputed where needed."""
        if name not in self.behaviors:
            raise ProjectError(f"{self.root}: no behavior {name!r}; behaviors are {self.behaviors}")
        if name == "background":
            raise ProjectError("'background' cannot be removed: it means 'no other behavior'")
        if len(self.behaviors) <= 2:
            raise ProjectError(f"cannot remove {name!r}: a project needs at least one behavior")
        index = self.behaviors.index(name)

        def transform(values: np.ndarray) -> np.ndarray:
            kept = np.delete(values, index, axis=1)
            labeled = (kept >= 0).all(axis=1)
            filled = fill_background(kept)
            kept[labeled, 0] = filled[labeled, 0]
            return kept

        self._rewrite_all_labels(transform, [b for b in self.behaviors if b != name])

    # ---- models ---------------------------------------------------------------------------
    def new_model_dir(self, stage: str, tag: str = "") -> Path:
        """Create and return ``models/<YYMMDD_HHMMSS>_<stage>[_<tag>]/``."""
        stamp = datetime.now().strftime("%y%m%d_%H%M%S")
        name = f"{stamp}_{stage}" + (f"_{tag}" if tag else "")
        path = self.models_dir / name
        suffix = 1
        while path.exists():
            suffix += 1
            path = self.models_dir / f"{name}_{suffix}"
        path.mkdir(parents=True)
        return path

    def model_dirs(self, stage: str | None = None) -> list[Path]:
        """Model folders (oldest first), optionally only those of ``stage``."""
        if not self.models_dir.is_dir():
            return []
        dirs = []
        for path in sorted(p for p in self.models_dir.iterdir() if p.is_dir()):
            parts = path.name.split("_")
            if stage is None or (len(parts) >= 3 and parts[2] == stage):
                dirs.append(path)
        return dirs

    def latest_model(self, stage: str) -> Path | None:
        """The newest finished model of ``stage`` (a folder with ``best.pt``), or None."""
        finished = [p for p in self.model_dirs(stage) if (p / "best.pt").is_file()]
        return finished[-1] if finished else None


def open_project(path: str | Path) -> Project:
    """Open a project folder (alias of :meth:`Project.open`)."""
    return Project.open(path)


__all__ = [
    "EthogramError",
    "Project",
    "VideoRecord",
    "empty_labels",
    "labels_for_video",
    "open_project",
]
