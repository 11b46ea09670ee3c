"""Evaluation of predictions against labels: metrics, figures and a report.

Three lines from Python::

    from ethogram.evaluate import load_folder_pairs, write_evaluation
    pairs, names, warnings = load_folder_pairs("labels/", "predictions/")
    result = write_evaluation(pairs, names, "evaluation/")   # metrics.json, figures/, report.html

:func:`load_project_pairs` does the same for a project folder and a trained model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ethogram.errors import EthogramError, LabelError, ProjectError
from ethogram.evaluate.metrics import (
    BACKGROUND,
    SequencePair,
    choose_thresholds,
    evaluate_sequences,
    shrink_thresholds,
)

__all__ = [
    "ProjectPairs",
    "SequencePair",
    "choose_thresholds",
    "evaluate_sequences",
    "find_model",
    "folder_model",
    "load_folder_pairs",
    "load_project_pairs",
    "read_probabilities",
    "shrink_thresholds",
    "write_evaluation",
]

SPLITS = ("test", "val", "train", "all")


def write_evaluation(*args, **kwargs) -> dict:
    """Evaluate and write metrics.json, figures and report.html (see :mod:`.report`)."""
    from ethogram.evaluate.report import write_evaluation as _write

    return _write(*args, **kwargs)


# ---- plain CSV folders --------------------------------------------------------------------------
def _csv_files(folder: Path) -> list[Path]:
    """CSV files in ``folder`` and in its subfolders one level down (a project's DATA/ layout)."""
    files = list(folder.glob("*.csv")) + list(folder.glob("*/*.csv"))
    return sorted(p for p in files if not any(part.startswith(".") for part in p.parts[-2:]))


# CSVs that ethogram writes beside predictions and that are not per-frame tables
NOT_PER_FRAME = ("_bouts", "summary")


def _stems(folder: Path, own: str, other: str, role: str) -> dict[str, Path]:
    """Map video name -> file: ``<stem>_<own>.csv`` or ``<stem>.csv``; ``*_<other>.csv``, bout
    tables (``*_bouts.csv``) and summaries (``summary.csv``) are skipped."""
    found: dict[str, Path] = {}
    for path in _csv_files(folder):
        stem = path.stem
        if stem.endswith(f"_{other}") or stem.endswith(NOT_PER_FRAME):
            continue
        if stem.endswith(f"_{own}"):
            stem = stem[: -len(own) - 1]
        if stem in found:
            raise LabelError(
                f"{folder}: two {role} files for video {stem!r}: {found[stem]} and {path}; "
                "expected one per video"
            )
        found[stem] = path
    return found


def _order_behaviors(behaviors: list[str], path: Path) -> list[str]:
    if BACKGROUND not in behaviors:
        raise LabelError(f"{path}: no '{BACKGROUND}' column; found columns {behaviors}")
    return [BACKGROUND] + [b for b in behaviors if b != BACKGROUND]


def _header(path: Path) -> list[str]:
    from ethogram.io.labels import read_header

    return read_header(path)


def _read_pair(name: str, label_path: Path, pred_path: Path, behaviors: list[str] | None):
    from ethogram.io.labels import read_labels

    if behaviors is None:  # the first file sets the behaviors; background goes first
        behaviors = _order_behaviors(_header(label_path), label_path)
    labels = read_labels(label_path, behaviors=behaviors)
    preds = read_labels(pred_path, behaviors=behaviors)
    if preds.n_frames != labels.n_frames:
        raise LabelError(
            f"{pred_path}: {preds.n_frames} frames, but its labels {label_path} have "
            f"{labels.n_frames}; expected one row per frame in both"
        )
    return SequencePair(name, labels.values, preds.values), behaviors


def load_folder_pairs(
    labels_dir: str | Path, predictions_dir: str | Path, fps: float | None = None
) -> tuple[list[SequencePair], list[str], list[str]]:
    """Pair label and prediction CSVs of two folders by video name.

    Labels are ``<stem>.csv`` or ``<stem>_labels.csv``, predictions ``<stem>.csv`` or
    ``<stem>_predictions.csv``, in the folder or one subfolder down (so a project's ``DATA/``
    works for both). Behavior columns must have the same names in every file (order may differ).

    Returns
    -------
    tuple
        (pairs, behavior names with background first, warnings about unmatched files).

    Raises
    ------
    LabelError
        If no pair matches, or a file's columns or length do not fit.
    """
    labels_dir, predictions_dir = Path(labels_dir), Path(predictions_dir)
    for folder, role in ((labels_dir, "--labels"), (predictions_dir, "--predictions")):
        if not folder.is_dir():
            raise LabelError(f"{folder}: {role} folder not found")
    label_files = _stems(labels_dir, "labels", "predictions", "label")
    pred_files = _stems(predictions_dir, "predictions", "labels", "prediction")
    warnings = [
        message
        for message in (
            _unmatched(label_files, pred_files, "label", "predictions", labels_dir),
            _unmatched(pred_files, label_files, "prediction", "labels", predictions_dir),
        )
        if message
    ]
    common = sorted(set(label_files) & set(pred_files))
    if not common:
        raise LabelError(
            f"no label/prediction pairs: {len(label_files)} label file(s) in {labels_dir} and "
            f"{len(pred_files)} prediction file(s) in {predictions_dir}, none with the same video "
            "name; expected <stem>.csv or <stem>_labels.csv with <stem>.csv or "
            "<stem>_predictions.csv"
        )
    pairs, behaviors = [], None
    for stem in common:
        pair, behaviors = _read_pair(stem, label_files[stem], pred_files[stem], behaviors)
        pair.fps = fps
        pair.probabilities = _probabilities_beside(
            pred_files[stem], stem, behaviors, len(pair.labels)
        )
        pairs.append(pair)
    with_probs = sum(p.probabilities is not None for p in pairs)
    if 0 < with_probs < len(pairs):
        warnings.append(
            f"probabilities found for {with_probs} of {len(pairs)} videos; AUROC/AP and curves "
            "skipped"
        )
        for pair in pairs:
            pair.probabilities = None
    return pairs, behaviors, warnings


def folder_model(
    predictions_dir: str | Path, stems: list[str], behaviors: list[str]
) -> tuple[Path | None, np.ndarray | None]:
    """The model that wrote a folder's predictions (as ``ethogram predict --out`` records it in
    each ``<stem>_outputs.h5``) and its thresholds, when every video names the same model.

    Returns
    -------
    tuple
        (model folder or None, thresholds reordered to ``behaviors`` or None).
    """
    from ethogram.io.outputs import PREDICTIONS_ATTR, read_file_attrs

    folder = Path(predictions_dir)
    named, outputs = set(), None
    for stem in stems:
        candidates = [folder / f"{stem}_outputs.h5", *folder.glob(f"*/{stem}_outputs.h5")]
        outputs = next((c for c in candidates if c.is_file()), None)
        try:
            named.add(str(read_file_attrs(outputs).get(PREDICTIONS_ATTR) or "") if outputs else "")
        except (EthogramError, OSError):
            named.add("")
    if len(named) != 1 or "" in named:
        return None, None
    model_dir = Path(named.pop())
    thresholds = None
    if outputs is not None:
        try:
            _, thresholds = read_probabilities(outputs, model_dir, behaviors)
        except (EthogramError, OSError):
            thresholds = None
    return (model_dir if model_dir.is_dir() else None), thresholds


def _unmatched(files: dict, others: dict, role: str, missing: str, folder: Path) -> str | None:
    """One line naming the files of ``files`` that have no partner in ``others``."""
    stems = sorted(set(files) - set(others))
    if not stems:
        return None
    shown = ", ".join(files[s].name for s in stems[:5]) + (
        f" and {len(stems) - 5} more" if len(stems) > 5 else ""
    )
    return f"{len(stems)} {role} file(s) in {folder} have no {missing}, skipped: {shown}"


def _probabilities_beside(pred_path: Path, stem: str, behaviors: list[str], n_frames: int):
    """Probabilities of the model that wrote ``pred_path``, from ``<stem>_outputs.h5`` beside it
    (``ethogram predict`` records that model in the file), or None."""
    from ethogram.io.outputs import PREDICTIONS_ATTR, read_file_attrs

    outputs = pred_path.with_name(f"{stem}_outputs.h5")
    if not outputs.is_file():
        return None
    try:
        model_dir = read_file_attrs(outputs).get(PREDICTIONS_ATTR)
        if not model_dir:
            return None
        probs, _ = read_probabilities(outputs, Path(str(model_dir)), behaviors)
    except (EthogramError, OSError):
        return None
    return probs if probs is not None and len(probs) == n_frames else None


# ---- a project and its model --------------------------------------------------------------------
@dataclass
class ProjectPairs:
    """What :func:`load_project_pairs` found."""

    pairs: list[SequencePair]
    behaviors: list[str]
    model_dir: Path | None
    split: str
    split_source: Path | None
    thresholds: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)


