"""Warnings about behaviors too rare in the validation videos to choose a threshold on."""

from __future__ import annotations

import numpy as np

from ethogram.train.validation_support import thin_behaviors, thin_behaviors_message

NAMES = ["background", "groom", "rear", "scratch"]


def _labels(n: int = 200) -> np.ndarray:
    labels = np.zeros((n, 4), np.int8)
    labels[:, 0] = 1
    return labels


def test_counts_bouts_and_frames_over_all_validation_videos():
    a, b = _labels(), _labels()
    a[10:50, 1] = 1  # groom: one bout here ...
    b[10:50, 1] = 1  # ... and one there: 2 bouts, 80 frames -> enough
    a[100:110, 2], a[120:130, 2] = 1, 1  # rear: 2 bouts but 20 frames -> thin
    b[0:5, 3] = -1  # scratch never labeled present -> thin
    thin = thin_behaviors([a, b], NAMES)
    assert thin == {"rear": {"bouts": 2, "frames": 20}, "scratch": {"bouts": 0, "frames": 0}}
    assert thin_behaviors([a, b], NAMES, min_bouts=1, min_frames=1) == {
        "scratch": {"bouts": 0, "frames": 0}
    }


def test_message_names_behaviors_counts_and_videos():
    thin = {"rear": {"bouts": 1, "frames": 46}}
    message = thin_behaviors_message(thin, ["sample_000"])
    assert message.startswith("thresholds chosen on little validation data")  # logged as warning
    assert "rear (1 bouts, 46 frames)" in message and "sample_000" in message
    assert thin_behaviors_message({}, ["sample_000"]) == ""
