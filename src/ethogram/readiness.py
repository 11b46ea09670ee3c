"""Why a project cannot be trained or predicted yet, said in one sentence (or None when it can).

The GUI asks these before enabling its Train and Predict actions, and shows the sentence on the
disabled action; the ``train`` command raises it as a :class:`~ethogram.errors.ProjectError`.
Every check reads only the project folder: this module imports neither torch nor Qt.

Examples
--------
>>> why_cannot_train("mice_project")  # doctest: +SKIP
'mice_project: no labeled videos; add label CSVs ... or label frames in the GUI before training'
>>> why_cannot_predict("mice_project") is None  # doctest: +SKIP
True
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ethogram.errors import ConfigError

STAGES = ("flow", "features", "sequence")

__all__ = ["STAGES", "interrupted_model_dir", "why_cannot_predict", "why_cannot_train"]


def _open(project):
    from ethogram.project import Project

    return project if isinstance(project, Project) else Project.open(project)


def _no_videos(project) -> str | None:
    if not project.videos:
        return (
            f"{project.root}: the project has no videos; add some with `ethogram add "
            f"{project.root} VIDEO...`"
        )
    return None


def _has_labeled_frame(project) -> bool:
    """True if a label file has a frame whose row holds no -1 (a frame training can use)."""
    for record in project.labeled_videos():
        table = project.read_labels(record.stem)
        if table is not None and bool((np.asarray(table.values) >= 0).all(axis=1).any()):
            return True
    return False


def why_cannot_train(project, stage: str | None = None) -> str | None:
    """Why training cannot start: no videos, no labels, no fully labeled frame, no feature model.

    Parameters
    ----------
    project
        A :class:`~ethogram.project.Project` or its folder.
    stage
        ``flow``, ``features``, ``sequence``, or None for every stage in order.

    Returns
    -------
    str or None
        One sentence naming the project and what to do first; None if training can start.

    Raises
    ------
    ConfigError
        If ``stage`` is not one of :data:`STAGES`.
    ProjectError
        If ``project`` is a folder that is not a project.
    """
    if stage is not None and stage not in STAGES:
        raise ConfigError(f"--stage must be one of {', '.join(STAGES)}, got {stage!r}")
    project = _open(project)
    missing = _no_videos(project)
    if missing or stage == "flow":  # MotionNet learns from unlabeled videos
        return missing
    if not project.labeled_videos():
        return (
            f"{project.root}: no labeled videos; add label CSVs (`ethogram add PROJECT VIDEO "
            "--labels CSV`) or label frames in the GUI before training"
        )
    if not _has_labeled_frame(project):
        return f"{project.root}: no video has a fully labeled frame; label some frames first"
    if stage == "sequence" and project.latest_model("features") is None:
        return (
            f"{project.root}: no trained feature extractor in {project.models_dir}; "
            "run `ethogram train PROJECT --stage features` first"
        )
    return None


def why_cannot_predict(project) -> str | None:
    """Why the project's videos cannot be predicted: no videos, or no finished model.

    Parameters
    ----------
    project
        A :class:`~ethogram.project.Project` or its folder.

    Returns
    -------
    str or None
        One sentence naming the project and what to do first; None if prediction can start.
    """
    project = _open(project)
    missing = _no_videos(project)
    if missing:
        return missing
    if project.latest_model("sequence") is None and project.latest_model("features") is None:
        return (
            f"{project.root}: no trained model in {project.models_dir}; train a model first "
            f"(`ethogram train {project.root}`)"
        )
    return None


def interrupted_model_dir(project, started_at: float) -> Path | None:
    """The model folder to resume after training started at ``started_at`` was stopped.

    The model folder whose ``checkpoint.pt`` (the last finished epoch) was written last since
    then; None if no epoch finished.

    Parameters
    ----------
    project
        A :class:`~ethogram.project.Project` or its folder.
    started_at
        When training started, as :func:`time.time` gave it.

    Returns
    -------
    pathlib.Path or None
        The folder to pass to ``ethogram train PROJECT --resume``.
    """
    project = _open(project)
    since = min(started_at, time.time()) - 1.0  # file times may have a coarse resolution
    saved = {}
    for path in project.model_dirs():
        checkpoint = path / "checkpoint.pt"
        if checkpoint.is_file() and checkpoint.stat().st_mtime >= since:
            saved[path] = checkpoint.stat().st_mtime
    return max(saved, key=saved.__getitem__, default=None)
