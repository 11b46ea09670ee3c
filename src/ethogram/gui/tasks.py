"""The work the window runs as background jobs: training and prediction of a project.

Each function runs in a child process (``JobPanel.run("Train", "ethogram.gui.tasks:train",
{...})``), takes plain picklable arguments and returns a plain dict. Errors the user can fix are
:class:`~ethogram.errors.EthogramError` s whose message the window shows as is. The library is
imported inside the functions: importing this module is cheap and loads neither torch nor Qt.
"""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["predict", "train"]

logger = logging.getLogger("ethogram.gui.tasks")


def train(
    project_path: str,
    preset: str | None = None,
    overrides: list[str] | None = None,
    stage: str | None = None,
    resume: str | None = None,
) -> dict[str, Any]:
    """Train a project's models (every stage, or one), as ``ethogram train`` does.

    Parameters
    ----------
    project_path
        The project folder.
    preset
        Settings preset (default: the project's).
    overrides
        ``key=value`` settings.
    stage
        ``flow``, ``features`` or ``sequence`` (default: every stage).
    resume
        A model folder to continue from its last checkpoint.

    Returns
    -------
    dict
        ``project``: the folder; ``stages``: one dict per stage trained, in order, with
        ``stage``, ``model_dir``, ``validation_f1`` and ``test_f1`` (None when not measured) and
        ``figures`` (image files: training curves, validation figures).
    """
    from ethogram.train.pipeline import train_project

    result = train_project(
        project_path,
        stage=stage,
        preset=preset,
        overrides=list(overrides or []),
        resume=resume,
        progress=True,
    )
    logger.info(f"Training finished. Predict the videos with the Predict action (or `ethogram "
                f"predict {result.project_root}`)")  # fmt: skip
    return {
        "project": str(result.project_root),
        "stages": [
            {
                "stage": done.stage,
                "model_dir": str(done.model_dir),
                "validation_f1": done.validation_f1,
                "test_f1": done.test_f1,
                "figures": [str(path) for path in done.figures],
            }
            for done in result.stages
        ],
    }


def _train_after_cancel(kwargs: dict[str, Any], started_at: float | None) -> str:
    """Where a cancelled training can be resumed (called in the window's process)."""
    from ethogram.readiness import interrupted_model_dir

    project_path = kwargs["project_path"]
    where = interrupted_model_dir(project_path, started_at or time.time())
    if where is None:
        return "No epoch had finished: nothing to resume; train again to start over."
    return (
        f"The last finished epoch is saved in {where}; resume from it (or run `ethogram train "
        f"{project_path} --resume {where}`)."
    )


train.after_cancel = _train_after_cancel  # type: ignore[attr-defined]


def predict(
    project_path: str, stems: list[str] | None = None, overwrite: bool = False
) -> dict[str, Any]:
    """Predict a project's videos with its newest model, as ``ethogram predict PROJECT`` does.

    Parameters
    ----------
    project_path
        The project folder.
    stems
        Names of the project's videos (default: all of them).
    overwrite
        Predict again videos already predicted by this model.

    Returns
    -------
    dict
        ``done`` and ``skipped``: lists of video names; ``failed``: video name -> reason;
        ``summary``: one line of counts.

    Raises
    ------
    ProjectError
        If there is nothing to predict with or nothing to predict
        (see :func:`ethogram.readiness.why_cannot_predict`).
    """
    from ethogram.errors import ProjectError
    from ethogram.project import Project
    from ethogram.readiness import why_cannot_predict

    project = Project.open(project_path)
    reason = why_cannot_predict(project)
    if reason is not None:
        raise ProjectError(reason)
    from ethogram.infer.predict import predict as run_predict
    from ethogram.infer.predict import summary_line

    results = run_predict(project, list(stems) if stems else None, overwrite=overwrite)
    outcome: dict[str, Any] = {"done": [], "skipped": [], "failed": {}}
    for result in results:
        stem = result.target.stem
        if result.status == "failed":
            outcome["failed"][stem] = result.reason
            logger.warning(f"failed: {stem}: {result.reason}")
        else:
            outcome[result.status].append(stem)
    outcome["summary"] = summary_line(results)
    logger.info(outcome["summary"])
    return outcome
