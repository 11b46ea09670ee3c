"""Training data of the feature extractor: splits by video, clips sampled from labeled frames.

A *clip* is what the network sees for one frame ``t``: the RGB stack and the flow stack centered on
``t`` (see :mod:`ethogram.data.preprocess`) and the label row of ``t``. Only frames whose label row
has no -1 are sampled (unlabeled frames are skipped, not whole videos); the frames around ``t``
may be unlabeled, they are only input.

Splits are by video (frames of one video never land in two splits), seeded, and saved as
``split.yaml`` (``{train: [stems], val: [...], test: [...]}``, DeepEthogram's layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ethogram.data.preprocess import VideoArrays
from ethogram.errors import ConfigError, LabelError, ProjectError
from ethogram.io.atomic import atomic_write_text

__all__ = [
    "ClipBatch",
    "ClipSampler",
    "LabeledVideo",
    "balance_weights",
    "labeled_frames",
    "load_split",
    "read_deepethogram_split",
    "save_split",
    "split_videos",
]

SPLITS = ("train", "val", "test")


# ---- splits -------------------------------------------------------------------------------------
def _allocate(n: int, fractions: Sequence[float]) -> list[int]:
    """Videos per split by largest remainder, with at least one train and (if n >= 2) one val."""
    fractions = np.asarray(fractions, dtype=float)
    if len(fractions) != 3 or (fractions < 0).any() or fractions.sum() <= 0:
        raise ConfigError(f"train.split must be three non-negative fractions, got {fractions}")
    fractions = fractions / fractions.sum()
    raw = fractions * n
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    # guarantees, taken from the largest split
    for i, minimum in ((0, 1), (1, 1 if n >= 2 else 0)):
        while counts[i] < minimum:
            donor = int(np.argmax([c if j != i else -1 for j, c in enumerate(counts)]))
            counts[donor] -= 1
            counts[i] += 1
    return [int(c) for c in counts]


def split_videos(
    stems: Sequence[str], fractions: Sequence[float] = (0.6, 0.2, 0.2), seed: int = 0
) -> tuple[dict[str, list[str]], str | None]:
    """Split videos into train/val/test, seeded.

    Videos are shuffled with ``seed`` and allocated by largest remainder of ``fractions``, with at
    least one training video and, given two or more videos, one validation video; the test split
    gets what remains (possibly nothing).

    Parameters
    ----------
    stems
        Video names.
    fractions
        Fractions of videos for train, val, test.
    seed
        Random seed of the shuffle.

    Returns
    -------
    split : dict
        ``{"train": [...], "val": [...], "test": [...]}`` (each sorted).
    note : str or None
        A sentence for the user when the fractions could not be followed (too few videos).
    """
    stems = sorted(set(stems))
    if not stems:
        raise ProjectError("no labeled videos to train on; label some frames first")
    counts = _allocate(len(stems), fractions)
    order = list(np.random.default_rng(seed).permutation(len(stems)))
    shuffled = [stems[i] for i in order]
    split = {
        "train": sorted(shuffled[: counts[0]]),
        "val": sorted(shuffled[counts[0] : counts[0] + counts[1]]),
        "test": sorted(shuffled[counts[0] + counts[1] :]),
    }
    note = None
    wanted = [f for f in fractions]
    if len(stems) == 1:
        note = (
            "only 1 labeled video: it is used for training and validation (no held-out data); "
            "label more videos for a meaningful validation"
        )
    elif (wanted[2] > 0 and not split["test"]) or len(stems) < 5:
        note = (
            f"{len(stems)} labeled videos: split {len(split['train'])} train / "
            f"{len(split['val'])} val / {len(split['test'])} test"
            + (" (no test videos)" if not split["test"] else "")
        )
    return split, note


def save_split(path: str | Path, split: dict[str, list[str]], note: str | None = None) -> None:
    """Write ``split.yaml`` atomically (with the note, if any, under ``metadata``)."""
    data: dict = {s: list(split.get(s, [])) for s in SPLITS}
    if note:
        data["metadata"] = {"note": note}
    atomic_write_text(Path(path), yaml.safe_dump(data, sort_keys=False))


def load_split(path: str | Path) -> dict[str, list[str]]:
    """Read a ``split.yaml`` (ours or DeepEthogram's): ``{"train", "val", "test"}`` lists."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: split file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected train/val/test lists, found {type(data).__name__}")
    out = {}
    for name in SPLITS:
        value = data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: '{name}' must be a list of video names, found {value!r}")
        out[name] = list(value)
    return out


def read_deepethogram_split(
    path: str | Path, stems: Sequence[str]
) -> tuple[dict[str, list[str]] | None, str]:
    """Use a DeepEthogram ``DATA/split.yaml`` if it covers every labeled video.

    Entries for videos that are not in the project are ignored (DeepEthogram leaves stale
    names). The file is honored only if every video in ``stems`` is named and at least one is
    in train and one in val.

    Returns
    -------
    split : dict or None
        The split restricted to ``stems``, or None if it cannot be used.
    reason : str
        Why it was (not) used, for the user.
    """
    path = Path(path)
    try:
        split = load_split(path)
    except ConfigError as exc:
        return None, f"ignoring {path}: {exc}"
    present = set(stems)
    named = {s for names in split.values() for s in names}
    missing = sorted(present - named)
    if missing:
        return None, f"ignoring {path}: it does not name the videos {missing}"
    restricted = {k: sorted(s for s in split[k] if s in present) for k in SPLITS}
    if not restricted["train"] or not restricted["val"]:
        return None, f"ignoring {path}: it leaves no training or no validation video"
    return restricted, f"using the split of {path}"


# ---- labeled frames and sampling ----------------------------------------------------------------
def labeled_frames(labels: np.ndarray) -> np.ndarray:
    """Indices of the frames whose label row has no -1 (the frames clips are sampled from)."""
    labels = np.asarray(labels)
    return np.flatnonzero((labels >= 0).all(axis=1))


def balance_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """How often to draw each frame so that rare behaviors' clips are over-represented.

    A frame's weight is ``(1 / f) ** power``, ``f`` the frequency (among ``labels``' rows) of the
    rarest behavior present in it (background counts as a behavior). ``power`` 0 draws every frame
    alike; 1 gives every behavior about the same share of clips; 0.5 (square root) between.

    Parameters
    ----------
    labels
        ``(N, K)`` 1/0 labels of the frames that can be drawn.
    power
        Strength of the balancing, 0 to 1.

    Returns
    -------
    numpy.ndarray
        float64 ``(N,)``, mean 1.

    Examples
    --------
    >>> labels = np.array([[1, 0]] * 9 + [[0, 1]])
    >>> weights = balance_weights(labels, 1.0)
    >>> float(weights[-1] / weights.sum())  # the one frame of the rare class: half the draws
    0.5
    """
    labels = np.asarray(labels) == 1
    if power <= 0 or not len(labels):
        return np.ones(len(labels))
    freq = labels.mean(axis=0)
    per_class = np.where(freq > 0, np.maximum(freq, 1e-6) ** -float(power), 0.0)
    weights = (labels * per_class[None]).max(axis=1)
    weights[weights == 0] = per_class[per_class > 0].min(initial=1.0)
    return weights / weights.mean()


@dataclass
class LabeledVideo:
    """A video's preprocessed inputs and labels.

    Attributes
    ----------
    stem
        Video name.
    arrays
        Resized frames and normalized flow (:class:`~ethogram.data.preprocess.VideoArrays`).
    labels
        int8 ``(T, K)`` of 1/0/-1.
    """

    stem: str
    arrays: VideoArrays
    labels: np.ndarray

    def __post_init__(self) -> None:
        if len(self.labels) != self.arrays.n_frames:
            raise LabelError(
                f"{self.stem}: labels have {len(self.labels)} rows, the video has "
                f"{self.arrays.n_frames} frames"
            )
        self.frames = labeled_frames(self.labels)


@dataclass
class ClipBatch:
    """A batch of clips (numpy; see :mod:`ethogram.data.preprocess` for tensors).

    Attributes
    ----------
    rgb
        uint8 ``(B, n_rgb, S, S, 3)``.
    flow
        float16 ``(B, n_flows, 2, s, s)``.
    labels
        int8 ``(B, K)`` (no -1).
    video, frame
        Where each clip comes from: index into the video list, frame index.
    """

    rgb: np.ndarray
    flow: np.ndarray
    labels: np.ndarray
    video: np.ndarray
    frame: np.ndarray


class ClipSampler:
    """Draw clips centered on labeled frames of a set of videos.

    Parameters
    ----------
    videos
        The videos; frames with any -1 in their label row are never drawn.
    n_rgb, n_flows
        Stack sizes.
    """

    def __init__(self, videos: Sequence[LabeledVideo], n_rgb: int = 1, n_flows: int = 10):
        self.videos = list(videos)
        self.n_rgb, self.n_flows = n_rgb, n_flows
        self.video_index = np.concatenate(
            [np.full(len(v.frames), i, np.int64) for i, v in enumerate(self.videos)]
            or [np.zeros(0, np.int64)]
        )
        self.frame_index = np.concatenate(
            [v.frames.astype(np.int64) for v in self.videos] or [np.zeros(0, np.int64)]
        )
        if not len(self.frame_index):
            names = [v.stem for v in self.videos]
            raise LabelError(f"no fully labeled frames in the videos {names}")

    def __len__(self) -> int:
        """Number of labeled frames available."""
        return int(len(self.frame_index))

    def label_matrix(self) -> np.ndarray:
        """int8 ``(N, K)``: the labels of every labeled frame."""
        return np.concatenate([v.labels[v.frames] for v in self.videos])

    def batch(self, items: np.ndarray) -> ClipBatch:
        """The clips of ``items`` (indices into the labeled frames), in that order."""
        items = np.asarray(items, dtype=np.int64)
        videos, frames = self.video_index[items], self.frame_index[items]
        rgb = flow = None
        labels = np.empty((len(items), self.videos[0].labels.shape[1]), np.int8)
        for v in np.unique(videos):
            rows = np.flatnonzero(videos == v)
            video = self.videos[int(v)]
            r, f = video.arrays.stacks(frames[rows], self.n_rgb, self.n_flows)
            if rgb is None:
                rgb = np.empty((len(items), *r.shape[1:]), r.dtype)
                flow = np.empty((len(items), *f.shape[1:]), f.dtype)
            rgb[rows], flow[rows] = r, f
            labels[rows] = video.labels[frames[rows]]
        return ClipBatch(rgb, flow, labels, videos, frames)

    def random_batches(
        self,
        n_batches: int,
        batch_size: int,
        rng: np.random.Generator,
        weights: np.ndarray | None = None,
    ) -> list[np.ndarray]:
        """Item indices of ``n_batches`` batches drawn without replacement until exhausted.

        With ``weights`` (per item, e.g. :func:`balance_weights`), items are drawn with
        replacement, each with probability proportional to its weight.
        """
        if weights is not None:
            p = np.asarray(weights, float) / float(np.sum(weights))
            draws = rng.choice(len(self), size=(n_batches, batch_size), p=p)
            return [row.astype(np.int64) for row in draws]
        out, pool = [], np.zeros(0, np.int64)
        for _ in range(n_batches):
            while len(pool) < batch_size:
                pool = np.concatenate([pool, rng.permutation(len(self))])
            out.append(pool[:batch_size])
            pool = pool[batch_size:]
        return out

    def evaluation_items(self, max_items: int | None = None, seed: int = 0) -> np.ndarray:
        """Items for validation: all labeled frames, or an even subsample of ``max_items``."""
        n = len(self)
        if max_items is None or n <= max_items:
            return np.arange(n)
        return np.linspace(0, n - 1, max_items).round().astype(np.int64)