def find_model(project, model: str | Path | None = None) -> Path | None:
    """``model`` (a path, or a folder name in PROJECT/models), else the latest sequence model,
    else the latest feature model, else None."""
    from ethogram.models.folder import find_model_dir, latest_model_dir

    if model is not None:
        return find_model_dir(project, model)
    return latest_model_dir(project, ("sequence", "features"), required=False)


def _read_split(project, model_dir: Path | None) -> tuple[dict | None, Path | None]:
    """The split a model trained on: its split.yaml, else the ``split`` of its metrics.json,
    else its feature model's split.yaml, else DeepEthogram's DATA/split.yaml."""
    import json

    import yaml

    candidates: list[Path] = []
    if model_dir is not None:
        candidates += [model_dir / "split.yaml", model_dir / "metrics.json"]
    candidates.append(project.data_dir / "split.yaml")
    index = 0
    while index < len(candidates):
        path = candidates[index]
        index += 1
        if not path.is_file():
            continue
        try:
            text = path.read_text()
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise ProjectError(f"{path}: not readable ({exc})") from None
        if path.suffix == ".json":
            feature_dir = data.get("feature_model_dir") if isinstance(data, dict) else None
            if feature_dir:  # a sequence model trains on its feature model's split
                for folder in (
                    Path(feature_dir),
                    project.root / feature_dir,
                    project.models_dir / Path(feature_dir).name,
                ):
                    candidates.insert(index, folder / "split.yaml")
            data = data.get("split") if isinstance(data, dict) else None
            if data is None:
                continue
        if not isinstance(data, dict):
            raise ProjectError(f"{path}: expected train/val/test lists, found {data!r}")
        return data, path
    return None, None


