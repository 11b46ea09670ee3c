"""Segment metrics of per-frame label sequences, as MS-TCN (Farha & Gall, CVPR 2019, ``eval.py``).

Sequences are integer arrays with one label per frame (see
:func:`ethogram.evaluate.metrics.exclusive_sequence`): segments are runs of one label > 0;
background (0) and unlabeled frames (-1) are not segments. A predicted segment is a true positive
when its IoU with the best-matching true segment of the same label reaches the threshold and that
true segment is not yet matched. The edit score is 100 * (1 - Levenshtein distance between the
ordered segment labels / the larger number of segments).

>>> segments(np.array([0, 1, 1, 0, 2, 2, 2]))
(array([1, 2]), array([1, 4]), array([3, 7]))
>>> segment_counts(np.array([1, 1, 1, 0]), np.array([1, 1, 0, 0]), overlap=0.5)
(1, 0, 0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["edit_score", "f1_from_counts", "segment_counts", "segments"]


def segments(seq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal labels > 0 in an integer sequence: (labels, starts, ends), ends exclusive.

    Labels <= 0 (background, unlabeled) are not segments, as MS-TCN's ``bg_class``.
    """
    s = np.asarray(seq)
    if s.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    change = np.flatnonzero(s[1:] != s[:-1]) + 1
    starts = np.r_[0, change]
    ends = np.r_[change, len(s)]
    labs = s[starts]
    keep = labs > 0
    return labs[keep], starts[keep], ends[keep]


def segment_counts(
    true_seq: np.ndarray, pred_seq: np.ndarray, overlap: float
) -> tuple[int, int, int]:
    """MS-TCN ``f_score``: (tp, fp, fn) of predicted segments at IoU >= ``overlap``."""
    y_lab, y_start, y_end = segments(true_seq)
    p_lab, p_start, p_end = segments(pred_seq)
    hits = np.zeros(len(y_lab), dtype=bool)
    tp = fp = 0
    for lab, start, end in zip(p_lab, p_start, p_end, strict=True):
        if len(y_lab) == 0:
            fp += 1
            continue
        inter = np.minimum(end, y_end) - np.maximum(start, y_start)
        union = np.maximum(end, y_end) - np.minimum(start, y_start)
        iou = inter / union * (y_lab == lab)
        best = int(np.argmax(iou))
        if iou[best] >= overlap and not hits[best]:
            tp += 1
            hits[best] = True
        else:
            fp += 1
    return tp, fp, int(len(y_lab) - hits.sum())


def _levenshtein(a: np.ndarray, b: np.ndarray) -> int:
    """Edit distance, one row of the dynamic programme at a time (vectorized over ``b``).

    Within a row, ``cur[j] = min(prev[j] + 1, prev[j-1] + cost, cur[j-1] + 1)``; the last term
    is a running minimum: ``cur[j] = j + min_{i<=j}(tmp[i] - i)``.
    """
    a, b = np.asarray(a), np.asarray(b)
    idx = np.arange(len(b) + 1)
    prev = idx.copy()
    for i in range(1, len(a) + 1):
        tmp = np.empty_like(prev)
        tmp[0] = i
        tmp[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (b != a[i - 1]))
        prev = np.minimum.accumulate(tmp - idx) + idx
    return int(prev[-1])


def edit_score(true_seq: np.ndarray, pred_seq: np.ndarray) -> float:
    """MS-TCN edit score (0-100): 100 * (1 - Levenshtein / max number of segments).

    Both sequences without segments score 100.
    """
    y_lab = segments(true_seq)[0]
    p_lab = segments(pred_seq)[0]
    n = max(len(y_lab), len(p_lab))
    if n == 0:
        return 100.0
    return float((1.0 - _levenshtein(p_lab, y_lab) / n) * 100.0)


def f1_from_counts(tp: float, fp: float, fn: float) -> float:
    """F1 from counts; NaN when there is nothing to find and nothing found."""
    if tp + fp + fn == 0:
        return float("nan")
    return float(2 * tp / (2 * tp + fp + fn))
