"""A model folder's files, its stage, and finding a project's model folders (no torch).

::

    models/250101_120000_features_resnet18/
        config.yaml        settings it was trained with (ethogram.config.read_settings)
        checkpoint.pt      last finished epoch, for resume (ethogram.models.checkpoint)
        best.pt            the weights kept
        metrics.json       stage, class names, per-epoch metrics, thresholds, test scores
        split.yaml         its train/validation/test videos (feature models)
        figures/           training curves and more

>>> stage_from_name("250101_120000_features_resnet18")
'features'
>>> stage_from_name("my_model") is None
True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ethogram.errors import ModelError

__all__ = [
    "BEST_NAME",
    "CHECKPOINT_NAME",
    "CONFIG_NAME",
    "CURVES_NAME",
    "METRICS_NAME",
    "SPLIT_NAME",
    "STAGES",
    "find_model_dir",
    "latest_model_dir",
    "metrics_or_empty",
    "model_stage",
    "read_metrics",
    "stage_from_name",
]

CONFIG_NAME = "config.yaml"
CHECKPOINT_NAME = "checkpoint.pt"
BEST_NAME = "best.pt"
METRICS_NAME = "metrics.json"
SPLIT_NAME = "split.yaml"
CURVES_NAME = "figures/training_curves.png"
STAGES = ("flow", "features", "sequence")

# How to make a model of each stage, for messages about a missing one.
_TRAIN_HINT = {
    "flow": "trained MotionNet",
    "features": "trained feature extractor",
    "sequence": "trained sequence model",
}


def read_metrics(path: str | Path) -> dict[str, Any]:
    """Read a ``metrics.json`` file (a model folder or the file itself).

    Raises
    ------
    ModelError
        If the file is missing, is not valid JSON, or does not hold a JSON object.
    """
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_NAME
    if not path.is_file():
        raise ModelError(f"{path}: metrics file not found")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def metrics_or_empty(model_dir: str | Path) -> dict[str, Any]:
    """A model folder's ``metrics.json``, or ``{}`` if it has none (yet)."""
    model_dir = Path(model_dir)
    return read_metrics(model_dir) if (model_dir / METRICS_NAME).is_file() else {}


def stage_from_name(name: str) -> str | None:
    """The stage in a folder name ``<date>_<time>_<stage>[_<tag>]``, or None."""
    parts = str(name).split("_")
    return parts[2] if len(parts) >= 3 and parts[2] in STAGES else None


def model_stage(model_dir: str | Path, stages: Sequence[str] = STAGES) -> str:
    """The stage of a model folder: the ``stage`` of its ``metrics.json``, else its name's.

    Parameters
    ----------
    model_dir
        A model folder.
    stages
        The stages accepted here.

    Raises
    ------
    ModelError
        If neither tells one of ``stages``.
    """
    model_dir = Path(model_dir)
    try:
        stage = metrics_or_empty(model_dir).get("stage")
    except ModelError:  # an unreadable metrics.json: the name may still tell
        stage = None
    if stage not in stages:
        stage = stage_from_name(model_dir.name)
    if stage in stages:
        return str(stage)
    raise ModelError(
        f"{model_dir}: cannot tell which stage this model folder is (expected metrics.json with a "
        f"'stage', or a name like <date>_<time>_<stage>_<tag> with stage {' or '.join(stages)})"
    )


def find_model_dir(project: Any, model: str | Path) -> Path:
    """The model folder ``model`` names: a path, else a folder name in ``PROJECT/models``.

    Parameters
    ----------
    project
        An open :class:`~ethogram.project.Project`, or None (then ``model`` must be a path).
    model
        A folder path, or the name of a folder in the project's ``models/``.

    Raises
    ------
    ModelError
        If neither is a folder.
    """
    path = Path(model)
    if path.is_dir():
        return path
    if project is not None and (project.models_dir / str(model)).is_dir():
        return project.models_dir / str(model)
    where = f" (also looked in {project.models_dir})" if project is not None else ""
    raise ModelError(f"{path}: model folder not found{where}")


def latest_model_dir(
    project: Any, stages: str | Sequence[str], required: bool = True, hint: str = ""
) -> Path | None:
    """The project's newest finished model (a folder with ``best.pt``) of the first stage in
    ``stages`` that has one.

    Parameters
    ----------
    project
        An open :class:`~ethogram.project.Project`.
    stages
        A stage, or stages in order of preference (``("sequence", "features")``).
    required
        Raise if there is none (otherwise return None).
    hint
        Added to the end of that error's message (e.g. ``" (or give --model DIR)"``).

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    ModelError
        If ``required`` and no stage has a finished model; the message says how to train one.
    """
    stages = (stages,) if isinstance(stages, str) else tuple(stages)
    for stage in stages:
        path = project.latest_model(stage)
        if path is not None:
            return Path(path)
    if not required:
        return None
    wanted = " or ".join(_TRAIN_HINT.get(s, f"trained {s} model") for s in stages)
    command = f"ethogram train {project.root}"
    if len(stages) == 1:
        command += f" --stage {stages[0]}"
    raise ModelError(
        f"{project.root}: no {wanted} in {project.models_dir}; train one with `{command}`{hint}"
    )
