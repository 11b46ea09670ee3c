"""Windows of per-frame features for the sequence model.

The sequence model reads long windows (e.g. 180 frames) of the feature extractor's outputs: the
spatial and flow features concatenated, ``(T, F)``, and, for TGMJ, the feature extractor's
logits ``(T, K)``. Training covers each video with non-overlapping windows whose grid is shifted
by a random offset every epoch; windows that reach past either end of a video are padded with
zero features and ``-1`` labels, so padding never enters the loss (nor do unlabeled values: the
loss is masked element by element, as DeepEthogram's).

Examples
--------
>>> window_starts(10, 4)
array([0, 4, 8])
>>> window_starts(10, 4, offset=1)
array([-1,  3,  7])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from ethogram.data.blocks import block_mask, validation_labels
from ethogram.errors import LabelError
from ethogram.io.outputs import OutputsError, read_outputs

FEATURE_DATASETS = ("spatial_features", "flow_features")


@dataclass
class SequenceInputs:
    """What the sequence model sees of one video.

    Attributes
    ----------
    stem
        Video name.
    features
        float32 (T, F): spatial and flow features, concatenated.
    logits
        float32 (T, K): the feature extractor's logits (TGMJ input), or None.
    labels
        int8 (T, K) with 1/0/-1, or None for an unlabeled video.
    spatial_columns
        How many of the first ``features`` columns are spatial features (0 if none).
    """

    stem: str
    features: np.ndarray
    logits: np.ndarray | None = None
    labels: np.ndarray | None = None
    spatial_columns: int = 0

    @property
    def n_frames(self) -> int:
        """Number of frames T."""
        return int(self.features.shape[0])


SEQUENCE_NORMALIZE = ("video", "train")


def standardize_per_video(features: np.ndarray, floor: float = 0.1) -> np.ndarray:
    """Subtract each column's mean over the video and divide by its standard deviation.

    Videos of other animals, coats or lighting shift the feature extractor's features as a
    whole; standardizing every video on its own removes those offsets (instance normalization
    over time). It assumes a video long enough to show the animal's range of behavior.
    Standard deviations are floored at ``floor`` times their median (and 1e-3), as in
    :func:`feature_statistics`, so a column that hardly varies in this video is not blown up.

    Parameters
    ----------
    features
        float (T, F).

    Returns
    -------
    numpy.ndarray
        float32 (T, F).
    """
    x = np.asarray(features, dtype=np.float32)
    if x.shape[0] == 0:
        return x.copy()
    mean = x.mean(axis=0, dtype=np.float64)
    std = x.std(axis=0, dtype=np.float64)
    positive = std[std > 0]
    lowest = max(floor * float(np.median(positive)) if positive.size else 1.0, 1e-3)
    return ((x - mean) / np.maximum(std, lowest)).astype(np.float32)


def load_sequence_inputs(
    outputs_path: str | Path,
    group: str,
    labels: np.ndarray | None = None,
    stem: str | None = None,
    normalize: str = "train",
) -> SequenceInputs:
    """Read a video's features (and the feature extractor's logits) from its outputs file.

    Parameters
    ----------
    outputs_path
        ``<stem>_outputs.h5``.
    group
        The feature extractor's group (e.g. ``"resnet18"``).
    labels
        Optional int8 (T, K) labels of the video; their length must match the features.
    stem
        Video name (default: the file name without ``_outputs.h5``).
    normalize
        ``"video"``: standardize each input column over this video's frames
        (:func:`standardize_per_video`; ``sequence.normalize``); ``"train"``: leave the values as
        stored (the model standardizes them with its training videos' statistics).

    Returns
    -------
    SequenceInputs

    Raises
    ------
    OutputsError
        If the group has no features, or its datasets disagree in length.
    LabelError
        If ``labels`` has another number of frames than the features.
    """
    path = Path(outputs_path)
    stem = stem or path.name.removesuffix(".h5").removesuffix("_outputs")
    data = read_outputs(path, group)
    present = [name for name in FEATURE_DATASETS if name in data]
    if not present:
        raise OutputsError(
            f"{path}: group {group!r} has no features (expected {list(FEATURE_DATASETS)}); "
            "run feature extraction first"
        )
    parts = [np.asarray(data[name], dtype=np.float32) for name in present]
    lengths = {name: p.shape[0] for name, p in zip(present, parts, strict=True)}
    if "logits" in data:
        lengths["logits"] = data["logits"].shape[0]
    if len(set(lengths.values())) != 1:
        raise OutputsError(f"{path}: group {group!r} datasets differ in length {lengths}")
    features = np.concatenate([p.reshape(p.shape[0], -1) for p in parts], axis=1)
    logits = np.asarray(data["logits"], dtype=np.float32) if "logits" in data else None
    if normalize not in SEQUENCE_NORMALIZE:
        raise ValueError(f"normalize must be one of {SEQUENCE_NORMALIZE}, got {normalize!r}")
    if normalize == "video":
        features = standardize_per_video(features)
    spatial_columns = 0
    if present[0] == "spatial_features":
        spatial_columns = int(np.prod(parts[0].shape[1:]))
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int8)
        if labels.shape[0] != features.shape[0]:
            raise LabelError(
                f"{stem}: labels have {labels.shape[0]} frames but {path} has "
                f"{features.shape[0]}; re-run feature extraction for this video"
            )
    return SequenceInputs(
        stem=stem,
        features=features,
        logits=logits,
        labels=labels,
        spatial_columns=spatial_columns,
    )


def window_starts(n_frames: int, window: int, offset: int = 0) -> np.ndarray:
    """First frames of non-overlapping windows covering ``[0, n_frames)``.

    Parameters
    ----------
    n_frames
        Frames in the video.
    window
        Frames per window.
    offset
        Shift of the window grid, ``0 <= offset < window``: the first window starts at
        ``-offset`` (its first ``offset`` frames are padding).

    Returns
    -------
    numpy.ndarray
        int64 starts; the windows ``[s, s + window)`` cover every frame exactly once.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if n_frames <= 0:
        return np.zeros(0, dtype=np.int64)
    offset = int(offset) % window
    return np.arange(-offset, n_frames, window, dtype=np.int64)


def crop(array: np.ndarray, start: int, length: int, fill: float) -> np.ndarray:
    """``array[start:start + length]`` along axis 0, padded with ``fill`` outside the array."""
    n = array.shape[0]
    out = np.full((length,) + array.shape[1:], fill, dtype=array.dtype)
    lo, hi = max(start, 0), min(start + length, n)
    if hi > lo:
        out[lo - start : hi - start] = array[lo:hi]
    return out


class SequenceBatch(NamedTuple):
    """One window (or a batch of windows, after collation).

    features float32 (W, F); logits float32 (W, K) (zeros if the model has none);
    labels float32 (W, K) with 1/0 and -1 for unlabeled or padded frames.
    """

    features: torch.Tensor
    logits: torch.Tensor
    labels: torch.Tensor


class SequenceWindows(Dataset):
    """Non-overlapping windows over several videos, for training and validating the sequence model.

    Parameters
    ----------
    videos
        Inputs of the videos (with labels).
    window
        Frames per window.
    offset
        Shift of the window grid (see :func:`window_starts`); change it each epoch with
        :meth:`set_offset` so windows do not always break at the same frames.
    labeled_only
        Skip windows without a single labeled frame.
    """

    def __init__(
        self,
        videos: Sequence[SequenceInputs],
        window: int,
        offset: int = 0,
        labeled_only: bool = True,
    ) -> None:
        if not videos:
            raise LabelError("no videos to build sequence windows from")
        self.videos = list(videos)
        self.window = int(window)
        self.labeled_only = labeled_only
        k = {v.labels.shape[1] for v in self.videos if v.labels is not None}
        k |= {v.logits.shape[1] for v in self.videos if v.logits is not None}
        if len(k) != 1:
            raise LabelError(f"videos disagree on the number of classes ({sorted(k)})")
        self.num_classes = k.pop()
        self.index: list[tuple[int, int]] = []
        self.set_offset(offset)

    def set_offset(self, offset: int) -> None:
        """Rebuild the list of windows with the grid shifted by ``offset`` frames."""
        self.set_offsets([offset])

    def set_offsets(self, offsets: Sequence[int]) -> None:
        """Rebuild the list of windows from several grids, shifted by each of ``offsets``.

        With more than one offset windows overlap: more windows per epoch from few videos.
        """
        self.offset = int(offsets[0]) % self.window
        index = []
        for i, video in enumerate(self.videos):
            labeled = None
            if self.labeled_only and video.labels is not None:
                labeled = np.r_[0, np.cumsum((video.labels >= 0).any(axis=1))]
            for offset in offsets:
                for start in window_starts(video.n_frames, self.window, int(offset)):
                    if labeled is not None:
                        lo, hi = max(int(start), 0), min(int(start) + self.window, video.n_frames)
                        if labeled[hi] - labeled[lo] == 0:
                            continue
                    index.append((i, int(start)))
        self.index = index

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item: int) -> SequenceBatch:
        i, start = self.index[item]
        video = self.videos[i]
        w, k = self.window, self.num_classes
        features = crop(video.features, start, w, 0.0)
        if video.logits is not None:
            logits = crop(video.logits, start, w, 0.0)
        else:
            logits = np.zeros((w, k), np.float32)
        if video.labels is not None:
            labels = crop(video.labels, start, w, -1)
        else:
            labels = np.full((w, k), -1, np.int8)
        return SequenceBatch(
            torch.from_numpy(features),
            torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32)),
            torch.from_numpy(labels.astype(np.float32)),
        )