def video_fps(record) -> float | None:
    """Frames per second of a project video, or None when it cannot be read."""
    try:
        return float(record.info().fps)
    except (ImportError, EthogramError, AttributeError):
        pass
    if record.video_path is None:
        return None
    import cv2

    cap = cv2.VideoCapture(str(record.video_path))
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
    finally:
        cap.release()
    return float(fps) if fps and fps > 0 else None


def _model_group(path: Path, model_dir: Path) -> str | None:
    """The outputs group a model wrote: by its ``model_dir`` attribute, else by the model's arch
    (config.yaml), else the only group of its kind (sequence groups hold no spatial features)."""
    from ethogram.io.outputs import find_group, group_info

    group = find_group(path, model_dir)
    if group is not None:
        return group
    info = {g: i for g, i in group_info(path).items() if "P" in i["datasets"]}
    parts = model_dir.name.split("_")
    stage = parts[2] if len(parts) >= 3 else ""
    if (model_dir / "config.yaml").is_file():
        from ethogram.config import read_settings

        try:
            settings = read_settings(model_dir / "config.yaml")
        except EthogramError:  # e.g. a DeepEthogram config
            settings = None
        if settings is not None:
            arch = settings.sequence.arch if stage == "sequence" else settings.features.arch
            if arch in info:
                return arch
    is_features = {g: "spatial_features" in i["datasets"] for g, i in info.items()}
    kind = [g for g, f in is_features.items() if f == (stage != "sequence")]
    return kind[0] if len(kind) == 1 else None


