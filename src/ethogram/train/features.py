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

>>> from ethogram.project import Project
>>> project = Project.open("mice")  # doctest: +SKIP
>>> model_dir = train_features(project, project.settings("fast"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ethogram.config import Settings, read_settings, save_settings
from ethogram.data.animal_crop import resolve_crop
from ethogram.data.augment import training_augmenter
from ethogram.data.clips import ClipBatch, ClipSampler, LabeledVideo, balance_weights
from ethogram.data.preprocess import flow_to_tensor, prepare_video, rgb_to_tensor
from ethogram.errors import ModelError, ProjectError
from ethogram.models.build import build_feature_model
from ethogram.models.checkpoint import load_training_checkpoint, save_checkpoint
from ethogram.models.device import choose_device
from ethogram.models.folder import BEST_NAME, CHECKPOINT_NAME, METRICS_NAME, metrics_or_empty
from ethogram.nn.fusion import predict_two_stream
from ethogram.nn.registry import is_3d
from ethogram.nn.video_norm import (
    STATISTICS_BATCH,
    statistics_frame_limit,
    statistics_frames,
    video_statistics,
)
from ethogram.progress import progress_iter
from ethogram.train.batchnorm_sync import synchronize_batchnorm
from ethogram.train.common import fit, seed_everything, write_metrics
from ethogram.train.distributed import current
from ethogram.train.losses import multilabel_loss, positive_weights
from ethogram.train.splits import TrainingSplit, choose_training_split, load_training_split
from ethogram.train.validation_support import thin_behaviors, thin_behaviors_message

__all__ = [
    "PHASES",
    "phase_schedule",
    "train_features",
]

logger = logging.getLogger(__name__)

PHASES = ("spatial", "flow", "fused")
VAL_FRAMES_PER_EPOCH = 1500  # validation subsample per epoch (the final thresholds use all)
EVAL_BATCH = 128
MIN_LR_FRACTION = 0.05


# ---- schedule ----------------------------------------------------------------------------------
def phase_schedule(settings: Settings) -> list[tuple[str, int, int]]:
    """Per epoch: ``(phase, epoch within the phase, epochs of the phase)``."""
    lengths = {"spatial": settings.train.stream_epochs, "flow": settings.train.stream_epochs,
               "fused": settings.train.epochs}  # fmt: skip
    return [(phase, i, lengths[phase]) for phase in PHASES for i in range(lengths[phase])]


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


# ---- the trainer --------------------------------------------------------------------------------
class _FeatureTrainer:
    """State shared by the epoch callbacks of :func:`train_features`."""

    def __init__(self, settings, model, train, val, class_names, device, progress):
        self.settings, self.model, self.device = settings, model, device
        self.train, self.val, self.class_names = train, val, class_names
        self.dist = current()
        if self.dist.active and settings.train.sync_batchnorm:
            synchronize_batchnorm(model)  # statistics of the whole batch, as in one process
        self.progress = progress and self.dist.is_main
        self.network = model  # what trains: the model itself, or DDP around it (several ranks)
        self._wrapped_phase: str | None = None
        self.three_d = is_3d(settings.features.arch)
        # rare behaviors' clips drawn more often (train.balance); the loss weighs what is drawn
        self.draw_weights = None
        if settings.train.balance > 0:
            self.draw_weights = balance_weights(train.label_matrix(), settings.train.balance)
        weights = positive_weights(train.label_matrix(), sample_weights=self.draw_weights)
        self.pos_weight = torch.as_tensor(weights, device=device)
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=settings.train.lr, weight_decay=settings.train.weight_decay
        )
        self.schedule = phase_schedule(settings)
        self.augment = training_augmenter(settings.train)
        self.thresholds = np.full(len(class_names), 0.5)
        self.images_per_s: float | None = None

    def phase(self, epoch: int) -> str:
        return self.schedule[epoch][0]

    def on_epoch_start(self, epoch: int) -> None:
        phase = self.schedule[epoch][0]
        self.model.set_trainable(spatial=phase != "flow", motion=phase != "spatial")
        if self.dist.active and phase != self._wrapped_phase:
            # DDP synchronizes the parameters trainable when it is built: rebuild per phase
            fusion = self.settings.features.fusion
            # parameters the loss does not reach: fusion weights while one stream trains, the
            # streams' own heads under a concatenating fusion
            unused = fusion == "concatenate" or (fusion == "weighted" and phase != "fused")
            self.network = self.dist.wrap(self.model, self.device, find_unused=unused)
            self._wrapped_phase = phase

    def extra_state(self) -> dict[str, Any]:
        return {"thresholds": [float(t) for t in self.thresholds]}

    def inputs(self, batch, phase: str, augment: bool, generator=None):
        rgb = flow = None
        if phase != "flow":
            rgb = rgb_to_tensor(batch.rgb, self.three_d, self.device)
        if phase != "spatial":
            flow = flow_to_tensor(batch.flow, self.device)
        if augment and self.augment is not None:
            rgb, flow = self.augment(rgb, flow, generator)
        return rgb, flow

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        tr = self.settings.train
        gamma = tr.focal_gamma if tr.loss == "focal" else None
        return multilabel_loss(logits, labels, self.pos_weight, tr.label_smoothing, gamma)

    def train_epoch(self, epoch: int) -> dict[str, Any]:
        tr = self.settings.train
        phase, index, length = self.schedule[epoch]
        rng = np.random.default_rng(torch.randint(0, 2**31, (1,)).item())
        # every rank draws the same global batches and trains on its share of each
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)) + self.dist.rank)
        batches = self.train.random_batches(
            tr.steps_per_epoch, tr.batch_size, rng, self.draw_weights
        )
        total_steps = max(1, length * tr.steps_per_epoch)
        loss_sum, started, n_images = 0.0, time.perf_counter(), 0
        desc = f"epoch {epoch} ({phase})"
        for step, global_items in enumerate(
            progress_iter(batches, len(batches), desc, self.progress)
        ):
            items = self.dist.shard(global_items)
            fraction = (index * tr.steps_per_epoch + step) / total_steps
            cosine = 0.5 * (1 + math.cos(math.pi * fraction))
            lr = tr.lr * (MIN_LR_FRACTION + (1 - MIN_LR_FRACTION) * cosine)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            batch = self.train.batch(items)
            rgb, flow = self.inputs(batch, phase, augment=True, generator=generator)
            labels = torch.as_tensor(batch.labels, device=self.device).float()
            out = self.network(rgb, flow)
            loss = self.loss(out.logits, labels)
            # DDP averages the ranks' gradients: weigh each rank's mean by its share of the
            # batch, so the step is that of the global batch's mean loss
            share = len(items) * self.dist.world_size / len(global_items)
            self.optimizer.zero_grad(set_to_none=True)
            (loss * share).backward()
            self.optimizer.step()
            loss_sum += loss.item() * len(items)
            n_images += len(items)
        loss_sum, n_images = self.dist.sum([loss_sum, n_images])
        seconds = time.perf_counter() - started
        self.images_per_s = n_images / seconds if seconds > 0 else None
        return {"phase": phase, "train_loss": loss_sum / max(n_images, 1),
                "train_images_per_s": self.images_per_s}  # fmt: skip

    def predict(self, sampler: ClipSampler, items: np.ndarray, phase: str = "fused"):
        """Probabilities, logits and labels of ``items`` (no augmentation; mirror-averaged
        with ``features.mirror_average``, as extraction).

        Each video is predicted with batch-norm statistics measured on its own frames
        (``features.video_norm``), as extraction does.
        """
        items = np.asarray(items, np.int64)
        n_classes = len(self.class_names)
        logits_all = np.zeros((len(items), n_classes), np.float32)
        labels = np.zeros((len(items), n_classes), np.int8)
        videos = sampler.video_index[items]
        mirror = self.settings.features.mirror_average
        for v in np.unique(videos):
            rows = np.flatnonzero(videos == v)
            statistics = self._statistics_batches(sampler.videos[int(v)].arrays, phase)
            with (
                video_statistics(self.model, self.settings.features.video_norm, statistics),
                torch.inference_mode(),
            ):
                for start in range(0, len(rows), EVAL_BATCH):
                    chunk = rows[start : start + EVAL_BATCH]
                    batch = sampler.batch(items[chunk])
                    rgb, flow = self.inputs(batch, phase, augment=False)
                    out = predict_two_stream(self.model, rgb, flow, mirror=mirror)
                    logits_all[chunk] = out.logits.float().cpu().numpy()
                    labels[chunk] = batch.labels
        probs = 1.0 / (1.0 + np.exp(-logits_all))
        return probs, logits_all, labels

    def _statistics_batches(self, arrays, phase: str) -> Iterator[tuple[Any, Any]]:
        """Inputs of a video's frames for :func:`~ethogram.nn.video_norm.video_statistics`."""
        if self.settings.features.video_norm == "none":
            return
        feat = self.settings.features
        order = statistics_frames(arrays.n_frames, statistics_frame_limit(feat))
        for start in range(0, len(order), STATISTICS_BATCH):
            frames = order[start : start + STATISTICS_BATCH]
            rgb, flow = arrays.stacks(frames, feat.n_rgb, feat.n_flows)
            yield self.inputs(ClipBatch(rgb, flow, None, None, None), phase, augment=False)

    def scores(self, probs, logits, labels, thresholds=None) -> dict[str, Any]:
        """Loss and F1; without ``thresholds``, F1 at the best ones and the shrunk ones to use."""
        from ethogram.evaluate.metrics import (
            choose_thresholds,
            frame_metrics,
            macro,
            shrink_thresholds,
        )

        scored = choose_thresholds(probs, labels) if thresholds is None else thresholds
        f1 = frame_metrics(labels, (probs >= scored).astype(np.int8))["f1"]
        if thresholds is None:
            thresholds = shrink_thresholds(scored, self.settings.train.threshold_shrink)
        loss = self.loss(torch.as_tensor(logits), torch.as_tensor(labels).float()).item()
        return {"loss": loss, "f1": f1, "f1_macro": macro(f1, self.class_names, False),
                "thresholds": thresholds, "best_thresholds": scored}  # fmt: skip

    def validate(self, epoch: int) -> dict[str, Any]:
        phase = self.phase(epoch)
        items = self.val.evaluation_items(VAL_FRAMES_PER_EPOCH)
        s = self.scores(*self.predict(self.val, items, phase))
        if phase == "fused":
            self.thresholds = s["thresholds"]
        return {"val_loss": s["loss"], "val_f1_macro": s["f1_macro"],
                "val_f1": [float(v) for v in s["f1"]]}  # fmt: skip


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
    if not parts["val"]:
        logger.warning("no validation video: validating on the training videos (optimistic)")
    train = ClipSampler(parts["train"], feat.n_rgb, feat.n_flows)
    val = ClipSampler(parts["val"] or parts["train"], feat.n_rgb, feat.n_flows)
    test = ClipSampler(parts["test"], feat.n_rgb, feat.n_flows) if parts["test"] else None
    preprocess_s = time.perf_counter() - started

    from ethogram.infer.postprocess import resolve_exclusive

    seed_everything(settings.seed)
    model = build_feature_model(settings, len(class_names)).to(device)
    trainer = _FeatureTrainer(settings, model, train, val, class_names, device, progress)
    exclusive = resolve_exclusive(
        settings.postprocess.exclusive, [video.labels for video in train.videos]
    )
    header = {"stage": "features", "class_names": class_names, "split": split.videos,
              "split_note": split.reason, "validation": split.summary(),
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
        test_stems = set(split.stems("test"))
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
    trainer = _FeatureTrainer(settings, model, sampler, None, class_names, device, progress)
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
