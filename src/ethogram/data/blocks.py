"""Validation on held-out time blocks inside each labeled video (``train.validation=blocks``).

With few labeled videos, holding whole videos out for validation leaves little to train on
(DeepEthogram's 60/20/20 split trains a 4-video project on 2 of them). Instead, a fraction of each
video's labeled frames is held out as a few contiguous *blocks*; every video trains on the rest.

- Blocks are placed at random (seeded), apart from one another; among several random placements
  the one is kept whose validation share of each behavior is closest to the wanted fraction, so
  that rare behaviors are represented in validation without losing most of their training bouts.
- A training clip never overlaps a block: its frame must lie at least a clip's reach (the frames
  its RGB and flow stacks read, :func:`clip_reach`) away from every block. Validation frames are
  the labeled frames inside the blocks (their clips may read training frames: those are input).
- Everything works on label arrays: the training copy of a video's labels has -1 in every block
  and its guard band, the validation copy has -1 everywhere outside the blocks, and the existing
  samplers already skip frames with -1.

>>> labels = np.zeros((1000, 2), np.int8); labels[:, 0] = 1
>>> blocks = choose_blocks({"v": labels}, fraction=0.2, block_frames=100, reach=(5, 5), seed=0)
>>> [(int(e) - int(s)) for s, e in blocks["v"]]
[100, 100]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "MIN_BLOCK_FRAMES",
    "block_mask",
    "choose_blocks",
    "clip_reach",
    "training_labels",
    "validation_labels",
]

MIN_BLOCK_FRAMES = 30
CANDIDATES = 64  # random placements tried per video


def clip_reach(n_rgb: int, n_flows: int) -> tuple[int, int]:
    """Frames before and after ``t`` that the clip of frame ``t`` reads.

    The RGB stack covers ``t - n_rgb // 2 .. t - n_rgb // 2 + n_rgb - 1``; flow ``i`` maps frame
    ``i`` to ``i + 1``, and the flow stack covers flows ``t - n_flows // 2 ..`` (``n_flows`` of
    them), so frames up to ``t - n_flows // 2 + n_flows``.
    """
    before = max(n_rgb // 2, n_flows // 2)
    after = max(n_rgb - n_rgb // 2 - 1, n_flows - n_flows // 2)
    return int(before), int(after)


def block_mask(
    n_frames: int, blocks: Sequence[Sequence[int]], reach: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Boolean (T,): True inside the blocks, widened by ``reach`` (before, after) frames.

    A frame ``t`` whose clip reads frames ``t - before .. t + after`` overlaps block ``[s, e)``
    iff ``s - after <= t < e + before``.
    """
    before, after = reach
    mask = np.zeros(int(n_frames), bool)
    for start, end in blocks:
        mask[max(int(start) - after, 0) : min(int(end) + before, int(n_frames))] = True
    return mask


def training_labels(
    labels: np.ndarray, blocks: Sequence[Sequence[int]], reach: tuple[int, int]
) -> np.ndarray:
    """A copy of ``labels`` with -1 on every frame whose clip would overlap a block."""
    out = np.array(labels, dtype=np.int8, copy=True)
    out[block_mask(len(out), blocks, reach)] = -1
    return out


def validation_labels(labels: np.ndarray, blocks: Sequence[Sequence[int]]) -> np.ndarray:
    """A copy of ``labels`` with -1 on every frame outside the blocks."""
    out = np.array(labels, dtype=np.int8, copy=True)
    out[~block_mask(len(out), blocks)] = -1
    return out


def _placements(n_frames: int, k: int, length: int, gap: int, rng: np.random.Generator):
    """Random starts of ``k`` blocks of ``length`` frames, at least ``gap`` apart, or None."""
    free = n_frames - k * length - (k - 1) * gap
    if free < 0:
        return None
    # k sorted cut points in [0, free]: the slack before each block
    slack = np.sort(rng.integers(0, free + 1, size=k))
    return slack + np.arange(k) * (length + gap)


def choose_blocks(
    label_arrays: Mapping[str, np.ndarray],
    fraction: float = 0.2,
    block_frames: int = 150,
    reach: tuple[int, int] = (5, 5),
    seed: int = 0,
) -> dict[str, list[tuple[int, int]]]:
    """Validation blocks ``[start, end)`` of each video, about ``fraction`` of its frames.

    Parameters
    ----------
    label_arrays
        Video name -> labels (T, K) of 1/0/-1.
    fraction
        Share of each video's labeled frames to hold out.
    block_frames
        Wanted block length; each video gets ``round(fraction * L / block_frames)`` blocks (at
        least 1; ``L`` its labeled frames), of equal length, so that they hold ``fraction`` of
        its labeled frames.
    reach
        A clip's reach (:func:`clip_reach`); blocks are at least twice the larger of the two
        apart, so that some training frames lie between them.
    seed
        Random seed; videos are visited in sorted order.

    Returns
    -------
    dict
        Video name -> sorted blocks, between the video's first and last labeled frames (a video
        labeled in part holds out ``fraction`` of its labeled frames); a video too short for a
        block of ``MIN_BLOCK_FRAMES`` frames with training frames on either side, or without
        labels, gets none (it trains only).
    """
    rng = np.random.default_rng([int(seed), 4099])
    gap = 2 * max(reach) + 1
    names = sorted(label_arrays)
    totals = taken = 0.0
    out: dict[str, list[tuple[int, int]]] = {}
    for name in names:
        labels = np.asarray(label_arrays[name])
        totals = totals + _counts(labels, None)  # of the videos so far: the greedy's target
        # blocks lie between the first and the last labeled frame and hold ``fraction`` of the
        # labeled frames (a video labeled in part: its unlabeled frames validate nothing)
        labeled = np.flatnonzero((labels >= 0).all(axis=1))
        if labeled.size == 0:
            out[name] = []
            continue
        first, n = int(labeled[0]), int(labeled[-1]) + 1 - int(labeled[0])
        k = max(1, int(round(fraction * labeled.size / max(int(block_frames), 1))))
        length = int(round(fraction * labeled.size / k))
        while k > 1 and length < MIN_BLOCK_FRAMES:
            k -= 1
            length = int(round(fraction * labeled.size / k))
        if length < MIN_BLOCK_FRAMES or n - k * length < 2 * gap:
            out[name] = []
            continue
        best, best_cost, best_counts = None, np.inf, 0.0
        for _ in range(CANDIDATES):
            starts = _placements(n - 2 * gap, k, length, gap, rng)
            if starts is None:
                break
            blocks = [(first + int(s) + gap, first + int(s) + gap + length) for s in starts]
            counts = _counts(labels, blocks)
            cost = _cost(taken + counts, totals, fraction)
            if cost < best_cost:
                best, best_cost, best_counts = blocks, cost, counts
        if best is None:
            out[name] = []
            continue
        taken = taken + best_counts
        out[name] = best
    return out


def _counts(labels: np.ndarray, blocks) -> np.ndarray:
    """Positive frames per class in ``blocks`` (all frames if None), labeled rows only."""
    labels = np.asarray(labels)
    rows = (labels >= 0).all(axis=1)
    if blocks is not None:
        rows &= block_mask(len(labels), blocks)
    return (labels[rows] == 1).sum(axis=0).astype(np.float64)


def _cost(taken: np.ndarray, totals: np.ndarray, fraction: float) -> float:
    """How far each class's validation share is from ``fraction`` (classes weighted alike)."""
    taken, totals = np.asarray(taken, float), np.asarray(totals, float)
    present = totals > 0
    share = taken[present] / totals[present]
    return float(np.abs(share - fraction).sum())
