"""Post-processing on hand-made probability sequences with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.bouts import find_bouts
from ethogram.config import PostprocessSettings
from ethogram.errors import ConfigError, LabelError
from ethogram.infer.postprocess import (
    enforce_min_bout,
    labels_are_exclusive,
    min_bout_from_labels,
    postprocess,
    resolve_exclusive,
    resolve_min_bout,
)

NAMES = ["background", "groom", "rear"]


def seq(text: str) -> np.ndarray:
    """'0110' -> boolean array."""
    return np.array([c == "1" for c in text.replace(" ", "")])


def text(x: np.ndarray) -> str:
    return "".join("1" if v else "0" for v in x)


def probs_from(groom: str, rear: str, hi: float = 0.9, lo: float = 0.1) -> np.ndarray:
    g = np.where(seq(groom), hi, lo)
    r = np.where(seq(rear), hi, lo)
    return np.stack([1 - np.maximum(g, r), g, r], axis=1)


def test_probability_exactly_at_threshold_counts_as_present():
    probs = np.array([[0.5, 0.5, 0.2], [0.5, 0.49999, 0.2], [0.2, 0.7, 0.3]])
    out = postprocess(probs, np.array([0.5, 0.5, 0.3]), NAMES)
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, [[0, 1, 0], [1, 0, 0], [0, 1, 1]])


def test_each_behavior_uses_its_own_threshold():
    probs = np.array([[0.0, 0.4, 0.4], [0.0, 0.2, 0.2]])
    out = postprocess(probs, np.array([0.5, 0.3, 0.5]), NAMES)
    np.testing.assert_array_equal(out[:, 1:], [[1, 0], [0, 0]])


def test_background_threshold_is_ignored_and_background_is_one_exactly_when_nothing_else():
    # background probability is high everywhere, but background follows the behaviors only
    probs = np.array([[0.99, 0.8, 0.0], [0.99, 0.0, 0.0], [0.99, 0.8, 0.9], [0.0, 0.0, 0.0]])
    out = postprocess(probs, np.array([0.5, 0.5, 0.5]), NAMES)
    np.testing.assert_array_equal(out[:, 0], [0, 1, 0, 1])
    np.testing.assert_array_equal(out[:, 0], 1 - out[:, 1:].max(axis=1))


def test_multilabel_frames_keep_several_behaviors_when_not_exclusive():
    probs = probs_from("1111", "0110")
    out = postprocess(probs, np.full(3, 0.5), NAMES)
    np.testing.assert_array_equal(out[:, 1:], [[1, 0], [1, 1], [1, 1], [1, 0]])


def test_exclusive_mode_keeps_the_most_probable_behavior_above_threshold():
    probs = np.array(
        [
            [0.1, 0.6, 0.7],  # both above: rear wins
            [0.1, 0.8, 0.7],  # both above: groom wins
            [0.1, 0.9, 0.95],  # rear has the higher probability but is below its threshold
            [0.1, 0.2, 0.2],  # none above: background
            [0.1, 0.6, 0.6],  # tie: the earlier column wins
        ]
    )
    thresholds = np.array([0.5, 0.5, 0.5])
    assert postprocess(probs, thresholds, NAMES, exclusive=False)[0, 1:].sum() == 2
    out = postprocess(probs, thresholds, NAMES, exclusive=True)
    np.testing.assert_array_equal(out[[0, 1, 3, 4]], [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 0]])
    out = postprocess(probs, np.array([0.5, 0.5, 0.96]), NAMES, exclusive=True)
    np.testing.assert_array_equal(out[2], [0, 1, 0])
    assert (out[:, 1:].sum(axis=1) <= 1).all()


def test_exclusive_mode_resolves_overlaps_created_by_gap_filling():
    # groom has a 1-frame gap at frame 3 where rear is present; filling the gap overlaps rear,
    # and rear keeps frame 3 because its probability there is higher.
    groom = np.array([0.9, 0.9, 0.9, 0.6, 0.9, 0.9, 0.9])
    rear = np.array([0.0, 0.0, 0.0, 0.8, 0.0, 0.0, 0.0])
    probs = np.stack([np.zeros(7), groom, rear], axis=1)
    out = postprocess(probs, np.full(3, 0.5), NAMES, {"groom": 2}, exclusive=True)
    np.testing.assert_array_equal(out[:, 1], [1, 1, 1, 0, 1, 1, 1])
    np.testing.assert_array_equal(out[:, 2], [0, 0, 0, 1, 0, 0, 0])
    assert (out.sum(axis=1) == 1).all()


@pytest.mark.parametrize(
    ("before", "min_bout", "after"),
    [
        ("0110111011", 1, "0110111011"),  # 1 changes nothing
        ("0010001110", 2, "0000001110"),  # 1-frame bout removed
        ("0010001110", 3, "0000001110"),
        ("0010001110", 4, "0000000000"),  # 3-frame bout is shorter than 4
        ("0111011100", 2, "0111111100"),  # 1-frame gap inside the behavior filled
        ("1100111000", 3, "1111111000"),  # 2-frame gap filled before the 2-frame bout is removed
        ("0011000111", 3, "0000000111"),  # bout at the end is kept, the 2-frame bout removed
        ("1000111111", 2, "0000111111"),  # short bout at the very start is removed
        ("0111111100", 5, "0111111100"),  # absent runs at the video edges are never filled
        ("1101100000", 3, "1111100000"),  # shortest first: gap 1 filled, then 5 frames survive
    ],
)
def test_min_bout_removes_short_bouts_and_fills_short_gaps(before, min_bout, after):
    assert text(enforce_min_bout(seq(before), min_bout)) == after


def test_min_bout_leaves_every_bout_and_inner_gap_at_least_min_long():
    rng = np.random.default_rng(0)
    x = rng.random(400) < 0.5
    out = enforce_min_bout(x, 4)
    bouts = find_bouts(out)
    assert (bouts[:, 1] - bouts[:, 0] >= 4).all()
    gaps = find_bouts(~out)
    inner = gaps[(gaps[:, 0] > 0) & (gaps[:, 1] < len(out))]
    assert (inner[:, 1] - inner[:, 0] >= 4).all()


def test_postprocess_applies_min_bout_per_behavior_then_recomputes_background():
    probs = probs_from("0110001111", "0100000110")
    out = postprocess(probs, np.full(3, 0.5), NAMES, {"groom": 3})
    assert text(out[:, 1]) == "0000001111"  # 2-frame groom bout removed
    assert text(out[:, 2]) == "0100000110"  # rear untouched (no minimum given)
    assert text(out[:, 0]) == "1011110000"


def test_postprocess_int_min_bout_applies_to_every_behavior():
    probs = probs_from("0100011100", "1101110000")
    out = postprocess(probs, np.full(3, 0.5), NAMES, 2)
    assert text(out[:, 1]) == "0000011100"
    assert text(out[:, 2]) == "1111110000"


def test_postprocess_min_bout_dict_with_unknown_behavior_names_it():
    with pytest.raises(ConfigError, match="'sniff'"):
        postprocess(probs_from("01", "00"), np.full(3, 0.5), NAMES, {"sniff": 3})


def test_postprocess_rejects_thresholds_of_the_wrong_length():
    with pytest.raises(LabelError, match="expected 3 values"):
        postprocess(probs_from("01", "00"), np.full(2, 0.5), NAMES)


def test_postprocess_requires_background_first():
    with pytest.raises(LabelError, match="background"):
        postprocess(probs_from("01", "00"), np.full(3, 0.5), ["groom", "background", "rear"])


def labels_from(groom: str, rear: str) -> np.ndarray:
    """Label array from strings of '1', '0' and '-' (unlabeled)."""

    def col(s: str) -> np.ndarray:
        return np.array([{"1": 1, "0": 0, "-": -1}[c] for c in s], dtype=np.int8)

    g, r = col(groom), col(rear)
    bg = np.where((g == 1) | (r == 1), 0, 1).astype(np.int8)
    bg[(g == -1) & (r == -1)] = -1
    return np.stack([bg, g, r], axis=1)


def test_min_bout_from_labels_uses_a_low_percentile_of_bout_lengths():
    # groom bouts of 4, 6, 8 and 10 frames; rear bouts of 3 and 3 frames; percentile 0 = shortest
    groom = "0" + "1111" + "0" * 3 + "1" * 6 + "0" * 3 + "1" * 8 + "0" * 3 + "1" * 10 + "0"
    rear = "0" * 8 + "111" + "0" * 10 + "111" + "0" * 15
    labels = labels_from(groom, rear)
    assert min_bout_from_labels([labels], NAMES, percentile=0, fraction=1) == {
        "groom": 4,
        "rear": 3,
    }
    # 50th percentile of 4, 6, 8, 10 is 7
    assert min_bout_from_labels([labels], NAMES, percentile=50, fraction=1)["groom"] == 7
    # 5th percentile of 4, 6, 8, 10 is 4.3, rounded down
    assert min_bout_from_labels([labels], NAMES, fraction=1)["groom"] == 4


def test_min_bout_from_labels_takes_half_the_percentile_by_default():
    # groom bouts of 4, 6, 8 and 10 frames: 5th percentile 4.3, half of it 2.15 -> 2
    groom = "0" + "1111" + "0" * 3 + "1" * 6 + "0" * 3 + "1" * 8 + "0" * 3 + "1" * 10 + "0"
    rear = "0" * 8 + "111" + "0" * 10 + "111" + "0" * 15
    labels = labels_from(groom, rear)
    assert min_bout_from_labels([labels], NAMES) == {"groom": 2, "rear": 1}
    assert resolve_min_bout("auto", NAMES, [labels]) == {"groom": 2, "rear": 1}
    assert min_bout_from_labels([labels], NAMES, fraction=0.75) == {"groom": 3, "rear": 2}


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5])
def test_min_bout_from_labels_rejects_a_fraction_outside_zero_one(fraction):
    with pytest.raises(ConfigError, match="fraction"):
        min_bout_from_labels([labels_from("0110", "0000")], NAMES, fraction=fraction)


def test_min_bout_from_labels_pools_videos_and_gives_one_to_behaviors_without_bouts():
    a = labels_from("0110000", "0000000")
    b = labels_from("0011110", "0000000")
    assert min_bout_from_labels([a, b], NAMES, percentile=0, fraction=1) == {"groom": 2, "rear": 1}
    assert min_bout_from_labels([a, b], NAMES, percentile=100, fraction=1) == {
        "groom": 4,
        "rear": 1,
    }


def test_min_bout_from_labels_skips_bouts_next_to_unlabeled_frames():
    # the 1-frame groom bout touches unlabeled frames: its true length is unknown
    labels = labels_from("--1--0111100", "---00000000-")
    assert min_bout_from_labels([labels], NAMES, percentile=0, fraction=1) == {
        "groom": 4,
        "rear": 1,
    }


def test_min_bout_from_labels_skips_bouts_cut_by_the_start_or_end_of_the_video():
    # groom bouts of 2 (at the start), 5 and 3 (at the end) frames: only the 5 is whole
    labels = labels_from("1100111110111", "0000000000000")
    assert min_bout_from_labels([labels], NAMES, percentile=0, fraction=1)["groom"] == 5


def test_min_bout_from_labels_without_labels_gives_one():
    assert min_bout_from_labels([], NAMES) == {"groom": 1, "rear": 1}


def test_resolve_min_bout_auto_int_and_dict():
    labels = labels_from("0111100111110", "0110000000000")
    assert resolve_min_bout("auto", NAMES, [labels], percentile=0, fraction=1) == {
        "groom": 4,
        "rear": 2,
    }
    assert resolve_min_bout(3, NAMES, [labels]) == {"groom": 3, "rear": 3}
    # behaviors left out of a dict are estimated from the labels
    assert resolve_min_bout({"rear": 7}, NAMES, [labels], percentile=0, fraction=1) == {
        "groom": 4,
        "rear": 7,
    }
    assert resolve_min_bout({"rear": 7}, NAMES) == {"groom": 1, "rear": 7}


def test_resolve_min_bout_accepts_the_settings_default():
    setting = PostprocessSettings().min_bout
    assert resolve_min_bout(setting, NAMES) == {"groom": 1, "rear": 1}


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"sniff": 3}, "unknown behavior 'sniff'"),
        ({"background": 3}, "'background' has no minimum"),
        ({"groom": 0}, "'groom'.*>= 1"),
        (0, ">= 1"),
        ("sometimes", "'sometimes'"),
    ],
)
def test_resolve_min_bout_rejects_bad_settings_naming_the_problem(setting, match):
    with pytest.raises(ConfigError, match=match):
        resolve_min_bout(setting, NAMES)


def test_exclusive_auto_follows_the_labels():
    one_each = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, -1, -1]], np.int8)
    overlapping = np.array([[0, 1, 1], [1, 0, 0]], np.int8)
    assert labels_are_exclusive([one_each])
    assert not labels_are_exclusive([one_each, overlapping])
    assert not labels_are_exclusive([np.full((4, 3), -1, np.int8)])  # nothing labeled
    assert resolve_exclusive("auto", [one_each]) is True
    assert resolve_exclusive("auto", [overlapping]) is False
    assert resolve_exclusive("auto", []) is False
    assert resolve_exclusive(False, [one_each]) is False
    assert resolve_exclusive(True, [overlapping]) is True
    assert PostprocessSettings().exclusive == "auto"
    with pytest.raises(ConfigError, match="exclusive.*'sometimes'"):
        resolve_exclusive("sometimes", [one_each])
