"""Training of the sequence model (TGM / TGMJ) on the feature extractor's per-frame features.

:func:`train_sequence` reads each labeled video's features from ``<stem>_outputs.h5`` (the feature
model's group; missing features are extracted first), trains over long windows with the feature
model's train/validation split, picks per-class thresholds on the validation videos (moved
towards 0.5 by ``train.threshold_shrink``), evaluates
the held-out test videos, and finally writes the sequence model's probabilities into every
video's outputs file, in a group named after the architecture (``tgmj``), as DeepEthogram does.

The model directory holds ``config.yaml``, ``checkpoint.pt`` (resume), ``best.pt``,
``metrics.json`` (with ``thresholds``, ``min_bout_frames`` and ``test`` metrics) and
``figures/training_curves.png``. The inference side (loading, running over videos, writing
outputs) is :mod:`ethogram.infer.sequence`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ethogram.config import Settings, read_settings, save_settings
from ethogram.data.sequence import (
    SequenceInputs,
    SequenceWindows,
    feature_statistics,
    outside_blocks,
    positive_fraction,
    with_block_labels,
    without_blocks,
)
from ethogram.errors import ModelError, ProjectError
from ethogram.infer.sequence import (
    feature_group,
    load_inputs_for,
    sequence_logits,
    sigmoid,
    trained_feature_dir,
    write_sequence_outputs,
)
from ethogram.models.build import build_sequence_model
from ethogram.models.checkpoint import load_training_checkpoint
from ethogram.models.device import choose_device
from ethogram.models.folder import (
    BEST_NAME,
    CHECKPOINT_NAME,
    CONFIG_NAME,
    METRICS_NAME,
    latest_model_dir,
    metrics_or_empty,
    read_metrics,
)
from ethogram.train.common import fit, seed_everything, write_metrics
from ethogram.train.splits import TrainingSplit, load_training_split
from ethogram.train.validation_support import thin_behaviors, thin_behaviors_message

logger = logging.getLogger(__name__)

STAGE = "sequence"
MAX_POS_WEIGHT = 100.0


def masked_bce(logits: torch.Tensor, labels: torch.Tensor, pos_weight: torch.Tensor):
    """Mean class-weighted binary cross-entropy over the values whose label is not -1."""
    mask = labels >= 0
    loss = F.binary_cross_entropy_with_logits(
        logits, labels.clamp(min=0), pos_weight=pos_weight, reduction="none"
    )
    return (loss * mask).sum() / mask.sum().clamp(min=1)


def read_split(feature_model_dir: Path, stems: list[str]) -> dict[str, list[str]]:
    """The feature model's ``split.yaml`` restricted to ``stems``; new videos go to train.

    Without a split file every video trains and validates (the thresholds then fit the
    training videos).
    """
    from ethogram.data.clips import load_split

    path = Path(feature_model_dir) / "split.yaml"
    split = {"train": [], "val": [], "test": []}
    if path.is_file():
        saved = load_split(path)
        for key in split:
            split[key] = [s for s in saved[key] if s in stems]
    known = {s for part in split.values() for s in part}
    split["train"] += [s for s in stems if s not in known]
    if not split["train"]:
        split["train"] = list(split["val"] or stems)
    return split


def _feature_split(feature_model_dir: Path) -> TrainingSplit | None:
    """The feature model's split (None without a ``split.yaml``)."""
    path = Path(feature_model_dir) / "split.yaml"
    return load_training_split(path) if path.is_file() else None


def _load_inputs(project, stems, feature_model_dir, settings, progress, with_labels=True):
    """Features of ``stems``, extracting them first for videos whose outputs lack them."""
    records = {r.stem: r for r in project.videos}
    arch = settings.features.arch
    missing = [
        s for s in stems if feature_group(records[s].outputs_path, feature_model_dir, arch) is None
    ]
    if missing:
        from ethogram.infer.extract import extract_project

        extract_project(project, model_dir=feature_model_dir, videos=missing, progress=progress)
    loaded = {}
    for stem in stems:
        record = records[stem]
        group = feature_group(record.outputs_path, feature_model_dir, arch)
        if group is None:
            raise ModelError(
                f"{record.outputs_path}: no features of the model {feature_model_dir.name}; "
                "run `ethogram extract` first"
            )
        labels = project.read_labels(stem).values if with_labels else None
        loaded[stem] = load_inputs_for(
            settings,
            record.outputs_path,
            group,
            labels=labels,
            stem=stem,
        )
    return loaded