def feature_statistics(
    videos: Sequence[SequenceInputs], floor: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation over all frames of ``videos`` (float32, (F,)).

    Standard deviations are at least ``floor`` times their median (and 1e-3): a feature that
    hardly varies in the training videos (a ReLU unit that is almost always 0) must not blow up
    when it does vary in other videos.
    """
    total = sum(v.n_frames for v in videos)
    if total == 0:
        raise LabelError("no frames to compute feature statistics from")
    mean = sum(v.features.astype(np.float64).sum(axis=0) for v in videos) / total
    sq = sum(((v.features.astype(np.float64) - mean) ** 2).sum(axis=0) for v in videos)
    std = np.sqrt(sq / max(total - 1, 1))
    positive = std[std > 0]
    lowest = max(floor * float(np.median(positive)) if positive.size else 1.0, 1e-3)
    return mean.astype(np.float32), np.maximum(std, lowest).astype(np.float32)


def positive_fraction(videos: Sequence[SequenceInputs]) -> np.ndarray:
    """Per class, the fraction of its labeled frames (value 0 or 1) that are 1 (float64, (K,)).

    Classes without a labeled frame get 0.
    """
    labels = [v.labels for v in videos if v.labels is not None]
    if not labels:
        raise LabelError("no labeled frames")
    stacked = np.concatenate(labels)
    positives = (stacked == 1).sum(axis=0)
    labeled = (stacked >= 0).sum(axis=0)
    if labeled.sum() == 0:
        raise LabelError("no labeled frames")
    return positives / np.maximum(labeled, 1)


__all__ = [
    "FEATURE_DATASETS",
    "SEQUENCE_NORMALIZE",
    "SequenceBatch",
    "SequenceInputs",
    "SequenceWindows",
    "crop",
    "feature_statistics",
    "load_sequence_inputs",
    "outside_blocks",
    "positive_fraction",
    "standardize_per_video",
    "window_starts",
    "with_block_labels",
    "without_blocks",
]


# ---- validation blocks (train.validation=blocks, see ethogram.data.blocks) -----------------
def without_blocks(video: SequenceInputs, blocks) -> SequenceInputs:
    """A training copy of ``video``: inside the validation blocks the features and logits are
    zero (as padding beyond a video's ends) and the labels -1, so no window trains on them."""
    if not blocks:
        return video
    mask = block_mask(video.n_frames, blocks)
    features = video.features.copy()
    features[mask] = 0
    logits = None if video.logits is None else video.logits.copy()
    if logits is not None:
        logits[mask] = 0
    labels = None if video.labels is None else video.labels.copy()
    if labels is not None:
        labels[mask] = -1
    return replace(video, features=features, logits=logits, labels=labels)


def with_block_labels(video: SequenceInputs, blocks) -> SequenceInputs:
    """A validation copy of ``video``: every input, labels only inside the blocks."""
    return replace(video, labels=validation_labels(video.labels, blocks))


def outside_blocks(videos: list[SequenceInputs], blocks: dict) -> list[SequenceInputs]:
    """The videos without their validation blocks' frames (features only), for statistics."""
    out = []
    for video in videos:
        if blocks.get(video.stem):
            keep = ~block_mask(video.n_frames, blocks[video.stem])
            video = replace(video, features=video.features[keep], logits=None, labels=None)
        out.append(video)
    return out