def read_probabilities(path: Path, model_dir: Path | None, behaviors: list[str]):
    """The probabilities a model stored in a video's outputs file, columns in ``behaviors`` order.

    Returns
    -------
    tuple
        (P (T, K), thresholds (K,) or None), or (None, None) when the file has no group of that
        model or its class names differ from ``behaviors``.
    """
    from ethogram.io.outputs import group_info, read_outputs

    if model_dir is None or not path.is_file():
        return None, None
    group = _model_group(path, model_dir)
    if group is None:
        return None, None
    present = group_info(path)[group]["datasets"]
    wanted = [d for d in ("P", "class_names", "thresholds") if d in present]
    data = read_outputs(path, group, datasets=wanted)
    names = list(data.get("class_names") or behaviors)
    if sorted(names) != sorted(behaviors):
        return None, None
    order = [names.index(b) for b in behaviors]
    thresholds = data.get("thresholds")
    return (
        np.asarray(data["P"], dtype=float)[:, order],
        None if thresholds is None else np.asarray(thresholds, dtype=float)[order],
    )


def load_project_pairs(
    project_path: str | Path,
    model: str | Path | None = None,
    split: str | None = None,
    fps: float | None = None,
) -> ProjectPairs:
    """Labels, predictions and (if stored) probabilities of a project's videos in one split.

    Parameters
    ----------
    project_path
        Project folder.
    model
        Model folder (path or name in PROJECT/models); default the latest sequence model, else
        the latest feature model. Its ``split.yaml`` chooses the videos, its outputs group the
        probabilities.
    split
        ``test``, ``val``, ``train`` or ``all``; default ``test`` when a split is known, else all.
    fps
        Frames per second; default read from each video.
    """
    from ethogram.project import Project

    if split is not None and split not in SPLITS:
        raise EthogramError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    project = Project.open(project_path)
    behaviors = _order_behaviors(list(project.behaviors), project.config_path)
    model_dir = find_model(project, model)
    split_data, split_source = _read_split(project, model_dir)
    warnings: list[str] = []
    if split is None:
        split = "test" if split_data else "all"
    records = project.videos
    if split != "all":
        if split_data is None:
            raise ProjectError(
                f"{project.root}: no split.yaml (model {model_dir or 'none found'}); "
                "use --split all, or --model DIR of a trained model"
            )
        wanted = [str(s) for s in (split_data.get(split) or [])]
        if not wanted:
            hint = ""
            if split == "test":
                hint = (
                    " (models validated on blocks inside every labeled video hold no video "
                    "out for a test; train.validation=auto, the default, does so with fewer "
                    "than 6 labeled videos: score videos labeled outside the project with "
                    "--labels DIR --predictions DIR)"
                )
            raise ProjectError(
                f"{split_source}: split {split!r} lists no videos; "
                f"choose another with --split ({', '.join(SPLITS)}){hint}"
            )
        by_stem = {r.stem: r for r in records}
        warnings += [
            f"{split_source}: video {s!r} is not in the project" for s in wanted if s not in by_stem
        ]
        records = [by_stem[s] for s in wanted if s in by_stem]
    pairs, thresholds = [], None
    for record in records:
        if not record.labels_path.is_file() or not record.predictions_path.is_file():
            missing = "labels" if not record.labels_path.is_file() else "predictions"
            warnings.append(f"{record.stem}: no {missing} file, skipped")
            continue
        pair, _ = _read_pair(record.stem, record.labels_path, record.predictions_path, behaviors)
        pair.fps = fps or video_fps(record)
        pair.probabilities, video_thresholds = read_probabilities(
            record.outputs_path, model_dir, behaviors
        )
        if pair.probabilities is not None and len(pair.probabilities) != len(pair.labels):
            warnings.append(f"{record.outputs_path}: probabilities do not fit the labels, ignored")
            pair.probabilities = None
        thresholds = thresholds if thresholds is not None else video_thresholds
        pairs.append(pair)
    if not pairs:
        raise ProjectError(
            f"{project.root}: no video of split {split!r} has both labels and predictions "
            f"({len(records)} video(s) checked); run `ethogram predict` first"
        )
    if model_dir is None and any(r.outputs_path.is_file() for r in records):
        warnings.append(
            f"no finished model in {project.models_dir}: probabilities in the outputs files are "
            "not used (AUROC/AP and curves need them; pass --model DIR)"
        )
    if any(p.probabilities is None for p in pairs) and any(
        p.probabilities is not None for p in pairs
    ):
        warnings.append("probabilities missing for some videos; AUROC/AP and curves skipped")
    return ProjectPairs(pairs, behaviors, model_dir, split, split_source, thresholds, warnings)