def _epoch_offsets(n_grid: int, window: int, min_windows: int) -> list[int]:
    """Random grid offsets for one epoch: enough grids for ``min_windows`` windows."""
    n_grids = max(1, -(-min_windows // max(n_grid, 1)))
    if n_grids <= window:
        return torch.randperm(window)[:n_grids].tolist()
    return torch.randint(0, window, (n_grids,)).tolist()


def _frame_f1(probs, labels, thresholds, names) -> tuple[float, list[float]]:
    """Macro F1 of the behaviors (background left out, as the feature stage) and per-class F1."""
    from ethogram.evaluate.metrics import frame_metrics, macro

    f1 = frame_metrics(labels, (probs >= thresholds).astype(np.int8))["f1"]
    return macro(f1, names, False), f1.tolist()


def train_sequence(
    project,
    settings: Settings | None = None,
    feature_model_dir: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Train the sequence model of a project on its feature extractor's features.

    Parameters
    ----------
    project
        A :class:`~ethogram.project.Project` or its folder.
    settings
        Resolved settings (default: the project's). When resuming, the model's own
        ``config.yaml`` is used instead, except for ``device``.
    feature_model_dir
        The feature extractor (default: the project's newest one).
    resume
        A sequence model directory to continue from its ``checkpoint.pt``.
    progress
        Show progress bars. Notes (one line per epoch) go to the logger
        ``ethogram.train.sequence``.

    Returns
    -------
    pathlib.Path
        The model directory.

    Raises
    ------
    ProjectError
        If the project has no labeled videos.
    ModelError
        If there is no trained feature extractor, or ``resume`` is not a sequence model folder.
    """
    from ethogram.evaluate.metrics import choose_thresholds, shrink_thresholds
    from ethogram.project import Project

    project = project if isinstance(project, Project) else Project.open(project)
    if resume is not None:
        model_dir = Path(resume)
        if not (model_dir / CHECKPOINT_NAME).is_file() or not (model_dir / CONFIG_NAME).is_file():
            raise ModelError(f"{model_dir}: no checkpoint.pt and config.yaml to resume from")
        device_setting = settings.device if settings is not None else None
        settings = read_settings(model_dir / CONFIG_NAME)
        if device_setting is not None:
            settings.device = device_setting
        feature_model_dir = feature_model_dir or metrics_or_empty(model_dir).get(
            "feature_model_dir"
        )
    settings = settings or project.settings()
    if feature_model_dir is None:
        feature_model_dir = latest_model_dir(project, "features")
    feature_model_dir = Path(feature_model_dir)
    labeled = [r.stem for r in project.labeled_videos()]
    if not labeled:
        raise ProjectError(
            f"{project.root}: no labeled videos; label some frames (or `ethogram add VIDEO "
            "--labels CSV`) before training"
        )
    names = project.behaviors
    device = choose_device(settings.device)
    seed_everything(settings.seed)

    split = read_split(feature_model_dir, labeled)
    feature_split = _feature_split(feature_model_dir)
    blocks = feature_split.blocks if feature_split is not None else {}
    inputs = _load_inputs(project, labeled, feature_model_dir, settings, progress)
    train_in = [without_blocks(inputs[s], blocks.get(s)) for s in split["train"]]
    val_in = [inputs[s] for s in (split["val"] or split["train"])]
    if blocks:
        val_in = [with_block_labels(inputs[s], blocks[s]) for s in split["val"] if blocks.get(s)]
    validation = feature_split.summary() if feature_split is not None else {"mode": "videos"}
    if blocks:
        logger.info(f"split: {validation['reason']}")
    in_features = train_in[0].features.shape[1]
    mean, std = feature_statistics(outside_blocks(train_in, blocks))
    # the model standardizes its inputs with (mean, std): a smaller std for the spatial columns
    # scales them by sequence.spatial_weight, in training and, from the saved model, at inference
    std[: train_in[0].spatial_columns] /= settings.sequence.spatial_weight
    s = settings.sequence
    run = _Run(settings, train_in, in_features, len(names), mean, std, device, progress)
    model, pos_weight = run.model, run.pos_weight
    if resume is None:
        model_dir = project.new_model_dir(STAGE, s.arch)
    save_settings(settings, model_dir / CONFIG_NAME)
    state: dict[str, Any] = {"thresholds": np.full(len(names), 0.5).tolist()}

    def validate(epoch: int) -> dict[str, Any]:
        probs, labels, losses = [], [], []
        for video in val_in:
            out = torch.from_numpy(sequence_logits(model, video, device))
            target = torch.from_numpy(video.labels.astype(np.float32))
            losses.append(float(masked_bce(out.to(device), target.to(device), pos_weight)))
            probs.append(torch.sigmoid(out).numpy())
            labels.append(video.labels)
        probs, labels = np.concatenate(probs), np.concatenate(labels)
        best = choose_thresholds(probs, labels)  # the model is judged at its best thresholds
        state["thresholds"] = shrink_thresholds(best, settings.train.threshold_shrink).tolist()
        f1_macro, f1 = _frame_f1(probs, labels, best, names)
        return {"val_loss": float(np.mean(losses)), "val_f1_macro": f1_macro, "val_f1": f1}

    def extra_state() -> dict[str, Any]:
        return {
            "arch": s.arch,
            "in_features": int(in_features),
            "class_names": list(names),
            "thresholds": list(state["thresholds"]),
            "feature_model_dir": str(feature_model_dir),
        }

    header = {
        "stage": STAGE,
        "arch": s.arch,
        "class_names": names,
        "feature_model_dir": str(feature_model_dir),
        "split": split,
        "validation": validation,
    }
    fitted = fit(
        model_dir,
        model,
        run.optimizer,
        epochs=s.epochs,
        train_epoch=run.train_epoch,
        validate=validate,
        monitor="val_f1_macro",
        patience=s.patience,
        scheduler=run.scheduler,
        metrics_header=header,
        extra_state=extra_state,
        load_extra_state=lambda extra: state.update(thresholds=extra.get("thresholds")),
        seed=settings.seed,
        resume=resume is not None,
        log=logger.info,
    )
    best = load_training_checkpoint(model_dir / BEST_NAME)
    model.load_state_dict(best["model"])
    thresholds = np.asarray(best["extra"]["thresholds"], np.float32)
    metrics = read_metrics(model_dir)
    if s.refit:
        every = [inputs[v] for v in sorted({*split["train"], *split["val"]})]
        model = _refit(model_dir, settings, best, every, (in_features, len(names), mean, std),
                       device, progress)  # fmt: skip
        metrics["refit"] = {
            "epochs": int(best["epoch"]) + 1,
            "videos": [v.stem for v in every],
            "thresholds": "chosen on validation before the refit",
            "validation_fit": VALIDATION_FIT_NAME,
            "stopped_early": fitted.stopped_early,
        }
    metrics.update(
        _finish(project, settings, model, model_dir, inputs, split, thresholds, device, progress)
    )
    metrics["thin_validation_behaviors"] = thin_behaviors([v.labels for v in val_in], names)
    if metrics["thin_validation_behaviors"]:
        logger.warning(
            thin_behaviors_message(metrics["thin_validation_behaviors"], [v.stem for v in val_in])
        )
    write_metrics(model_dir / METRICS_NAME, metrics)
    return model_dir


class _Run:
    """A sequence model with its optimizer, scheduler and one epoch of training on ``videos``."""

    def __init__(self, settings, videos, in_features, n_classes, mean, std, device, progress):
        s = settings.sequence
        self.settings, self.device, self.progress = settings, device, progress
        seed_everything(settings.seed)
        self.model = build_sequence_model(settings, in_features, n_classes, mean, std).to(device)
        frac = positive_fraction(videos)
        self.model.net.init_output_bias(torch.as_tensor(frac))
        self.pos_weight = torch.as_tensor(
            np.clip((1 - frac) / np.maximum(frac, 1e-6), 1 / MAX_POS_WEIGHT, MAX_POS_WEIGHT),
            dtype=torch.float32,
            device=device,
        )
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=s.lr, weight_decay=s.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=s.epochs)
        self.windows = SequenceWindows(videos, window=s.window)
        self.n_grid = len(self.windows)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        from ethogram.progress import progress_iter

        s, model, device = self.settings.sequence, self.model, self.device
        self.windows.set_offsets(
            _epoch_offsets(self.n_grid, s.window, s.steps_per_epoch * s.batch_size)
        )
        loader = torch.utils.data.DataLoader(self.windows, batch_size=s.batch_size, shuffle=True)
        total, count = 0.0, 0
        desc = f"sequence epoch {epoch + 1}/{s.epochs}"
        for batch in progress_iter(loader, len(loader), desc, self.progress):
            feats, logits, labels = (t.to(device) for t in batch)
            # each member of an ensemble learns on its own loss, as if trained alone
            member_logits = model.member_logits(feats, logits)
            loss = sum(masked_bce(out, labels, self.pos_weight) for out in member_logits)
            loss = loss / len(member_logits)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total, count = total + float(loss.detach()) * len(feats), count + len(feats)
        return {"train_loss": total / max(count, 1)}


VALIDATION_FIT_NAME = "validation_fit.pt"


def _refit(model_dir: Path, settings, best: dict, videos, shape, device, progress):
    """Train again from the same seed on every labeled frame of ``videos`` for the epochs that
    validation chose; ``best.pt`` gets the new weights with the validation fit's thresholds
    (kept in ``validation_fit.pt``). ``shape`` is ``(in_features, n_classes, mean, std)`` of
    the validation fit's model. Returns the refit model."""
    from ethogram.models.checkpoint import save_checkpoint

    run = _Run(settings, videos, *shape, device, progress)
    epochs = int(best["epoch"]) + 1
    logger.info(f"refit: training the sequence model again on every labeled frame, {epochs} epochs")
    fit(
        model_dir / "refit",
        run.model,
        run.optimizer,
        epochs=epochs,
        train_epoch=run.train_epoch,
        validate=lambda epoch: {},
        scheduler=run.scheduler,
        seed=settings.seed,
        resume=True,
        log=logger.info,
    )
    save_checkpoint(model_dir / VALIDATION_FIT_NAME, best)
    save_checkpoint(model_dir / BEST_NAME, {**best, "model": run.model.state_dict(), "refit": True})
    return run.model


def _finish(project, settings, model, model_dir, inputs, split, thresholds, device, progress):
    """Min bouts, held-out test metrics, and sequence outputs for every video with features."""
    from ethogram.infer.postprocess import resolve_exclusive, resolve_min_bout

    names = project.behaviors
    train_labels = [inputs[s].labels for s in split["train"]]
    min_bout = resolve_min_bout(
        settings.postprocess.min_bout,
        names,
        train_labels,
        percentile=settings.postprocess.min_bout_percentile,
        fraction=settings.postprocess.min_bout_fraction,
    )
    exclusive = resolve_exclusive(settings.postprocess.exclusive, train_labels)
    result: dict[str, Any] = {
        "thresholds": thresholds.tolist(),
        "min_bout_frames": min_bout,
        "exclusive": exclusive,
    }
    if split["test"]:
        feature_dir = Path(trained_feature_dir(model_dir))
        result["test"] = evaluate_held_out(
            [inputs[s] for s in split["test"]],
            model,
            thresholds,
            names,
            min_bout,
            exclusive=exclusive,
            feature_thresholds=_feature_thresholds(feature_dir, len(names)),
            device=device,
        )
    write_sequence_outputs(project, model_dir, model, settings, thresholds, device, progress)
    return result


def _feature_thresholds(feature_model_dir: Path, n_classes: int) -> np.ndarray:
    try:
        values = read_metrics(feature_model_dir).get("thresholds")
    except ModelError:
        values = None
    arr = np.asarray(values if values is not None else [], dtype=np.float32)
    return arr if arr.shape == (n_classes,) else np.full(n_classes, 0.5, np.float32)


def _summary(report: dict) -> dict[str, Any]:
    overall = report["overall"]
    return {
        "f1_macro": overall["f1_macro"],
        "f1_macro_no_background": overall["f1_macro_no_background"],
        "segmental_f1@0.50": overall["segmental_f1"].get("0.50"),
        "segmental_f1_per_class_macro@0.50": overall["segmental_f1_per_class_macro"].get("0.50"),
        "edit": overall["edit"],
        "per_class_f1": {row["name"]: row["f1"] for row in report["per_class"]},
    }


def evaluate_held_out(
    videos: list[SequenceInputs],
    model: nn.Module,
    thresholds: np.ndarray,
    names: list[str],
    min_bout: dict[str, int],
    exclusive: bool = False,
    feature_thresholds: np.ndarray | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Metrics on held-out videos: feature extractor alone, sequence model, and post-processed.

    Returns
    -------
    dict
        ``videos`` and, for ``features``, ``sequence`` and ``sequence_postprocessed``: macro F1
        (with and without background), segmental F1 at IoU 0.5, edit score, per-class F1.
    """
    from ethogram.evaluate.metrics import evaluate_sequences
    from ethogram.infer.postprocess import postprocess

    pairs: dict[str, list] = {"features": [], "sequence": [], "sequence_postprocessed": []}
    for video in videos:
        probs = sigmoid(sequence_logits(model, video, device))
        raw = (probs[:, 1:] >= thresholds[1:]).astype(np.int8)
        raw = np.concatenate([(~raw.any(axis=1))[:, None].astype(np.int8), raw], axis=1)
        cleaned = postprocess(probs, thresholds, names, min_bout, exclusive)
        pairs["sequence"].append((video.stem, video.labels, raw, probs))
        pairs["sequence_postprocessed"].append((video.stem, video.labels, cleaned, probs))
        if video.logits is not None:
            fprobs = sigmoid(video.logits)
            ft = feature_thresholds if feature_thresholds is not None else np.full(len(names), 0.5)
            fpred = postprocess(fprobs, ft, names, 1, False)
            pairs["features"].append((video.stem, video.labels, fpred, fprobs))
    out: dict[str, Any] = {"videos": [v.stem for v in videos]}
    for key, items in pairs.items():
        if items:
            out[key] = _summary(evaluate_sequences(items, names))
    return out


__all__ = ["evaluate_held_out", "masked_bce", "read_split", "train_sequence"]
