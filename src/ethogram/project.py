"""A project folder: behaviors, videos, labels and models (compatible with DeepEthogram's).

Layout::

    <project>/
      project_config.yaml       DeepEthogram's keys (project.name, project.class_names, ...)
                                plus an ``ethogram:`` section with the preset and setting overrides
      DATA/<stem>/<video>, record.yaml, <stem>_labels.csv, <stem>_outputs.h5, <stem>_predictions.csv
      models/<YYMMDD_HHMMSS>_<stage>_<tag>/

Adding and removing videos is in :mod:`ethogram.project_videos`, editing behaviors in
:mod:`ethogram.project_behaviors` (mixins of :class:`Project`). This module imports neither
torch nor Qt.

Examples
--------
>>> project = Project.create("mice_project", ["background", "groom", "rear"])  # doctest: +SKIP
>>> project.add_video("session1.mp4", labels="session1_labels.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ethogram.errors import EthogramError, LabelError, ProjectError
from ethogram.io.atomic import atomic_write_text
from ethogram.io.labels import (
    LabelTable,
    backup_path,
    empty_labels,
    read_labels,
    write_labels,
)
from ethogram.project_behaviors import BehaviorEditing, check_behavior_name
from ethogram.project_config import CONFIG_NAME, read_project_config
from ethogram.project_journal import JOURNAL_NAME, finish_pending
from ethogram.project_lock import ProjectBusyError, project_lock
from ethogram.project_videos import VideoAdding
from ethogram.video_record import (  # noqa: F401  (part of this module's API)
    MIN_FRAMES,
    VIDEO_SUFFIXES,
    VideoRecord,
    check_video_source,
    labels_for_video,
    stage_video,
    write_record,
)

LABELS_LOCK_TIMEOUT_S = 1.0
"""How long a label save waits for a busy project (the GUI saves again soon)."""


def _backup_labels(path: Path) -> None:
    """Copy a label file about to be replaced to ``backups/`` beside it."""
    if path.suffix == ".csv":
        saved = backup_path(path)
        saved.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, saved)


class Project(BehaviorEditing, VideoAdding):
    """A project folder. Use :meth:`create` or :meth:`open`, not the constructor."""

    def __init__(self, root: Path, config: dict[str, Any]):
        self.root = Path(root)
        self.config = config
        self.created_model_dirs: list[Path] = []
        """Model folders made through this object (:meth:`new_model_dir`), oldest first."""

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
        names = [check_behavior_name(b) for b in behaviors if b.strip()]
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
        if not root.exists():
            raise ProjectError(f"{root}: project folder not found")
        if not (root / CONFIG_NAME).is_file():
            raise ProjectError(
                f"{root}: not a project folder (no {CONFIG_NAME}); create one with `ethogram new`"
            )
        if (root / JOURNAL_NAME).is_file():  # a change was killed midway: complete it first
            with contextlib.suppress(ProjectError):  # busy or read-only: read it as it is
                with project_lock(root).hold("open"):
                    finish_pending(root, _backup_labels)
        return cls(root, read_project_config(root / CONFIG_NAME))

    def reload(self) -> None:
        """Read ``project_config.yaml`` again (another process may have changed it)."""
        self.config = read_project_config(self.config_path)

    def lock(self, action: str = "change", timeout: float | None = None):
        """Hold the project's lock for a ``with`` block (see :mod:`ethogram.project_lock`).

        Every method that changes the project takes it; hold it yourself to make several changes
        one step. Re-read the project (:meth:`reload`) inside the block before deciding anything.

        Parameters
        ----------
        action
            What you are doing, shown to commands that find the project busy.
        timeout
            Seconds to wait for another command (default 5, or ``ETHOGRAM_LOCK_TIMEOUT``).

        Raises
        ------
        ProjectBusyError
            If another command holds the lock longer than ``timeout``.
        """
        return project_lock(self.root).hold(action, timeout)

    @contextlib.contextmanager
    def _changing(self, action: str, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock and work on the current project_config.yaml."""
        with self.lock(action, timeout):
            finish_pending(self.root, _backup_labels)  # a change killed midway
            self.reload()
            yield

    def save(self) -> None:
        """Write ``project_config.yaml`` atomically (under the project's lock), keeping keys this
        tool does not use.

        This writes :attr:`config` as this object holds it. To change a setting without undoing
        another command's change, read and write inside the lock::

            with project.lock("settings"):
                project.reload()
                project.config["ethogram"]["settings"]["train"] = {"epochs": 10}
                project.save()
        """
        text = yaml.safe_dump(self.config, sort_keys=False)
        with self.lock("save"):
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
        for folder in sorted(self.data_dir.iterdir()):
            if folder.name.startswith(".") or not folder.is_dir():  # .removed/, videos being added
                continue
            record = VideoRecord(folder.name, folder)
            if record.video_path is not None:
                records.append(record)
        return records

    def video(self, stem: str) -> VideoRecord:
        """The record of the video named ``stem``."""
        folder = self.data_dir / str(stem)
        if stem and not str(stem).startswith(".") and folder.parent == self.data_dir:
            if folder.is_dir() and VideoRecord(str(stem), folder).video_path is not None:
                return VideoRecord(str(stem), folder)
        known = [r.stem for r in self.videos]
        raise ProjectError(f"{self.root}: no video named {stem!r}; the project has {known}")

    # ---- labels ---------------------------------------------------------------------------
    def read_labels(self, stem: str) -> LabelTable | None:
        """The labels of video ``stem`` (columns in project order), or None if it has none."""
        record = self.video(stem)
        if not record.has_labels:
            return None
        try:
            return read_labels(record.labels_path, behaviors=self.behaviors)
        except LabelError as first:
            # another command may be rewriting the label files (a behavior renamed): read again
            # once it has finished
            try:
                with self.lock("read_labels"):
                    finish_pending(self.root, _backup_labels)
                    return read_labels(record.labels_path, behaviors=self.behaviors)
            except ProjectError:
                raise first from None

    def write_labels(
        self,
        stem: str,
        values: np.ndarray,
        behaviors: Sequence[str] | None = None,
        timeout: float | None = LABELS_LOCK_TIMEOUT_S,
        backup: bool = True,
        n_frames: int | None = None,
    ) -> Path | None:
        """Replace the labels of video ``stem`` (the old file is backed up).

        Parameters
        ----------
        stem
            The video's name.
        values
            int8 array (T, K) of 1/0/-1, columns in the project's behavior order.
        behaviors
            The behaviors the columns of ``values`` are for. If given and the project's
            behaviors have changed since (another command added or renamed one), nothing is
            written and a ProjectError says so.
        timeout
            Seconds to wait for another command changing the project.
        backup
            Copy the file being replaced to ``backups/`` first. The GUI backs up once per
            session, then autosaves without a new copy each time.
        n_frames
            The video's frame count, when the caller has the video open (saves reading it).

        Returns
        -------
        pathlib.Path or None
            The backup's path, if one was made.
        """
        record = self.video(stem)
        if n_frames is None:  # measured before taking the lock: it can be slow
            n_frames = record.info().n_frames
        if len(values) != n_frames:
            raise ProjectError(
                f"{record.labels_path}: labels have {len(values)} rows, video has {n_frames} frames"
            )
        with self._changing("write_labels", timeout):
            if behaviors is not None and list(behaviors) != self.behaviors:
                raise ProjectError(
                    f"{self.config_path}: the behaviors changed to {self.behaviors} while these "
                    f"labels were made for {list(behaviors)}; nothing was saved: reopen the project"
                )
            record = self.video(stem)  # not removed meanwhile
            saved = write_labels(record.labels_path, values, self.behaviors, backup=backup)
            write_record(record, record.video_path.name)
        return saved

    def _backup_label_file(self, path: Path) -> None:
        """Back up a label file a journaled change replaces (a module function: tests patch it)."""
        _backup_labels(path)

    def labeled_videos(self) -> list[VideoRecord]:
        """Videos that have a label file."""
        return [r for r in self.videos if r.has_labels]

    # ---- behaviors ------------------------------------------------------------------------
    # ---- models ---------------------------------------------------------------------------
    def new_model_dir(self, stage: str, tag: str = "") -> Path:
        """Create and return ``models/<YYMMDD_HHMMSS>_<stage>[_<tag>]/``.

        The folder is also appended to :attr:`created_model_dirs`.
        """
        stamp = datetime.now().strftime("%y%m%d_%H%M%S")
        name = f"{stamp}_{stage}" + (f"_{tag}" if tag else "")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        path, suffix = self.models_dir / name, 1
        while True:  # another training may start in the same second
            try:
                path.mkdir()
                break
            except FileExistsError:
                suffix += 1
                path = self.models_dir / f"{name}_{suffix}"
        self.created_model_dirs.append(path)
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
    "ProjectBusyError",
    "VideoRecord",
    "empty_labels",
    "labels_for_video",
    "open_project",
]
