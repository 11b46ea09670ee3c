"""What each epoch of the feature extractor's training does: :class:`FeatureTrainer`.

The curriculum's phases (:func:`phase_schedule`: the spatial stream, the motion stream, then both
fused), a cosine learning rate within each phase, augmented batches (each rank trains on its share
of every batch), the loss, and prediction and scores on validation frames with the per-video
batch-norm statistics extraction uses. :func:`ethogram.train.features.train_features` drives it
and keeps the run: model folder, split, resuming, final thresholds and ``metrics.json``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ethogram.config import Settings
from ethogram.data.augment import training_augmenter
from ethogram.data.clips import ClipBatch, ClipSampler, balance_weights
from ethogram.data.preprocess import flow_to_tensor, rgb_to_tensor
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
from ethogram.train.distributed import current
from ethogram.train.losses import multilabel_loss, positive_weights

__all__ = ["PHASES", "FeatureTrainer", "phase_schedule"]

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


# ---- the trainer ---------------------------------------------------------------------------------
class FeatureTrainer:
    """One feature extractor's training state and the epoch callbacks that
    :func:`~ethogram.train.common.fit` calls: phases, optimizer and learning rate, augmentation,
    loss, and prediction and scores on held-out frames."""

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
