"""Frame-wise and segment-wise metrics of per-frame behavior predictions.

Inputs follow the shared conventions: ``labels`` is an int8 array (T, K) of 1/0/-1 with
``background`` in column 0, ``predictions`` a 0/1 array (T, K), ``probabilities`` an optional float
array (T, K). A frame whose label row contains a -1 (not yet labeled) is excluded from every metric.

Frame metrics (per class): precision, recall, F1, accuracy, AUROC and average precision (AP).
Undefined values (0/0, or AUROC/AP of a class whose truth has a single value) are NaN in arrays and
``None`` (JSON ``null``) in the dict from :func:`evaluate_sequences`.

Segment metrics follow MS-TCN (Farha & Gall, CVPR 2019, ``eval.py``): segments are runs of one
label; background is not a segment; a predicted segment is a true positive when its IoU with the
best-matching true segment of the same label reaches the threshold and that true segment is not yet
matched. Counts are summed over videos before F1 is computed; the edit score (0-100, normalized
Levenshtein distance between the ordered segment labels) is averaged over videos. Two views:

- overall (``segmental_f1``, ``edit``): on the exclusive label sequence, one label per frame: the
  predicted behavior (highest probability among those predicted, first in column order without
  probabilities), background when none, as MS-TCN's frame-wise argmax;
- per class (``segmental_f1@0.50`` ... in the per-class table): on that class's own 0/1 sequence,
  so overlapping behaviors each keep their bouts.

Unlabeled frames break segments: a bout crossing an unlabeled stretch counts as two bouts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ethogram.bouts import find_bouts
from ethogram.errors import LabelError
from ethogram.evaluate.segments import (  # noqa: F401  (part of this module's API)
    edit_score,
    f1_from_counts,
    segment_counts,
    segments,
)

IOU_THRESHOLDS = (0.10, 0.25, 0.50)
BACKGROUND = "background"


@dataclass
class SequencePair:
    """True labels and predictions of one video.

    Attributes
    ----------
    name
        Video name (stem), used in messages and figures.
    labels
        int8 (T, K) of 1/0/-1.
    predictions
        (T, K) of 0/1.
    probabilities
        Optional float (T, K).
    fps
        Frames per second of the video; ``None`` uses the default of :func:`evaluate_sequences`.
    """

    name: str
    labels: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray | None = None
    fps: float | None = None


# ---------------------------------------------------------------------------------------------
# frame metrics


def valid_rows(labels: np.ndarray) -> np.ndarray:
    """Boolean (T,): True for frames whose label row has no -1."""
    return np.all(np.asarray(labels) >= 0, axis=1)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def frame_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class frame counts and scores on labeled frames.

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn``, ``tn``, ``support`` (true frames), ``n_predicted`` as int arrays
        (K,); ``precision``, ``recall``, ``f1``, ``accuracy`` as float arrays (K,), NaN when
        undefined; ``exact_match`` (fraction of frames whose whole label vector is right) and
        ``n_frames`` as 0-d arrays.
    """
    valid = valid_rows(labels)
    y = np.asarray(labels)[valid] == 1
    p = np.asarray(predictions)[valid] == 1
    tp = (y & p).sum(0)
    fp = (~y & p).sum(0)
    fn = (y & ~p).sum(0)
    tn = (~y & ~p).sum(0)
    n = int(valid.sum())
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "support": tp + fn,
        "n_predicted": tp + fp,
        "precision": _div(tp, tp + fp),
        "recall": _div(tp, tp + fn),
        "f1": _div(2 * tp, 2 * tp + fp + fn),
        "accuracy": _div(tp + tn, np.full(tp.shape, n)),
        "exact_match": _div(np.all(y == p, axis=1).sum(), n),
        "n_frames": np.asarray(n),
    }


