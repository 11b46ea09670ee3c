"""Labeled bouts per behavior, and the warning for behaviors with too few of them."""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.label_counts import MIN_TRAINING_BOUTS, count_bouts, few_bouts, few_bouts_message

NAMES = ["background", "groom", "rear", "scratch"]


def _labels(n: int = 300) -> np.ndarray:
    labels = np.zeros((n, 4), np.int8)
    labels[:, 0] = 1
    return labels


def test_counts_bouts_frames_and_videos_over_every_array():
    a, b, c = _labels(), _labels(), _labels()
    for start in range(0, 200, 20):  # groom: 10 bouts of 5 frames in a ...
        a[start : start + 5, 1] = 1
    b[0:40, 1] = 1  # ... and one long bout in b
    a[250:260, 2] = 1  # rear: 1 bout in a, 2 in c (split by one unlabeled frame)
    c[100:110, 2], c[110, 2], c[111:120, 2] = 1, -1, 1
    b[:, 3] = -1  # scratch: never labeled present
    counts = count_bouts([a, b, c], NAMES)
    assert counts == {
        "groom": {"bouts": 11, "frames": 90, "videos": 2},
        "rear": {"bouts": 3, "frames": 29, "videos": 2},
        "scratch": {"bouts": 0, "frames": 0, "videos": 0},
    }
    assert list(few_bouts(counts)) == ["rear", "scratch"]
    assert few_bouts(counts, min_bouts=3) == {"scratch": counts["scratch"]}


def test_no_labels_counts_zero_and_a_wrong_width_is_refused():
    assert count_bouts([], NAMES)["groom"] == {"bouts": 0, "frames": 0, "videos": 0}
    with pytest.raises(ValueError, match="4 behaviors"):
        count_bouts([np.zeros((10, 3), np.int8)], NAMES)


def test_message_names_each_behavior_with_its_counts_and_the_minimum():
    few = {"rear": {"bouts": 5, "frames": 183, "videos": 3}}
    message = few_bouts_message(few)
    assert message.startswith("few labeled bouts of rear (5 bouts, 183 frames)")
    assert f"fewer than {MIN_TRAINING_BOUTS} bouts" in message
    assert few_bouts_message({}) == ""
