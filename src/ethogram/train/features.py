"""Training of the hidden two-stream feature extractor (``ethogram train --stage features``).

DeepEthogram's curriculum: the spatial stream alone (``train.stream_epochs``), then the motion
stream alone, then both fused (``train.epochs``), end to end. One AdamW optimizer holds every
parameter; a frozen stream simply gets no gradients. The learning rate follows a cosine within each
phase. Clips are centered on labeled frames only (:class:`~ethogram.data.clips.ClipSampler`);
the loss is binary cross-entropy per behavior with positive weights from label frequency,
label smoothing, and optionally a focal term. The weights kept are those of the last epoch
(``train.keep="last"``, the default: the end of the cosine schedule) or, with ``train.keep="best"``
as in DeepEthogram, those of the fused epoch with the best validation macro F1 (behaviors other
than background, each at the threshold that maximizes its F1 on validation), which also drives
early stopping. ``best.pt`` holds the kept weights either way. At the end, per-class
thresholds are chosen on all validation frames (the F1-maximizing ones, moved part of the way
back to 0.5 by ``train.threshold_shrink``) and, if there are test videos, test F1 is reported in
``metrics.json``.

What each epoch does (phases, learning rate, loss, validation scores) is in
:mod:`ethogram.train.feature_trainer`; this module runs the whole training: the model folder,
the split, resuming, the refit, the final thresholds and ``metrics.json``.

>>> from ethogram.project import Project
>>> project = Project.open("mice")  # doctest: +SKIP
>>> model_dir = train_features(project, project.settings("fast"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ethogram.config import Settings, read_settings, save_settings
from ethogram.data.animal_crop import resolve_crop
from ethogram.data.clips import ClipSampler, LabeledVideo
from ethogram.data.preprocess import prepare_video
from ethogram.errors import ModelError, ProjectError
from ethogram.label_counts import count_bouts, few_bouts, few_bouts_message
from ethogram.models.build import build_feature_model
from ethogram.models.checkpoint import load_training_checkpoint, save_checkpoint
from ethogram.models.device import choose_device
from ethogram.models.folder import BEST_NAME, CHECKPOINT_NAME, METRICS_NAME, metrics_or_empty
from ethogram.train.common import fit, seed_everything, write_metrics
from ethogram.train.distributed import current
from ethogram.train.feature_trainer import PHASES, FeatureTrainer, phase_schedule
from ethogram.train.splits import TrainingSplit, choose_training_split, load_training_split
from ethogram.train.validation_support import thin_behaviors, thin_behaviors_message

__all__ = [
    "PHASES",
    "phase_schedule",
    "train_features",
]

logger = logging.getLogger(__name__)


# ---- data ---------------------------------------------------------------------------------------
def trainable_videos(project) -> list[str]:
    """Names of the videos with at least one fully labeled frame (no -1 in its row)."""
    from ethogram.data.clips import labeled_frames

    stems = []
    for record in project.labeled_videos():
        table = project.read_labels(record.stem)
        if table is not None and len(labeled_frames(table.values)):
            stems.append(record.stem)
    return stems


def _load_videos(
    project, stems: list[str], settings: Settings, progress: bool, backgrounds: dict | None = None
) -> list:
    backgrounds = backgrounds or {}
    videos = []
    for stem in stems:
        record = project.video(stem)
        table = project.read_labels(stem)
        if table is None:
            raise ProjectError(f"{record.folder}: video {stem!r} has no labels")
        arrays = prepare_video(record.video_path, settings, progress=progress,
                               background=backgrounds.get(stem))  # fmt: skip
        videos.append(LabeledVideo(stem, arrays, table.values))
    return videos


def split_stems(split: TrainingSplit) -> list[str]:
    """Every video of the split, each once."""
    return sorted({s for part in split.videos.values() for s in part})


def train_features(
    project, settings: Settings, resume: Path | None = None, progress: bool = True
) -> Path:
    """Train the hidden two-stream feature extractor of a project.

    Parameters
    ----------
    project
        An open :class:`ethogram.project.Project` with labeled videos.
    settings
        Resolved settings (``features``, ``flow``, ``train``, ``seed``, ``device``).
    resume
        A model directory of an interrupted run: training continues at the epoch after its last
        ``checkpoint.pt``, with the settings and split saved there (``settings`` is then ignored,
        except ``device``).
    progress
        Show progress bars. Notes (one line per epoch, the split, the scores) go to the logger
        ``ethogram.train.features``.

    Returns
    -------
    pathlib.Path
        The model directory (``models/<stamp>_features_<arch>/``) with ``config.yaml``,
        ``split.yaml``, ``checkpoint.pt``, ``best.pt``, ``metrics.json`` and
        ``figures/training_curves.png``.
    """
    class_names = project.behaviors
    dist = current()
    progress = progress and dist.is_main
    if resume is not None:
        model_dir = Path(resume)
        if not (model_dir / "config.yaml").is_file() or not (model_dir / "split.yaml").is_file():
            raise ModelError(f"{model_dir}: not a feature model directory to resume "
                             "(expected config.yaml and split.yaml)")  # fmt: skip
        device_setting = settings.device
        settings = read_settings(model_dir / "config.yaml")
        settings.device = device_setting
        split = load_training_split(model_dir / "split.yaml")
        backgrounds: dict[str, np.ndarray] = {}
    elif dist.is_main:
        model_dir, settings, split, backgrounds = _new_run(project, settings)
    else:  # rank 0 chooses the split and makes the folder; the other ranks get them
        model_dir, split, backgrounds = None, None, {}
    if resume is None:
        model_dir, settings, split = dist.broadcast((model_dir, settings, split))
    if split.reason:
        logger.info(f"split: {split.reason}")
    seed_everything(settings.seed)
    device = choose_device(settings.device)
    feat = settings.features
    started = time.perf_counter()

    with dist.main_first():  # rank 0 fills the caches, the other ranks then read them
        videos = _load_videos(project, split_stems(split), settings, progress, backgrounds)
    parts = split.feature_videos(videos, feat.n_rgb, feat.n_flows)
    test_stems = set(split.stems("test"))
    labeled_bouts = count_bouts([v.labels for v in videos if v.stem not in test_stems], class_names)
    if dist.is_main and (few := few_bouts(labeled_bouts)):
        logger.warning(few_bouts_message(few))
    if not parts["val"]:
        logger.warning("no validation video: validating on the training videos (optimistic)")
    train = ClipSampler(parts["train"], feat.n_rgb, feat.n_flows)
    val = ClipSampler(parts["val"] or parts["train"], feat.n_rgb, feat.n_flows)
    test = ClipSampler(parts["test"], feat.n_rgb, feat.n_flows) if parts["test"] else None
    preprocess_s = time.perf_counter() - started

    from ethogram.infer.postprocess import resolve_exclusive

    seed_everything(settings.seed)
    model = build_feature_model(settings, len(class_names)).to(device)
    trainer = FeatureTrainer(settings, model, train, val, class_names, device, progress)
    exclusive = resolve_exclusive(
        settings.postprocess.exclusive, [video.labels for video in train.videos]
    )
    header = {"stage": "features", "class_names": class_names, "split": split.videos,
              "split_note": split.reason, "validation": split.summary(),
              "labeled_bouts": labeled_bouts,
              "arch": feat.arch, "flow_arch": feat.flow_arch,
              "pos_weight": trainer.pos_weight.cpu().tolist(),
              "exclusive": exclusive}  # fmt: skip
    n_stream = 2 * settings.train.stream_epochs
    result = fit(
        model_dir,
        model,
        trainer.optimizer,
        epochs=len(trainer.schedule),
        train_epoch=trainer.train_epoch,
        validate=trainer.validate,
        monitor="val_f1_macro",
        patience=settings.train.patience if settings.train.keep == "best" else None,
        monitor_from_epoch=n_stream,
        metrics_header=header,
        extra_state=trainer.extra_state,
        on_epoch_start=trainer.on_epoch_start,
        seed=settings.seed,
        resume=resume is not None,
        log=logger.info,
    )
    if dist.is_main:
        _finish(model_dir, trainer, result, header, test, preprocess_s, started)
    if settings.train.refit and parts["val"]:
        every = [v for v in videos if v.stem not in test_stems]
        epochs = len(trainer.schedule)
        if settings.train.keep == "best" and result.best_epoch >= 0:
            epochs = result.best_epoch + 1
        epochs = dist.broadcast(epochs)  # only rank 0 validated
        _refit(model_dir, settings, every, class_names, device, progress, epochs)
    return model_dir


def _new_run(project, settings: Settings):
    """Choose the split and the crop; make the model folder with its ``config.yaml`` and
    ``split.yaml``. Returns ``(model_dir, settings, split, backgrounds)``."""
    stems = trainable_videos(project)
    if not stems:
        raise ProjectError(
            f"{project.root}: no video has a fully labeled frame; label some frames first"
        )
    labels = {stem: project.read_labels(stem).values for stem in stems}
    split = choose_training_split(project, stems, labels, settings)
    videos = {stem: project.video(stem).video_path for stem in stems}
    settings, backgrounds = resolve_crop(videos, settings)
    model_dir = project.new_model_dir("features", settings.features.arch)
    save_settings(settings, model_dir / "config.yaml")
    split.save(model_dir / "split.yaml")
    return model_dir, settings, split, backgrounds


VALIDATION_FIT_NAME = "validation_fit.pt"


def _refit(model_dir, settings, videos, class_names, device, progress, epochs: int) -> None:
    """Train again from the same seed on every labeled frame of ``videos`` (validation blocks
    or videos included), for the epochs validation chose; ``best.pt`` gets the new weights with
    the thresholds chosen on validation (the validation fit is kept in ``validation_fit.pt``)."""
    feat = settings.features
    sampler = ClipSampler(videos, feat.n_rgb, feat.n_flows)
    seed_everything(settings.seed)
    model = build_feature_model(settings, len(class_names)).to(device)
    trainer = FeatureTrainer(settings, model, sampler, None, class_names, device, progress)
    logger.info(f"refit: training the feature extractor again on every labeled frame of "
                f"{len(videos)} videos, {epochs} epochs")  # fmt: skip
    started = time.perf_counter()
    fit(
        model_dir / "refit",
        model,
        trainer.optimizer,
        epochs=epochs,
        train_epoch=trainer.train_epoch,
        validate=lambda epoch: {},
        on_epoch_start=trainer.on_epoch_start,
        seed=settings.seed,
        resume=True,
        log=logger.info,
    )
    model.set_trainable(spatial=True, motion=True)
    if not trainer.dist.is_main:
        return
    kept = load_training_checkpoint(model_dir / BEST_NAME)
    save_checkpoint(model_dir / VALIDATION_FIT_NAME, kept)
    save_checkpoint(model_dir / BEST_NAME, {**kept, "model": model.state_dict(), "refit": True})
    metrics = metrics_or_empty(model_dir)
    metrics["refit"] = {
        "epochs": epochs,
        "videos": [v.stem for v in videos],
        "frames": len(sampler),
        "pos_weight": trainer.pos_weight.cpu().tolist(),
        "thresholds": "chosen on validation before the refit",
        "validation_fit": VALIDATION_FIT_NAME,
        "seconds": round(time.perf_counter() - started, 2),
    }
    write_metrics(model_dir / METRICS_NAME, metrics)


def _finish(model_dir, trainer, result, header, test, preprocess_s, started) -> None:
    """Reload the kept weights; thresholds on all validation frames; test scores; metrics.json."""
    best_path = model_dir / BEST_NAME
    keep_last = trainer.settings.train.keep == "last"
    kept_path = model_dir / CHECKPOINT_NAME if keep_last else best_path
    if kept_path.is_file():  # saved again as best.pt below, so every reader finds it there
        saved = load_training_checkpoint(kept_path)
        keys = ("model", "epoch", "best_metric", "monitor", "extra")
        best = {key: saved.get(key) for key in keys}
        if keep_last:
            best["monitor"], result.best_epoch = "last epoch", int(saved["epoch"])
        trainer.model.load_state_dict(best["model"])
    else:  # no fused epoch had a defined validation F1 (e.g. no behavior in the val videos)
        logger.warning("validation macro F1 was never defined (do the validation videos show "
                       "any behavior?); keeping the last epoch's weights")  # fmt: skip
        best = {"model": trainer.model.state_dict(), "epoch": len(result.history) - 1,
                "best_metric": None, "monitor": "val_f1_macro"}  # fmt: skip
    trainer.model.set_trainable(spatial=True, motion=True)
    val_items = trainer.val.evaluation_items()
    val_scores = trainer.scores(*trainer.predict(trainer.val, val_items))
    thresholds = val_scores["thresholds"]
    best["extra"] = {**(best.get("extra") or {}), "thresholds": [float(t) for t in thresholds],
                     "class_names": list(trainer.class_names)}  # fmt: skip
    save_checkpoint(best_path, best)
    metrics = metrics_or_empty(model_dir)
    metrics.update(header)
    metrics.update(
        thresholds=thresholds,
        best_epoch=result.best_epoch,
        keep=trainer.settings.train.keep,
        stopped_early=result.stopped_early,
        val={
            "f1": val_scores["f1"],
            "f1_macro": val_scores["f1_macro"],
            "loss": val_scores["loss"],
            "best_thresholds": [float(t) for t in val_scores["best_thresholds"]],
        },  # fmt: skip
        preprocess_seconds=round(preprocess_s, 2),
        total_seconds=round(time.perf_counter() - started, 2),
    )
    thin = thin_behaviors([v.labels for v in trainer.val.videos], trainer.class_names)
    metrics["thin_validation_behaviors"] = thin
    if thin:
        logger.warning(thin_behaviors_message(thin, [v.stem for v in trainer.val.videos]))
    if test is not None:
        s = trainer.scores(*trainer.predict(test, test.evaluation_items()), thresholds=thresholds)
        metrics["test"] = {"f1": s["f1"], "f1_macro": s["f1_macro"], "loss": s["loss"]}
        logger.info(f"test macro F1 (without background): {s['f1_macro']:.3f}")
    write_metrics(model_dir / METRICS_NAME, metrics)
    kept = "last epoch" if keep_last else "best epoch"
    logger.info(f"{kept} {result.best_epoch}, val macro F1 {val_scores['f1_macro']:.3f}; "
                f"model in {model_dir}")  # fmt: skip
