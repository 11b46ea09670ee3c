"""Per-video batch-norm statistics for the two-stream network (AdaBN, Li et al. 2016).

A network trained on a few videos learns batch-norm statistics that mix those videos. On a new
video (another animal, arena, lighting or camera distance) its activations are shifted as a
whole, and a fixed threshold then fires too often or too rarely. Measuring the statistics of the
selected stream(s) on the video itself, from its own unlabeled frames, removes that shift before
the video's features are computed. Nothing is learned: only the batch-norm running means and
variances change, and they are put back afterwards.

``mode`` names what is adapted: ``"none"``, ``"flow"`` (the motion stream; the default, see
docs/training.md for the measurements) or ``"all"`` (both streams).

>>> import torch
>>> from ethogram.nn import HiddenTwoStream, create_model
>>> model = HiddenTwoStream(create_model("resnet18", in_chans=3, width=0.25),
...                         create_model("resnet18", in_chans=4, width=0.25), 3).eval()
>>> flows = [(None, torch.randn(8, 4, 32, 32)) for _ in range(2)]
>>> with video_statistics(model, "flow", flows):
...     out = model(torch.randn(2, 3, 32, 32), torch.randn(2, 4, 32, 32))
>>> out.logits.shape
torch.Size([2, 3])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

__all__ = [
    "MIN_STATISTICS_FRAMES",
    "STATISTICS_BATCH",
    "STATISTICS_FRAMES",
    "VIDEO_NORM_MODES",
    "adapted_streams",
    "statistics_frame_limit",
    "statistics_frames",
    "video_statistics",
]

VIDEO_NORM_MODES: tuple[str, ...] = ("none", "flow", "all")
STATISTICS_FRAMES = 512
"""Frames of a video (evenly spaced) its batch-norm statistics are measured on, at most."""
MIN_STATISTICS_FRAMES = 32
"""Videos shorter than this keep the training statistics (too few frames to measure them)."""
STATISTICS_BATCH = 64
"""Frames per batch of the statistics pass (the same in training and extraction: the running
variance is an average of per-batch variances)."""
STATISTICS_BYTES = 256 * 2**20
"""Memory for the input stacks held for the statistics pass; large inputs get fewer frames."""


def adapted_streams(model: nn.Module, mode: str) -> list[nn.Module]:
    """The streams of a :class:`~ethogram.nn.fusion.HiddenTwoStream` that ``mode`` adapts."""
    if mode not in VIDEO_NORM_MODES:
        raise ValueError(f"video_norm: expected one of {VIDEO_NORM_MODES}, got {mode!r}")
    return {"none": [], "flow": [model.motion], "all": [model.spatial, model.motion]}[mode]


def statistics_frame_limit(features) -> int:
    """Frames to measure on for these ``features`` settings: ``STATISTICS_FRAMES``, or fewer
    (at least 64) when their float16 input stacks would need more than ``STATISTICS_BYTES``.

    Training's validation and extraction both use it, so that they measure the same frames.
    """
    per_stack = features.n_flows * 2 * features.motion_size**2 * 2
    if features.video_norm == "all":
        per_stack += features.n_rgb * features.input_size**2 * 3
    return int(np.clip(STATISTICS_BYTES // per_stack, 64, STATISTICS_FRAMES))


def statistics_frames(
    n_frames: int, max_frames: int = STATISTICS_FRAMES, seed: int = 0
) -> np.ndarray:
    """Frame indices to measure a video's statistics on: evenly spaced, in shuffled order.

    Shuffled, so that each batch spans the whole video (a batch of consecutive frames has less
    variance than the video). Empty for videos shorter than ``MIN_STATISTICS_FRAMES``: they keep
    the statistics the network was trained with.
    """
    if n_frames < MIN_STATISTICS_FRAMES:
        return np.zeros(0, np.int64)
    frames = np.unique(np.linspace(0, n_frames - 1, min(n_frames, max_frames)).round())
    return np.random.default_rng(seed).permutation(frames.astype(np.int64))


def _batchnorms(modules: Iterable[nn.Module]) -> list[nn.modules.batchnorm._BatchNorm]:
    return [
        m
        for module in modules
        for m in module.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    ]


@contextmanager
def video_statistics(
    model: nn.Module,
    mode: str,
    batches: Iterable[tuple[torch.Tensor | None, torch.Tensor | None]],
) -> Iterator[nn.Module]:
    """Run ``model`` with batch-norm statistics measured on one video's ``batches``.

    Parameters
    ----------
    model
        A :class:`~ethogram.nn.fusion.HiddenTwoStream`; it is left in eval mode.
    mode
        ``"none"`` (nothing changes), ``"flow"`` or ``"all"``.
    batches
        ``(rgb, flow)`` input tensors of the video's frames, as the model takes them (read
        once, lazily); a None input leaves its stream as it is. Frames should be spread over the
        video (:func:`statistics_frames`).

    Yields
    ------
    torch.nn.Module
        ``model``, in eval mode, with the adapted statistics until the block ends; then the
        statistics it was trained with are back.
    """
    streams = adapted_streams(model, mode)
    layers = {id(stream): _batchnorms([stream]) for stream in streams}
    every = [m for stream_layers in layers.values() for m in stream_layers]
    saved = {
        id(m): (
            m.running_mean.clone(),
            m.running_var.clone(),
            m.num_batches_tracked.clone(),
            m.momentum,
        )  # fmt: skip
        for m in every
    }

    def restore(modules) -> None:
        for m in modules:
            mean, var, count, momentum = saved[id(m)]
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)
            m.momentum = momentum

    was_training = model.training
    try:
        model.eval()
        if every:
            for m in every:
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the batches
                m.train()
            seen: set[int] = set()
            with torch.no_grad():
                for rgb, flow in batches:
                    for stream, x in ((model.motion, flow), (model.spatial, rgb)):
                        if x is not None and id(stream) in layers:
                            stream.forward_features(x)
                            seen.add(id(stream))
            for key, stream_layers in layers.items():
                if key not in seen:  # no input for this stream: keep its trained statistics
                    restore(stream_layers)
            model.eval()
        yield model
    finally:
        restore(every)
        model.train(was_training)
