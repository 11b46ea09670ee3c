"""How many bouts and frames of each behavior the labels hold, and which behaviors have too few.

A behavior is learned from its bouts, not its frames: ten frames in a row of one bout teach
less than ten bouts. With 4 labeled sample videos (``benchmarks/accuracy.py``) rearing had 9-19
labeled bouts in the styles measured and a held-out F1 of 0.65-0.91; in one sample whose 4
labeled videos held only 5 rearing bouts, the features and the whole chain alike missed 5 of
the 9 unseen rearing bouts (F1 0.41). Training therefore names every behavior with fewer than
:data:`MIN_TRAINING_BOUTS` labeled bouts, so the user knows what to label next.

>>> labels = np.zeros((100, 3), np.int8)
>>> labels[:, 0] = 1
>>> labels[10:60, 1] = 1  # one bout of 50 frames
>>> labels[70:75, 2], labels[80:85, 2] = 1, 1  # two bouts of 5 frames
>>> count_bouts([labels], ["background", "groom", "rear"])["rear"]
{'bouts': 2, 'frames': 10, 'videos': 1}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ethogram.bouts import find_bouts

MIN_TRAINING_BOUTS = 10
"""Fewer labeled bouts than this, and a behavior is often missed on new videos (see above)."""

__all__ = [
    "MIN_TRAINING_BOUTS",
    "count_bouts",
    "describe_counts",
    "few_bouts",
    "few_bouts_message",
]


def count_bouts(
    label_arrays: Sequence[np.ndarray], class_names: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Labeled bouts, frames and videos of every behavior but background.

    Parameters
    ----------
    label_arrays
        Label arrays (T, K), values 1 (present), 0 (absent) and -1 (not labeled), background
        in column 0.
    class_names
        The K class names.

    Returns
    -------
    dict
        behavior -> ``{"bouts": n, "frames": m, "videos": v}``: runs of consecutive frames
        labeled present, frames labeled present, and label arrays with at least one of them.
    """
    names = list(class_names)
    counts = {name: {"bouts": 0, "frames": 0, "videos": 0} for name in names[1:]}
    for values in label_arrays:
        arr = np.asarray(values)
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise ValueError(f"label array of shape {arr.shape} for {len(names)} behaviors")
        for k, name in enumerate(names[1:], start=1):
            present = arr[:, k] == 1
            n_bouts = len(find_bouts(present))
            counts[name]["bouts"] += n_bouts
            counts[name]["frames"] += int(present.sum())
            counts[name]["videos"] += int(n_bouts > 0)
    return counts


def few_bouts(
    counts: dict[str, dict[str, int]], min_bouts: int = MIN_TRAINING_BOUTS
) -> dict[str, dict[str, int]]:
    """The behaviors of :func:`count_bouts` with fewer than ``min_bouts`` bouts."""
    return {name: c for name, c in counts.items() if c["bouts"] < min_bouts}


def describe_counts(counts: dict[str, dict[str, int]]) -> str:
    """``"rear (5 bouts, 183 frames), groom (1 bouts, 12 frames)"`` for messages."""
    return ", ".join(
        f"{name} ({c['bouts']} bouts, {c['frames']} frames)" for name, c in counts.items()
    )


def few_bouts_message(few: dict[str, dict[str, int]], min_bouts: int = MIN_TRAINING_BOUTS) -> str:
    """One warning naming the behaviors of :func:`few_bouts` ('' when there are none).

    Without a ``warning:`` prefix: it is logged as a warning, and whoever shows the log adds it.
    """
    if not few:
        return ""
    return (
        f"few labeled bouts of {describe_counts(few)}: a behavior learned from fewer than "
        f"{min_bouts} bouts is often missed on new videos. Label more bouts of it, in as many "
        "videos as you can."
    )
