"""Metrics on hand-made sequences with known answers, cross-checked against scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from ethogram.errors import LabelError
from ethogram.evaluate.metrics import (
    SequencePair,
    auroc_ap,
    choose_thresholds,
    confusion_counts,
    edit_score,
    evaluate_sequences,
    exclusive_sequence,
    frame_metrics,
    segment_counts,
    segments,
    shrink_thresholds,
    threshold_curves,
)

NAMES = ["background", "groom", "rear"]


def one_hot(seq: list[int] | np.ndarray, k: int = 3) -> np.ndarray:
    """Exclusive label sequence -> (T, K) int8 with background in column 0."""
    seq = np.asarray(seq)
    out = np.zeros((len(seq), k), dtype=np.int8)
    out[np.arange(len(seq)), seq] = 1
    return out


def blocks(*runs: tuple[int, int]) -> np.ndarray:
    """Sequence from (label, length) runs."""
    return np.concatenate([np.full(n, lab) for lab, n in runs])


TRUTH = blocks((0, 10), (1, 20), (0, 10), (2, 15), (0, 5), (1, 20), (0, 10))


def test_perfect_prediction_scores_one_everywhere():
    labels = one_hot(TRUTH)
    result = evaluate_sequences(
        [SequencePair("v", labels, labels.copy(), labels.astype(float))], NAMES
    )
    overall = result["overall"]
    assert overall["f1_macro"] == 1.0
    assert overall["f1_macro_no_background"] == 1.0
    assert overall["accuracy_exact"] == 1.0
    assert overall["auroc_macro"] == 1.0
    assert overall["ap_macro"] == 1.0
    assert overall["edit"] == 100.0
    assert all(v == 1.0 for v in overall["segmental_f1"].values())
    for row in result["per_class"]:
        assert row["precision"] == row["recall"] == row["f1"] == row["accuracy"] == 1.0
        assert row["segmental_f1@0.50"] == 1.0
        assert row["n_bouts_true"] == row["n_bouts_predicted"]
    assert np.allclose(np.diag(result["confusion"]["normalized"]), 1.0)


def test_empty_prediction_scores_zero_for_behaviors_and_no_segments():
    labels = one_hot(TRUTH)
    preds = np.zeros_like(labels)
    result = evaluate_sequences([("v", labels, preds)], NAMES)
    groom = result["per_class"][1]
    assert groom["recall"] == 0.0
    assert groom["f1"] == 0.0
    assert groom["precision"] is None  # nothing predicted: undefined, not 0
    assert groom["n_predicted"] == 0
    assert result["overall"]["segmental_f1"]["0.50"] == 0.0
    assert result["overall"]["edit"] == 0.0
    assert result["overall"]["auroc_macro"] is None  # no probabilities given
    assert result["time_budget"][1]["predicted"]["n_bouts"] == 0
    assert result["time_budget"][1]["predicted"]["total_s"] == 0.0


def test_shift_by_one_frame_lowers_frame_f1_but_keeps_segments():
    labels = one_hot(TRUTH)
    preds = one_hot(np.r_[0, TRUTH[:-1]])
    result = evaluate_sequences([("v", labels, preds)], NAMES)
    f1 = result["overall"]["f1_macro_no_background"]
    assert 0.9 < f1 < 1.0
    assert result["overall"]["segmental_f1"]["0.50"] == 1.0
    assert result["overall"]["edit"] == 100.0
    assert result["per_class"][1]["segmental_f1@0.50"] == 1.0


def test_over_fragmented_prediction_has_high_frame_f1_but_low_segment_scores():
    truth = blocks((0, 10), (1, 100), (0, 10))
    frag = truth.copy()
    frag[np.arange(15, 105, 6)] = 0  # punch 15 one-frame holes into the bout
    result = evaluate_sequences([("v", one_hot(truth), one_hot(frag))], NAMES)
    groom = result["per_class"][1]
    assert groom["f1"] > 0.9
    assert groom["segmental_f1@0.50"] < 0.2
    assert result["overall"]["segmental_f1"]["0.10"] < 0.2
    assert result["overall"]["edit"] < 10.0
    assert groom["n_bouts_true"] == 1
    assert groom["n_bouts_predicted"] == 16


def test_unlabeled_frames_are_excluded_from_all_metrics():
    labels = one_hot(TRUTH)
    preds = labels.copy()
    # wrong predictions, but only on frames nobody labeled
    labels[40:55] = -1
    preds[40:55] = one_hot(np.full(15, 1))
    result = evaluate_sequences([("v", labels, preds)], NAMES)
    assert result["n_frames"] == len(TRUTH)
    assert result["n_frames_labeled"] == len(TRUTH) - 15
    assert result["overall"]["f1_macro"] == 1.0
    assert result["overall"]["accuracy_exact"] == 1.0
    assert result["overall"]["edit"] == 100.0
    assert np.sum(result["confusion"]["counts"]) == len(TRUTH) - 15
    assert result["labeled_s"] == pytest.approx((len(TRUTH) - 15) / 30.0)


def test_unlabeled_frames_break_segments():
    seq = np.array([1, 1, 1, -1, -1, 1, 1, 0])
    labs, starts, ends = segments(seq)
    assert labs.tolist() == [1, 1]
    assert starts.tolist() == [0, 5]
    assert ends.tolist() == [3, 7]


def test_segment_counts_follow_ms_tcn_matching():
    truth = blocks((0, 5), (1, 10), (0, 5))
    # two predicted segments overlap the same true one: only one can match
    pred = blocks((0, 5), (1, 6), (0, 1), (1, 3), (0, 5))
    assert segment_counts(truth, pred, 0.5) == (1, 1, 0)
    assert segment_counts(truth, pred, 0.7) == (0, 2, 1)
    # wrong label never matches
    assert segment_counts(truth, blocks((0, 5), (2, 10), (0, 5)), 0.1) == (0, 1, 1)


def test_edit_score_uses_segment_label_order():
    truth = blocks((1, 5), (0, 2), (2, 5))
    assert edit_score(truth, blocks((2, 5), (0, 2), (1, 5))) == 0.0
    assert edit_score(truth, blocks((1, 3), (0, 9))) == 50.0
    assert edit_score(np.zeros(5, int), np.zeros(5, int)) == 100.0


def test_exclusive_sequence_prefers_highest_probability_behavior():
    values = np.array([[0, 1, 1], [1, 0, 0], [0, 1, 0], [-1, -1, -1]])
    probs = np.array([[0.1, 0.6, 0.9], [0.9, 0.1, 0.1], [0.0, 0.8, 0.2], [0.5, 0.5, 0.5]])
    assert exclusive_sequence(values).tolist() == [1, 0, 1, -1]
    assert exclusive_sequence(values, probs).tolist() == [2, 0, 1, -1]


def test_frame_metrics_match_sklearn_on_random_data():
    rng = np.random.default_rng(0)
    labels = (rng.random((500, 4)) < 0.3).astype(np.int8)
    preds = (rng.random((500, 4)) < 0.4).astype(np.int8)
    labels[::17] = -1
    keep = (labels >= 0).all(1)
    fm = frame_metrics(labels, preds)
    y, p = labels[keep], preds[keep]
    assert np.allclose(fm["precision"], skm.precision_score(y, p, average=None))
    assert np.allclose(fm["recall"], skm.recall_score(y, p, average=None))
    assert np.allclose(fm["f1"], skm.f1_score(y, p, average=None))
    assert fm["exact_match"] == pytest.approx(skm.accuracy_score(y, p))
    acc = [skm.accuracy_score(y[:, k], p[:, k]) for k in range(4)]
    assert np.allclose(fm["accuracy"], acc)


def test_auroc_and_ap_match_sklearn_and_constant_class_is_nan():
    rng = np.random.default_rng(1)
    labels = (rng.random((300, 3)) < 0.3).astype(np.int8)
    labels[:, 2] = 0  # never present: AUROC/AP undefined
    probs = np.clip(labels * 0.3 + rng.random((300, 3)) * 0.7, 0, 1)
    auroc, ap = auroc_ap(labels, probs)
    for k in range(2):
        assert auroc[k] == pytest.approx(skm.roc_auc_score(labels[:, k], probs[:, k]))
        assert ap[k] == pytest.approx(skm.average_precision_score(labels[:, k], probs[:, k]))
    assert np.isnan(auroc[2]) and np.isnan(ap[2])
    result = evaluate_sequences([("v", labels, (probs > 0.5).astype(np.int8), probs)], NAMES)
    assert result["per_class"][2]["auroc"] is None
    assert result["overall"]["auroc_macro"] == pytest.approx(np.mean(auroc[:2]))
    json.loads(json.dumps(result, allow_nan=False))  # strict JSON


def test_confusion_matches_sklearn():
    rng = np.random.default_rng(2)
    t = rng.integers(0, 3, 200)
    p = rng.integers(0, 3, 200)
    expected = skm.confusion_matrix(t, p, labels=[0, 1, 2])
    assert np.array_equal(confusion_counts(t, p, 3), expected)
    result = evaluate_sequences([("v", one_hot(t), one_hot(p))], NAMES)
    assert np.array_equal(result["confusion"]["counts"], expected)


def test_choose_thresholds_maximizes_f1_per_class():
    rng = np.random.default_rng(3)
    labels = (rng.random((400, 3)) < 0.3).astype(np.int8)
    probs = np.clip(labels * 0.35 + rng.random((400, 3)) * 0.65, 0, 1)
    labels[:, 2] = 0
    thresholds = choose_thresholds(probs, labels)
    assert thresholds[2] == 0.5  # no positives: default
    grid = np.unique(probs)
    for k in range(2):
        y = labels[:, k] == 1
        pred = probs[:, k][None, :] >= grid[:, None]  # every distinct threshold at once
        tp = (pred & y).sum(1)
        best = np.max(2 * tp / (pred.sum(1) + y.sum()))
        assert skm.f1_score(labels[:, k], probs[:, k] >= thresholds[k]) == pytest.approx(best)
        assert skm.f1_score(labels[:, k], probs[:, k] > thresholds[k]) == pytest.approx(best)


def test_shrink_thresholds_moves_each_threshold_towards_one_half():
    best = np.array([0.9, 0.02, 0.5, 0.6])
    np.testing.assert_allclose(shrink_thresholds(best, 0.5), [0.7, 0.26, 0.5, 0.55])
    np.testing.assert_allclose(shrink_thresholds(best, 1.0), best)
    np.testing.assert_allclose(shrink_thresholds(best, 0.0), 0.5)
    np.testing.assert_allclose(shrink_thresholds(best, 0.5, prior=0.3), [0.6, 0.16, 0.4, 0.45])
    with pytest.raises(ValueError, match="fraction"):
        shrink_thresholds(best, 1.5)


def test_threshold_curves_agree_with_frame_metrics():
    rng = np.random.default_rng(4)
    labels = (rng.random((100, 3)) < 0.4).astype(np.int8)
    probs = rng.random((100, 3))
    curves = threshold_curves(probs, labels, np.array([0.25, 0.5]))
    fm = frame_metrics(labels, (probs >= 0.5).astype(np.int8))
    assert np.allclose(curves["f1"][1], fm["f1"])
    assert np.allclose(curves["precision"][1], fm["precision"])
    assert curves["f1"].shape == (2, 3)


def test_segments_are_summed_and_edit_averaged_over_videos():
    truth = blocks((0, 5), (1, 10), (0, 5))
    good = ("a", one_hot(truth), one_hot(truth))
    bad = ("b", one_hot(truth), one_hot(np.zeros_like(truth)))
    result = evaluate_sequences([good, bad], NAMES, fps=10.0)
    assert result["overall"]["edit"] == 50.0
    # tp=1, fp=0, fn=1 summed -> F1 = 2/3
    assert result["overall"]["segmental_f1"]["0.50"] == pytest.approx(2 / 3)
    assert [v["edit"] for v in result["per_video"]] == [100.0, 0.0]
    groom_true = result["time_budget"][1]["true"]
    assert groom_true["n_bouts"] == 2
    assert groom_true["mean_bout_s"] == 1.0
    assert groom_true["fraction"] == pytest.approx(0.5)


def test_mismatched_shapes_name_the_video():
    labels = one_hot(TRUTH)
    with pytest.raises(LabelError, match="clipA"):
        evaluate_sequences([("clipA", labels, labels[:-1])], NAMES)
    with pytest.raises(LabelError, match="background"):
        evaluate_sequences([("v", labels, labels)], ["groom", "background", "rear"])


def test_edit_distance_matches_the_textbook_dynamic_programme():
    from ethogram.evaluate.segments import _levenshtein

    def reference(a, b):
        d = np.zeros((len(a) + 1, len(b) + 1), int)
        d[:, 0], d[0, :] = np.arange(len(a) + 1), np.arange(len(b) + 1)
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                cost = int(a[i - 1] != b[j - 1])
                d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + cost)
        return d[-1, -1]

    rng = np.random.default_rng(5)
    for _ in range(50):
        a = rng.integers(1, 4, rng.integers(0, 10))
        b = rng.integers(1, 4, rng.integers(0, 10))
        assert _levenshtein(a, b) == reference(a, b)
