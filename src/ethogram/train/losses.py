"""Losses of the feature extractor: class-weighted, smoothed, optionally focal binary cross-entropy.

>>> import numpy as np
>>> positive_weights(np.array([[1, 0], [0, 1], [0, 1], [-1, -1]]))  # -1: unlabeled
array([2. , 0.5], dtype=float32)
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["multilabel_loss", "positive_weights"]


def positive_weights(
    labels: np.ndarray,
    low: float = 0.1,
    high: float = 20.0,
    sample_weights: np.ndarray | None = None,
) -> np.ndarray:
    """BCE positive weights per class: negatives / positives among labeled frames, clipped.

    With ``sample_weights`` (how often each frame is drawn, relative), the counts are those of
    the frames as the sampler draws them.
    """
    labels = np.asarray(labels)
    w = np.ones(len(labels)) if sample_weights is None else np.asarray(sample_weights, float)
    if sample_weights is not None:
        w = w * len(w) / max(float(w.sum()), 1e-12)
    pos = ((labels == 1) * w[:, None]).sum(0).astype(float)
    neg = ((labels == 0) * w[:, None]).sum(0).astype(float)
    return np.clip(neg / np.maximum(pos, 1.0), low, high).astype(np.float32)


def multilabel_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    pos_weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    focal_gamma: float | None = None,
) -> torch.Tensor:
    """Mean binary cross-entropy over frames and behaviors.

    Parameters
    ----------
    logits, targets
        ``(B, K)``; targets are 0/1.
    pos_weight
        ``(K,)`` weights of positive frames (class imbalance).
    label_smoothing
        Targets become ``y * (1 - eps) + eps / 2``.
    focal_gamma
        If given, each term is multiplied by ``(1 - p_t) ** gamma`` (focal loss).
    """
    targets = targets * (1 - label_smoothing) + label_smoothing / 2
    loss = F.binary_cross_entropy_with_logits(
        logits, targets, pos_weight=pos_weight, reduction="none"
    )
    if focal_gamma:
        p = torch.sigmoid(logits)
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = loss * (1 - p_t).clamp(min=0).pow(focal_gamma)
    return loss.mean()
