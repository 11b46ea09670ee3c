"""Post-processing: turn per-frame probabilities into a clean ethogram.

The steps, in order (as in DeepEthogram's ``MinBoutLengthPerBehaviorPostprocessor``):

1. **Thresholds.** A behavior is present in a frame when its probability is ``>=`` its threshold
   (DeepEthogram uses ``>``; the two differ only for a probability exactly at the threshold). The
   background column's threshold is ignored.
2. **Exclusive mode** (optional). At most one behavior per frame: among the behaviors above their
   thresholds, the one with the highest probability (ties go to the earlier column).
3. **Minimum bout length**, per behavior. For ``L = 1, 2, ..., min_bout - 1``: first gaps of at most
   ``L`` frames *inside* the behavior (absent runs with the behavior present on both sides) are
   filled, then bouts of at most ``L`` frames are removed. Shortest fragments are resolved first, so
   ``1 1 0 1 1`` with a minimum of 2 becomes one bout of 5 frames rather than nothing. After this,
   every bout lasts at least ``min_bout`` frames and every gap inside a behavior is at least
   ``min_bout`` frames long, except absent runs at the start or end of the video, which are never
   filled. ``min_bout = 1`` changes nothing. (DeepEthogram's ``bout_length`` removes bouts of
   length ``<= bout_length``; here ``min_bout`` is the shortest bout that is kept.)
4. **Exclusive mode again**: filling gaps can make two behaviors overlap; each such frame keeps the
   behavior with the highest probability.
5. **Background** is 1 exactly when no other behavior is 1.

:func:`min_bout_from_labels` estimates each behavior's minimum bout length from the labels (a
fraction, by default half, of a low percentile of the labeled bout lengths) and
:func:`resolve_min_bout` applies the ``postprocess.min_bout`` setting (``'auto'``, an int, or a
per-behavior dict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ethogram.bouts import find_bouts
from ethogram.errors import ConfigError, LabelError

BACKGROUND = "background"
DEFAULT_PERCENTILE = 5.0
# Why half: a behavior's predicted bouts come out shorter than its labeled ones (onsets and ends
# are blurred), and a low percentile of a few dozen labeled bouts is close to their minimum,
# above the shortest bouts new videos hold. The full percentile removed correct detections of
# short bouts (held-out macro F1 of the sequence model 0.819 before post-processing, 0.710
# after; 0.843 with half). See docs/benchmarks.md.
DEFAULT_FRACTION = 0.5


def _set_runs(x: np.ndarray, runs: np.ndarray, value: bool) -> None:
    """Set ``x[start:end] = value`` for every (start, end) row of ``runs``, in place."""
    if len(runs) == 0:
        return
    delta = np.zeros(len(x) + 1, dtype=np.int64)
    np.add.at(delta, runs[:, 0], 1)
    np.add.at(delta, runs[:, 1], -1)
    x[np.cumsum(delta[:-1]) > 0] = value


def enforce_min_bout(present: np.ndarray, min_bout: int) -> np.ndarray:
    """Fill short gaps inside a behavior, then remove short bouts, shortest first.

    Parameters
    ----------
    present
        Boolean array (T,): frames where the behavior is present.
    min_bout
        Shortest bout (and shortest inner gap) to keep, in frames; 1 changes nothing.

    Returns
    -------
    numpy.ndarray
        Boolean array (T,), a cleaned copy.

    Examples
    --------
    >>> enforce_min_bout(np.array([0, 1, 1, 0, 1, 1, 0, 0, 1, 0], bool), 2).astype(int)
    array([0, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    """
    x = np.asarray(present, dtype=bool).copy()
    n = len(x)
    for length in range(1, int(min_bout)):
        gaps = find_bouts(~x)
        inner = (gaps[:, 0] > 0) & (gaps[:, 1] < n) & (gaps[:, 1] - gaps[:, 0] <= length)
        _set_runs(x, gaps[inner], True)
        bouts = find_bouts(x)
        _set_runs(x, bouts[bouts[:, 1] - bouts[:, 0] <= length], False)
    return x


def _exclusive(present: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Keep, in each frame, only the present behavior with the highest probability."""
    scores = np.where(present, probs, -np.inf)
    winner = np.argmax(scores, axis=1)
    out = np.zeros_like(present)
    rows = np.flatnonzero(present.any(axis=1))
    out[rows, winner[rows]] = True
    return out


def _check_names(class_names: Sequence[str], n_columns: int, what: str) -> list[str]:
    names = [str(c) for c in class_names]
    if len(names) != n_columns:
        raise LabelError(f"{what} has {n_columns} columns but {len(names)} class names {names}")
    if not names or names[0] != BACKGROUND:
        found = names[0] if names else "no classes"
        raise LabelError(f"the first class must be {BACKGROUND!r}, found {found!r}")
    return names


def _check_min_bout_value(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(
            f"postprocess.min_bout for {name!r}: expected a whole number of frames >= 1, "
            f"got {value!r}"
        )
    return int(value)


def _check_min_bout_dict(setting: Mapping[str, object], behaviors: list[str]) -> dict[str, int]:
    out = {}
    for name, value in setting.items():
        if name == BACKGROUND:
            raise ConfigError(
                "postprocess.min_bout: 'background' has no minimum bout length (it is 1 exactly "
                f"when no other behavior is); set it for the behaviors {behaviors}"
            )
        if name not in behaviors:
            raise ConfigError(
                f"postprocess.min_bout: unknown behavior {name!r}; the behaviors are {behaviors}"
            )
        out[name] = _check_min_bout_value(name, value)
    return out


def postprocess(
    probs: np.ndarray,
    thresholds: np.ndarray,
    class_names: Sequence[str],
    min_bout_frames: Mapping[str, int] | int = 1,
    exclusive: bool = False,
) -> np.ndarray:
    """Threshold probabilities and clean them into an ethogram.

    See the module docstring for the exact rules.

    Parameters
    ----------
    probs
        Float array (T, K) of per-frame probabilities, column 0 = ``background``.
    thresholds
        Array (K,) of per-class thresholds; a behavior is present where ``probs >= threshold``.
        The background threshold is ignored.
    class_names
        The K class names, ``background`` first.
    min_bout_frames
        Minimum bout length in frames: one int for every behavior, or a dict behavior -> frames
        (behaviors not in the dict get 1, i.e. no minimum). See :func:`resolve_min_bout`.
    exclusive
        At most one behavior per frame (the most probable one above its threshold).

    Returns
    -------
    numpy.ndarray
        int8 array (T, K) of 0/1, background 1 exactly where no other behavior is 1.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise LabelError(
            f"probabilities: expected a (frames, classes) array, got shape {probs.shape}"
        )
    n_frames, n_classes = probs.shape
    names = _check_names(class_names, n_classes, "probabilities")
    thresholds = np.asarray(thresholds, dtype=np.float64).ravel()
    if thresholds.shape != (n_classes,):
        raise LabelError(
            f"thresholds: expected {n_classes} values (one per class {names}), "
            f"got {thresholds.shape[0]}"
        )
    behaviors = names[1:]
    if isinstance(min_bout_frames, Mapping):
        per_behavior = _check_min_bout_dict(min_bout_frames, behaviors)
        mins = [per_behavior.get(b, 1) for b in behaviors]
    else:
        mins = [_check_min_bout_value("every behavior", min_bout_frames)] * len(behaviors)

    behavior_probs = probs[:, 1:]
    present = behavior_probs >= thresholds[1:]
    if exclusive:
        present = _exclusive(present, behavior_probs)
    for k, min_bout in enumerate(mins):
        if min_bout > 1:
            present[:, k] = enforce_min_bout(present[:, k], min_bout)
    if exclusive:
        present = _exclusive(present, behavior_probs)

    out = np.zeros((n_frames, n_classes), dtype=np.int8)
    out[:, 1:] = present
    out[:, 0] = ~present.any(axis=1)
    return out


def labeled_bout_lengths(values: np.ndarray, column: int) -> np.ndarray:
    """Lengths (frames) of the bouts of one column whose length is known.

    Bouts next to an unlabeled (-1) frame are skipped: the labeler may not have seen their real
    start or end. So are bouts that touch the first or last frame: the recording cut them.

    Examples
    --------
    >>> labels = np.array([[1], [1], [0], [1], [1], [1], [0], [1]])
    >>> labeled_bout_lengths(labels, 0)
    array([3])
    """
    col = np.asarray(values)[:, column]
    bouts = find_bouts(col == 1)
    if len(bouts) == 0:
        return np.zeros(0, dtype=np.int64)
    unlabeled = np.concatenate([[True], col == -1, [True]])
    touches = unlabeled[bouts[:, 0]] | unlabeled[bouts[:, 1] + 1]
    bouts = bouts[~touches]
    return bouts[:, 1] - bouts[:, 0]


def min_bout_from_labels(
    label_arrays: Sequence[np.ndarray],
    class_names: Sequence[str],
    percentile: float = DEFAULT_PERCENTILE,
    fraction: float = DEFAULT_FRACTION,
) -> dict[str, int]:
    """Estimate each behavior's minimum bout length from labeled bouts.

    The estimate is ``fraction`` times the ``percentile``-th percentile of the behavior's labeled
    bout lengths over all arrays, rounded down, and at least 1: predicted bouts much shorter than
    nearly every bout a human labeled are taken as noise. Behaviors with no labeled bout get 1
    (no minimum).

    Parameters
    ----------
    label_arrays
        Label arrays (T, K) with values 1/0/-1, columns as ``class_names``.
    class_names
        The K class names, ``background`` first.
    percentile
        Which percentile of the bout length distribution, 0-100 (DeepEthogram's default is 5).
    fraction
        Multiplies the percentile, in (0, 1]: 1 keeps DeepEthogram's rule.

    Returns
    -------
    dict
        behavior -> minimum bout length in frames, for every behavior except background.

    Examples
    --------
    >>> labels = np.array([[1, 0]] * 3 + [[0, 1]] * 10 + [[1, 0]] * 3)
    >>> min_bout_from_labels([labels], ["background", "groom"])
    {'groom': 5}
    >>> min_bout_from_labels([labels], ["background", "groom"], fraction=1.0)
    {'groom': 10}
    """
    if not 0 <= percentile <= 100:
        raise ConfigError(f"min bout percentile: expected a value in 0-100, got {percentile}")
    if not 0 < fraction <= 1:
        raise ConfigError(f"min bout fraction: expected a value in (0, 1], got {fraction}")
    names = [str(c) for c in class_names]
    lengths: dict[str, list[np.ndarray]] = {name: [] for name in names[1:]}
    for i, values in enumerate(label_arrays):
        arr = np.asarray(values)
        if arr.ndim != 2:
            raise LabelError(f"label array {i}: expected (frames, classes), got shape {arr.shape}")
        _check_names(names, arr.shape[1], f"label array {i}")
        for k, name in enumerate(names[1:], start=1):
            lengths[name].append(labeled_bout_lengths(arr, k))
    out = {}
    for name, parts in lengths.items():
        all_lengths = np.concatenate(parts) if parts else np.zeros(0)
        if all_lengths.size == 0:
            out[name] = 1
        else:
            value = fraction * np.percentile(all_lengths, percentile)
            out[name] = max(1, int(np.floor(value)))
    return out


def labels_are_exclusive(label_arrays: Sequence[np.ndarray]) -> bool:
    """Whether labels show at most one behavior (background aside) in every frame.

    Parameters
    ----------
    label_arrays
        Label arrays (T, K) with values 1/0/-1, background in column 0.

    Returns
    -------
    bool
        True when at least one frame is labeled and no frame has two behaviors at 1.

    Examples
    --------
    >>> labels_are_exclusive([np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])])
    True
    >>> labels_are_exclusive([np.array([[0, 1, 1]])])
    False
    """
    labeled = False
    for values in label_arrays:
        arr = np.asarray(values)
        if arr.ndim != 2:
            raise LabelError(f"label array: expected (frames, classes), got shape {arr.shape}")
        if ((arr[:, 1:] == 1).sum(axis=1) > 1).any():
            return False
        labeled = labeled or bool((arr >= 0).any())
    return labeled


def resolve_exclusive(setting: str | bool, label_arrays: Sequence[np.ndarray] = ()) -> bool:
    """Turn the ``postprocess.exclusive`` setting into a bool.

    ``'auto'`` means exclusive when the labels are (:func:`labels_are_exclusive`); without labels
    it is False.
    """
    if isinstance(setting, (bool, np.bool_)):
        return bool(setting)
    if setting != "auto":
        raise ConfigError(f"postprocess.exclusive: expected true, false or 'auto', got {setting!r}")
    return labels_are_exclusive(label_arrays)


def resolve_min_bout(
    setting: str | int | Mapping[str, int],
    class_names: Sequence[str],
    label_arrays: Sequence[np.ndarray] = (),
    percentile: float = DEFAULT_PERCENTILE,
    fraction: float = DEFAULT_FRACTION,
) -> dict[str, int]:
    """Turn the ``postprocess.min_bout`` setting into frames per behavior.

    Parameters
    ----------
    setting
        ``'auto'`` (estimate from ``label_arrays`` with :func:`min_bout_from_labels`; 1 for every
        behavior when there are no labels), an int (the same for every behavior), or a dict
        behavior -> frames (behaviors left out are estimated as with ``'auto'``).
    class_names
        The K class names, ``background`` first.
    label_arrays
        The project's label arrays (T, K), for ``'auto'``.
    percentile, fraction
        ``'auto'`` takes ``fraction`` of this percentile of the labeled bout lengths.

    Returns
    -------
    dict
        behavior -> minimum bout length in frames, for every behavior except background.

    Raises
    ------
    ConfigError
        For an unknown behavior name, a value below 1, or an unrecognized setting.
    """
    names = [str(c) for c in class_names]
    if not names or names[0] != BACKGROUND:
        raise LabelError(f"the first class must be {BACKGROUND!r}, got class names {names}")
    behaviors = names[1:]
    if isinstance(setting, str):
        if setting != "auto":
            raise ConfigError(
                f"postprocess.min_bout: expected 'auto', a number of frames or a dict of "
                f"behavior: frames, got {setting!r}"
            )
        return min_bout_from_labels(label_arrays, names, percentile, fraction)
    if isinstance(setting, Mapping):
        explicit = _check_min_bout_dict(setting, behaviors)
        estimated = min_bout_from_labels(label_arrays, names, percentile, fraction)
        return {b: explicit.get(b, estimated[b]) for b in behaviors}
    value = _check_min_bout_value("every behavior", setting)
    return {b: value for b in behaviors}
