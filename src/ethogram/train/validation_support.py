"""Is there enough of each behavior in the validation videos to choose its threshold there?

Per-behavior thresholds are the values that maximize F1 on the validation videos. A behavior seen
there in a single bout, or in a few dozen frames, gets a threshold fitted to that one bout, and
it rarely carries over to other videos (on the sample videos a threshold of 0.999 came from such
a case and hid a behavior everywhere). Training reports these behaviors, so the user knows which
thresholds to distrust and what to label next.

>>> labels = np.zeros((100, 3), np.int8)
>>> labels[:, 0] = 1
>>> labels[10:60, 1] = 1  # one bout of 50 frames
>>> labels[70:75, 2], labels[80:85, 2] = 1, 1  # two bouts of 5 frames
>>> sorted(thin_behaviors([labels], ["background", "groom", "rear"]))
['groom', 'rear']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ethogram.label_counts import count_bouts, describe_counts

MIN_BOUTS = 2
MIN_FRAMES = 30

__all__ = ["MIN_BOUTS", "MIN_FRAMES", "thin_behaviors", "thin_behaviors_message"]


def thin_behaviors(
    label_arrays: Sequence[np.ndarray],
    class_names: Sequence[str],
    min_bouts: int = MIN_BOUTS,
    min_frames: int = MIN_FRAMES,
) -> dict[str, dict[str, int]]:
    """Behaviors with fewer than ``min_bouts`` bouts or ``min_frames`` frames in the labels.

    Parameters
    ----------
    label_arrays
        Label arrays (T, K) of the validation videos, values 1/0/-1, background in column 0.
    class_names
        The K class names; background is never reported.
    min_bouts, min_frames
        The least that gives a threshold worth trusting.

    Returns
    -------
    dict
        behavior -> ``{"bouts": n, "frames": m}``, for the behaviors below either minimum.
    """
    counts = count_bouts(label_arrays, class_names)
    return {
        name: {"bouts": c["bouts"], "frames": c["frames"]}
        for name, c in counts.items()
        if c["bouts"] < min_bouts or c["frames"] < min_frames
    }


def thin_behaviors_message(thin: dict[str, dict[str, int]], videos: Sequence[str]) -> str:
    """One warning naming the behaviors of :func:`thin_behaviors` ('' when there are none).

    Without a ``warning:`` prefix: it is logged as a warning, and whoever shows the log adds it.
    """
    if not thin:
        return ""
    return (
        f"thresholds chosen on little validation data for {describe_counts(thin)} in "
        f"{', '.join(videos)}; they may not carry over to other videos. Label more of these "
        "behaviors, or add videos that show them."
    )