def macro(
    values: Sequence[float] | np.ndarray, class_names: Sequence[str], background: bool
) -> float:
    """Mean over classes ignoring NaN; without the background class when ``background`` is False."""
    v = np.asarray(values, dtype=float)
    keep = np.array([background or c != BACKGROUND for c in class_names])
    v = v[keep]
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def auroc_ap(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class AUROC and average precision on labeled frames; NaN where truth has one value."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    valid = valid_rows(labels)
    y = np.asarray(labels)[valid] == 1
    prob = np.asarray(probabilities, dtype=float)[valid]
    k = y.shape[1]
    auroc, ap = np.full(k, np.nan), np.full(k, np.nan)
    for i in range(k):
        if 0 < y[:, i].sum() < len(y):
            auroc[i] = roc_auc_score(y[:, i], prob[:, i])
            ap[i] = average_precision_score(y[:, i], prob[:, i])
    return auroc, ap


def exclusive_sequence(values: np.ndarray, probabilities: np.ndarray | None = None) -> np.ndarray:
    """One label per frame: the present behavior (column > 0), or 0 (background) when none.

    When several behaviors are present, the one with the highest probability wins (the first in
    column order without probabilities). Rows containing -1 get -1.
    """
    v = np.asarray(values)
    present = v[:, 1:] == 1
    score = present.astype(float)
    if probabilities is not None:
        score = score * (1.0 + np.asarray(probabilities, dtype=float)[:, 1:])
    seq = np.zeros(len(v), dtype=np.int64)
    if v.shape[1] > 1:
        seq = np.where(present.any(1), np.argmax(score, axis=1) + 1, 0).astype(np.int64)
    seq[~valid_rows(v)] = -1
    return seq


def confusion_counts(true_seq: np.ndarray, pred_seq: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix (rows true, columns predicted) of two exclusive sequences; -1 skipped."""
    keep = (true_seq >= 0) & (pred_seq >= 0)
    idx = true_seq[keep] * n_classes + pred_seq[keep]
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


# ---------------------------------------------------------------------------------------------
# bouts and thresholds


def bout_durations(present: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Bout lengths in frames of a 0/1 sequence; unlabeled frames (``~valid``) break bouts."""
    b = find_bouts(np.asarray(present).astype(bool) & valid)
    return (b[:, 1] - b[:, 0]).astype(np.int64)


def choose_thresholds(
    probabilities: np.ndarray, labels: np.ndarray, default: float = 0.5
) -> np.ndarray:
    """Per-class thresholds that maximize frame F1 of ``probabilities >= threshold``.

    Each threshold lies halfway between the best score and the next lower distinct score, so
    ``>`` and ``>=`` give the same predictions. Frames with -1 labels are ignored.

    Parameters
    ----------
    probabilities
        Float array (T, K).
    labels
        Array (T, K) of 1/0/-1.
    default
        Threshold of classes without a positive frame.

    Returns
    -------
    numpy.ndarray
        Float array (K,).
    """
    valid = valid_rows(labels)
    y_all = np.asarray(labels)[valid] == 1
    p_all = np.asarray(probabilities, dtype=float)[valid]
    out = np.full(y_all.shape[1], float(default))
    for k in range(y_all.shape[1]):
        y, p = y_all[:, k], p_all[:, k]
        if not y.any():
            continue
        order = np.argsort(-p, kind="stable")
        p_sorted, y_sorted = p[order], y[order]
        last_of_score = np.r_[p_sorted[1:] != p_sorted[:-1], True]
        tp = np.cumsum(y_sorted)[last_of_score]
        fp = np.cumsum(~y_sorted)[last_of_score]
        scores = p_sorted[last_of_score]
        best = int(np.argmax(2 * tp / (tp + fp + y.sum())))
        lower = scores[best + 1] if best + 1 < len(scores) else min(0.0, scores[best])
        out[k] = (scores[best] + lower) / 2.0
    return out


def shrink_thresholds(thresholds: np.ndarray, fraction: float, prior: float = 0.5) -> np.ndarray:
    """Move thresholds towards ``prior``: ``prior + fraction * (thresholds - prior)``.

    The F1-maximizing threshold of a behavior seen in one or two validation videos often sits
    at one end of a long, flat stretch of the F1 curve, where new videos lose recall or
    precision; pulling it part of the way back to 0.5 trusts the validation videos less.

    Parameters
    ----------
    thresholds
        Float array (K,), e.g. from :func:`choose_thresholds`.
    fraction
        1 keeps ``thresholds``, 0 gives ``prior`` everywhere.
    prior
        The threshold without validation data.

    Returns
    -------
    numpy.ndarray
        Float array (K,).

    Examples
    --------
    >>> shrink_thresholds(np.array([0.9, 0.1, 0.5]), 0.5)
    array([0.7, 0.3, 0.5])
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    t = np.asarray(thresholds, dtype=float)
    return prior + fraction * (t - prior)


def threshold_curves(
    probabilities: np.ndarray, labels: np.ndarray, thresholds: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of ``probabilities >= t`` for a grid of thresholds.

    Returns
    -------
    dict
        ``thresholds`` (N,), and ``precision``, ``recall``, ``f1`` of shape (N, K), NaN where
        undefined.
    """
    t = np.linspace(0.0, 1.0, 101) if thresholds is None else np.asarray(thresholds, dtype=float)
    valid = valid_rows(labels)
    y = np.asarray(labels)[valid] == 1
    p = np.asarray(probabilities, dtype=float)[valid]
    pred = p[None, :, :] >= t[:, None, None]
    tp = (pred & y[None]).sum(1)
    n_pred = pred.sum(1)
    n_true = y.sum(0)[None, :]
    return {
        "thresholds": t,
        "precision": _div(tp, n_pred),
        "recall": _div(tp, np.broadcast_to(n_true, tp.shape)),
        "f1": _div(2 * tp, n_pred + n_true),
    }


# ---------------------------------------------------------------------------------------------
# aggregation


def _num(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _bout_summary(durations_s: list[float], seconds: float, labeled_s: float) -> dict:
    d = np.asarray(durations_s, dtype=float)
    return {
        "n_bouts": int(d.size),
        "total_s": _num(seconds),
        "fraction": _num(seconds / labeled_s) if labeled_s > 0 else None,
        "mean_bout_s": _num(d.mean()) if d.size else None,
        "median_bout_s": _num(np.median(d)) if d.size else None,
    }


def _check_pair(pair: SequencePair, n_classes: int) -> None:
    shape = np.shape(pair.labels)
    if len(shape) != 2 or shape[1] != n_classes:
        raise LabelError(
            f"{pair.name}: expected labels of shape (frames, {n_classes}), got {shape}"
        )
    if np.shape(pair.predictions) != shape:
        raise LabelError(
            f"{pair.name}: predictions have shape {np.shape(pair.predictions)}, labels {shape}; "
            "expected the same number of frames and behaviors"
        )
    if pair.probabilities is not None and np.shape(pair.probabilities) != shape:
        raise LabelError(
            f"{pair.name}: probabilities have shape {np.shape(pair.probabilities)}, labels {shape}"
        )


def evaluate_sequences(
    pairs: Iterable[SequencePair | tuple], class_names: Sequence[str], fps: float = 30.0
) -> dict:
    """Evaluate predictions of several videos against their labels.

    Frame metrics use the frames of all videos together; segment counts are summed over videos
    and the edit score is averaged over videos (as MS-TCN).

    Parameters
    ----------
    pairs
        :class:`SequencePair` objects, or tuples ``(name, labels, predictions[, probabilities])``.
    class_names
        Behavior names of the K columns, ``background`` first.
    fps
        Frames per second of videos whose pair does not give one; used for durations.

    Returns
    -------
    dict
        JSON-serializable: ``class_names``, ``n_videos``, ``n_frames``, ``n_frames_labeled``,
        ``overall`` (macro scores, accuracy, segmental F1, edit), ``per_class`` (one row per
        behavior), ``confusion`` (exclusive view), ``time_budget`` (true vs predicted bouts and
        time per behavior) and ``per_video``. Undefined numbers are ``None``.
    """
    names = list(class_names)
    k = len(names)
    if k == 0 or names[0] != BACKGROUND:
        raise LabelError(f"expected behaviors with '{BACKGROUND}' first, got {names}")
    pairs = [p if isinstance(p, SequencePair) else SequencePair(*p) for p in pairs]
    if not pairs:
        raise LabelError("no label/prediction pairs to evaluate")
    for pair in pairs:
        _check_pair(pair, k)
    have_probs = all(p.probabilities is not None for p in pairs)

    cat_labels = np.concatenate([np.asarray(p.labels) for p in pairs])
    cat_preds = np.concatenate([np.asarray(p.predictions) for p in pairs])
    fm = frame_metrics(cat_labels, cat_preds)
    auroc = ap = np.full(k, np.nan)
    if have_probs:
        auroc, ap = auroc_ap(cat_labels, np.concatenate([p.probabilities for p in pairs]))

    seg_excl = np.zeros((len(IOU_THRESHOLDS), 3))
    seg_cls = np.zeros((len(IOU_THRESHOLDS), k, 3))
    conf = np.zeros((k, k), dtype=np.int64)
    bouts = {"true": [[] for _ in names], "predicted": [[] for _ in names]}
    seconds = {"true": np.zeros(k), "predicted": np.zeros(k)}
    labeled_s = 0.0
    per_video, edits = [], []
    for pair in pairs:
        vfps = float(pair.fps or fps)
        labels = np.asarray(pair.labels)
        preds = np.asarray(pair.predictions)
        valid = valid_rows(labels)
        labeled_s += valid.sum() / vfps
        t_seq = exclusive_sequence(labels)
        p_seq = exclusive_sequence(preds, pair.probabilities if have_probs else None)
        p_seq[~valid] = -1
        conf += confusion_counts(t_seq, p_seq, k)
        edit = edit_score(t_seq, p_seq)
        edits.append(edit)
        video_seg = {}
        for i, iou in enumerate(IOU_THRESHOLDS):
            counts = segment_counts(t_seq, p_seq, iou)
            seg_excl[i] += counts
            video_seg[f"{iou:.2f}"] = _num(f1_from_counts(*counts))
        for c in range(k):
            t_bin = np.where(valid, labels[:, c] == 1, -1).astype(np.int64)
            p_bin = np.where(valid, preds[:, c] == 1, -1).astype(np.int64)
            for i, iou in enumerate(IOU_THRESHOLDS):
                seg_cls[i, c] += segment_counts(t_bin, p_bin, iou)
            for key, arr in (("true", labels), ("predicted", preds)):
                present = (arr[:, c] == 1) & valid
                bouts[key][c].extend((bout_durations(present, valid) / vfps).tolist())
                seconds[key][c] += present.sum() / vfps
        vfm = frame_metrics(labels, preds)
        per_video.append(
            {
                "name": pair.name,
                "n_frames": int(len(labels)),
                "n_frames_labeled": int(valid.sum()),
                "fps": vfps,
                "f1_macro": _num(macro(vfm["f1"], names, True)),
                "f1_macro_no_background": _num(macro(vfm["f1"], names, False)),
                "accuracy_exact": _num(vfm["exact_match"]),
                "segmental_f1": video_seg,
                "edit": _num(edit),
            }
        )

    per_class = []
    for c, name in enumerate(names):
        row = {
            "name": name,
            "precision": _num(fm["precision"][c]),
            "recall": _num(fm["recall"][c]),
            "f1": _num(fm["f1"][c]),
            "accuracy": _num(fm["accuracy"][c]),
            "auroc": _num(auroc[c]),
            "ap": _num(ap[c]),
            "support": int(fm["support"][c]),
            "n_predicted": int(fm["n_predicted"][c]),
        }
        for i, iou in enumerate(IOU_THRESHOLDS):
            row[f"segmental_f1@{iou:.2f}"] = _num(f1_from_counts(*seg_cls[i, c]))
        row["n_bouts_true"] = len(bouts["true"][c])
        row["n_bouts_predicted"] = len(bouts["predicted"][c])
        per_class.append(row)

    overall = {
        "f1_macro": _num(macro(fm["f1"], names, True)),
        "f1_macro_no_background": _num(macro(fm["f1"], names, False)),
        "precision_macro": _num(macro(fm["precision"], names, True)),
        "recall_macro": _num(macro(fm["recall"], names, True)),
        "accuracy_exact": _num(fm["exact_match"]),
        "accuracy_per_class_mean": _num(np.nanmean(fm["accuracy"])) if fm["n_frames"] else None,
        "auroc_macro": _num(macro(auroc, names, True)),
        "ap_macro": _num(macro(ap, names, True)),
        "auroc_macro_no_background": _num(macro(auroc, names, False)),
        "ap_macro_no_background": _num(macro(ap, names, False)),
        "segmental_f1": {
            f"{iou:.2f}": _num(f1_from_counts(*seg_excl[i])) for i, iou in enumerate(IOU_THRESHOLDS)
        },
        "segmental_f1_per_class_macro": {
            f"{iou:.2f}": _num(macro([f1_from_counts(*c) for c in seg_cls[i]], names, False))
            for i, iou in enumerate(IOU_THRESHOLDS)
        },
        "edit": _num(np.mean(edits)),
    }
    time_budget = [
        {
            "name": name,
            **{
                key: _bout_summary(bouts[key][c], seconds[key][c], labeled_s)
                for key in ("true", "predicted")
            },
        }
        for c, name in enumerate(names)
    ]
    row_sums = conf.sum(1, keepdims=True)
    return {
        "class_names": names,
        "n_videos": len(pairs),
        "n_frames": int(len(cat_labels)),
        "n_frames_labeled": int(fm["n_frames"]),
        "labeled_s": _num(labeled_s),
        "has_probabilities": have_probs,
        "segment_definition": "MS-TCN: overall on the exclusive label sequence (background is "
        "not a segment), per class on each behavior's 0/1 sequence; unlabeled frames break "
        "segments; counts summed over videos, edit averaged over videos",
        "overall": overall,
        "per_class": per_class,
        "confusion": {
            "labels": names,
            "counts": conf.tolist(),
            "normalized": [[_num(v) for v in r] for r in _div(conf, row_sums)],
        },
        "time_budget": time_budget,
        "per_video": per_video,
    }
