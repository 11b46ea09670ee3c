"""Bouts: runs of consecutive frames in which a behavior is present."""

from __future__ import annotations

import numpy as np


def find_bouts(present: np.ndarray) -> np.ndarray:
    """Return the bouts of a 1-D presence sequence.

    Parameters
    ----------
    present
        Array of shape (T,), truthy where the behavior is present.

    Returns
    -------
    numpy.ndarray
        Integer array of shape (n_bouts, 2): start frame (inclusive) and end frame (exclusive).

    Examples
    --------
    >>> find_bouts(np.array([0, 1, 1, 0, 1]))
    array([[1, 3],
           [4, 5]])
    """
    x = np.asarray(present).astype(bool).ravel()
    if x.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    padded = np.concatenate([[False], x, [False]])
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    return changes.reshape(-1, 2).astype(np.int64)


def bouts_to_binary(bouts: np.ndarray, n_frames: int) -> np.ndarray:
    """Inverse of :func:`find_bouts`: a boolean array of length ``n_frames``."""
    out = np.zeros(n_frames, dtype=bool)
    for start, end in np.asarray(bouts).reshape(-1, 2):
        out[int(start) : int(end)] = True
    return out
