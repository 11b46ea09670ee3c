"""Editing one video's labels: the rules of the labeling GUI, with undo and redo (no Qt).

A :class:`LabelDocument` holds a (T, K) int8 label array (1 present, 0 absent, -1 not yet
labeled; column 0 is ``background``) and changes it only through a few edits, each one undo
step. The rules keep the array valid for training (which uses only frames without -1):

- Marking a behavior present in a frame labels the frame: its other unlabeled (-1) behaviors
  become 0 (absent), and background becomes 0. In exclusive mode the other behaviors become 0
  whatever they were.
- Marking a behavior absent keeps the frame labeled; background becomes 1 when no other
  behavior is present.
- Marking background present marks every other behavior absent.
- Clearing (-1) a range makes its frames unlabeled again, every column.
- Nothing turns -1 into 0 except the user's explicit edits of those frames, or
  :meth:`LabelDocument.mark_unlabeled_as_background` over a range the user chooses.

DeepEthogram's keys are kept by :class:`KeyLabeler`: a number key toggles a behavior on at the
current frame; while it is on, moving forward fills the frames passed over, moving back erases
them; pressing the key again turns it off. All of one such stroke is one undo step.

>>> import numpy as np
>>> doc = LabelDocument(np.full((10, 3), -1, np.int8), ["background", "groom", "rear"])
>>> doc.paint(1, 2, 5, 1)
True
>>> doc.values[2:5].tolist()
[[0, 1, 0], [0, 1, 0], [0, 1, 0]]
>>> doc.undo()
(2, 5)
>>> int(doc.values.max())
-1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ethogram.bouts import find_bouts
from ethogram.errors import LabelError

#: Undo steps kept (older ones are dropped).
DEFAULT_UNDO_LIMIT = 500


@dataclass
class _Edit:
    """One undo step: the rows [start, stop) before and after."""

    start: int
    stop: int
    before: np.ndarray
    after: np.ndarray | None = None
    what: str = ""


class LabelDocument:
    """The labels of one video, changed through edits that can be undone.

    Parameters
    ----------
    values
        Array (T, K) of 1 / 0 / -1; column 0 is ``background``. Copied.
    behaviors
        The K behavior names, ``background`` first.
    exclusive
        At most one behavior per frame: marking one present marks the others absent.
    undo_limit
        Undo steps kept.
    """

    def __init__(
        self,
        values: np.ndarray,
        behaviors: list[str],
        exclusive: bool = False,
        undo_limit: int = DEFAULT_UNDO_LIMIT,
    ) -> None:
        arr = np.array(values, dtype=np.int8, copy=True)
        if arr.ndim != 2 or arr.shape[1] != len(behaviors):
            raise LabelError(
                f"labels: expected an array (frames, {len(behaviors)}) for behaviors "
                f"{behaviors}, got shape {arr.shape}"
            )
        if not behaviors or behaviors[0] != "background":
            raise LabelError(f"labels: the first behavior must be 'background', got {behaviors}")
        self._values = arr
        self.behaviors = list(behaviors)
        self.exclusive = exclusive
        self.undo_limit = int(undo_limit)
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._group: _Edit | None = None
        self.revision = 0
        self.saved_revision = 0

    # ---- state ------------------------------------------------------------------------------
    @property
    def values(self) -> np.ndarray:
        """The labels (T, K); read-only view (change them through the edit methods)."""
        view = self._values.view()
        view.flags.writeable = False
        return view

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self._values.shape[0])

    @property
    def dirty(self) -> bool:
        """True when there are changes since :meth:`mark_saved`."""
        return self.revision != self.saved_revision

    def mark_saved(self) -> None:
        """Record that the current labels are on disk."""
        self.saved_revision = self.revision

    def labeled_fraction(self) -> float:
        """Fraction of frames with no -1 in any column."""
        if self.n_frames == 0:
            return 0.0
        return float((self._values >= 0).all(axis=1).mean())

    def add_behavior(self, name: str) -> None:
        """Append a behavior column of -1 (the project has just gained it)."""
        column = np.full((self.n_frames, 1), -1, dtype=np.int8)
        self._values = np.concatenate([self._values, column], axis=1)
        self.behaviors.append(name)
        # Old undo steps have the old width: they can no longer be applied.
        self._undo.clear()
        self._redo.clear()
        self._group = None
        self.revision += 1

    def rename_behavior(self, old: str, new: str) -> None:
        """Rename a behavior column (values unchanged)."""
        self.behaviors[self.behaviors.index(old)] = new

    # ---- undo / redo ------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        """True when there is an edit to undo."""
        return bool(self._undo) or self._group is not None

    @property
    def can_redo(self) -> bool:
        """True when there is an undone edit to redo."""
        return bool(self._redo)

    def undo(self) -> tuple[int, int] | None:
        """Undo the last edit; returns its frame range [start, stop), or None."""
        self.end_group()
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._values[edit.start : edit.stop] = edit.before
        self._redo.append(edit)
        self.revision += 1
        return edit.start, edit.stop

    def redo(self) -> tuple[int, int] | None:
        """Redo the last undone edit; returns its frame range [start, stop), or None."""
        self.end_group()
        if not self._redo:
            return None
        edit = self._redo.pop()
        assert edit.after is not None  # set when the edit was closed
        self._values[edit.start : edit.stop] = edit.after
        self._undo.append(edit)
        self.revision += 1
        return edit.start, edit.stop

    def begin_group(self, what: str = "") -> None:
        """Start collecting edits into one undo step (until :meth:`end_group`)."""
        self.end_group()
        self._group = _Edit(0, 0, self._values[0:0].copy(), what=what)

    def end_group(self) -> None:
        """Close the current group of edits (no-op when none is open)."""
        group, self._group = self._group, None
        if group is not None and group.stop > group.start:
            group.after = self._values[group.start : group.stop].copy()
            self._push(group)

    def _push(self, edit: _Edit) -> None:
        self._undo.append(edit)
        if len(self._undo) > self.undo_limit:
            del self._undo[0]
        self._redo.clear()

    def _record(self, start: int, stop: int, what: str) -> _Edit | None:
        """Remember rows [start, stop) before they change; returns the edit (None in a group)."""
        group = self._group
        if group is None:
            return _Edit(start, stop, self._values[start:stop].copy(), what=what)
        if group.stop == group.start:
            group.start, group.stop = start, stop
            group.before = self._values[start:stop].copy()
            return None
        if start < group.start:
            group.before = np.concatenate([self._values[start : group.start], group.before])
            group.start = start
        if stop > group.stop:
            group.before = np.concatenate([group.before, self._values[group.stop : stop]])
            group.stop = stop
        return None

    def _apply(self, start: int, stop: int, new_rows: np.ndarray, what: str) -> bool:
        """Replace rows [start, stop) with ``new_rows`` as one edit; False if nothing changed."""
        if np.array_equal(self._values[start:stop], new_rows):
            return False
        edit = self._record(start, stop, what)
        self._values[start:stop] = new_rows
        if edit is not None:
            edit.after = new_rows.copy()
            self._push(edit)
        else:
            self._redo.clear()
        self.revision += 1
        return True

    # ---- edits ------------------------------------------------------------------------------
    def _span(self, start: int, stop: int) -> tuple[int, int]:
        start, stop = (start, stop) if start <= stop else (stop, start)
        return max(0, int(start)), min(self.n_frames, int(stop))

    def paint(self, behavior: int, start: int, stop: int, value: int) -> bool:
        """Set ``behavior`` to ``value`` in frames [start, stop), keeping each frame valid.

        Parameters
        ----------
        behavior
            Column index (0 = background).
        start, stop
            Frame range, stop exclusive (given in either order).
        value
            1 present, 0 absent, -1 clear the frames (every column becomes unlabeled).

        Returns
        -------
        bool
            True if anything changed.
        """
        if value not in (1, 0, -1):
            raise LabelError(f"label value must be 1, 0 or -1, got {value!r}")
        if not 0 <= behavior < len(self.behaviors):
            raise LabelError(f"no behavior column {behavior}; there are {len(self.behaviors)}")
        start, stop = self._span(start, stop)
        if stop <= start:
            return False
        rows = self._values[start:stop].copy()
        if value == -1:
            rows[:] = -1
        elif behavior == 0:
            if value == 1:
                rows[:] = 0
                rows[:, 0] = 1
            else:
                # "Not background" does not say which behavior it is: those frames go back to
                # unlabeled; frames with a behavior present are already not background.
                rows[rows[:, 0] == 1] = -1
        else:
            others = rows[:, 1:]
            if value == 1:
                if self.exclusive:
                    others[:] = 0
                else:
                    others[others == -1] = 0
            else:
                others[others == -1] = 0
            rows[:, behavior] = value
            rows[:, 0] = np.where((rows[:, 1:] == 1).any(axis=1), 0, 1)
        return self._apply(start, stop, rows, f"paint {self.behaviors[behavior]}")

    def mark_unlabeled_as_background(self, start: int, stop: int) -> bool:
        """In frames [start, stop), every behavior still unlabeled becomes absent (0).

        Frames with no behavior present become background. Returns True if anything changed.
        """
        start, stop = self._span(start, stop)
        if stop <= start:
            return False
        rows = self._values[start:stop].copy()
        others = rows[:, 1:]
        others[others == -1] = 0
        rows[:, 0] = np.where((others == 1).any(axis=1), 0, 1)
        return self._apply(start, stop, rows, "mark unlabeled as background")

    def accept(
        self, predicted: np.ndarray, start: int, stop: int, only_unlabeled: bool = False
    ) -> bool:
        """Copy predictions (T, K) of 0/1 into the labels over frames [start, stop).

        Parameters
        ----------
        predicted
            The thresholded predictions of the whole video, columns as the labels.
        start, stop
            Frame range, stop exclusive.
        only_unlabeled
            Fill only cells that are -1, keep every label already made.

        Returns
        -------
        bool
            True if anything changed.
        """
        predicted = np.asarray(predicted)
        if predicted.shape != self._values.shape:
            raise LabelError(
                f"predictions have shape {predicted.shape}, labels {self._values.shape}"
            )
        start, stop = self._span(start, stop)
        if stop <= start:
            return False
        rows = self._values[start:stop].copy()
        new = predicted[start:stop].astype(np.int8)
        if only_unlabeled:
            rows[:, 1:] = np.where(rows[:, 1:] == -1, new[:, 1:], rows[:, 1:])
            rows[:, 0] = np.where((rows[:, 1:] == 1).any(axis=1), 0, 1)
        else:
            rows = new
        return self._apply(start, stop, rows, "accept predictions")


class KeyLabeler:
    """DeepEthogram's keyboard labeling over a :class:`LabelDocument`.

    A number key toggles a behavior on at the current frame (it is marked present there);
    while on, moving forward marks every frame passed over present, moving back marks the frames
    left behind absent. Pressing the key again, or :meth:`stop`, turns it off. Background (0)
    works the same way and is exclusive with the others. Each stroke is one undo step.
    """

    def __init__(self, document: LabelDocument) -> None:
        self.document = document
        self.active: list[int] = []

    def toggle(self, behavior: int, frame: int) -> bool:
        """Turn ``behavior`` on at ``frame`` (or off if it is on); returns True if now on."""
        doc = self.document
        if behavior in self.active:
            self.active.remove(behavior)
            if not self.active:
                doc.end_group()
            return False
        if behavior == 0 or 0 in self.active or doc.exclusive:
            self.active.clear()
        if not self.active:
            doc.begin_group(f"keys {doc.behaviors[behavior]}")
        self.active.append(behavior)
        doc.paint(behavior, frame, frame + 1, 1)
        return True

    def move(self, old: int, new: int) -> None:
        """The current frame moved from ``old`` to ``new``: fill or erase for active behaviors."""
        if not self.active or new == old:
            return
        for behavior in self.active:
            if new > old:
                self.document.paint(behavior, old + 1, new + 1, 1)
            else:
                self.document.paint(behavior, new + 1, old + 1, 0)

    def stop(self) -> None:
        """Turn every behavior off and close the stroke."""
        self.active.clear()
        self.document.end_group()


def runs(mask: np.ndarray, min_length: int = 1) -> np.ndarray:
    """Runs of True in ``mask`` of ``min_length`` frames or more: array (n, 2) [start, stop)."""
    found = find_bouts(mask)
    if min_length > 1 and len(found):
        found = found[(found[:, 1] - found[:, 0]) >= min_length]
    return found


def next_run(found: np.ndarray, frame: int, backwards: bool = False) -> tuple[int, int] | None:
    """The first run starting after ``frame`` (before it, with ``backwards``), wrapping around."""
    if len(found) == 0:
        return None
    starts = found[:, 0]
    if backwards:
        earlier = np.flatnonzero(starts < frame)
        index = earlier[-1] if earlier.size else len(found) - 1
    else:
        later = np.flatnonzero(starts > frame)
        index = later[0] if later.size else 0
    return int(found[index, 0]), int(found[index, 1])


def uncertainty(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How unsure the model is in each frame, 0 (sure) to 1 (a probability on its threshold).

    For each behavior (background excluded) the distance of the probability from its threshold,
    scaled by the room on that side of the threshold; a frame's uncertainty is 1 minus the
    smallest such distance.
    """
    p = np.asarray(probs, dtype=np.float64)[:, 1:]
    t = np.asarray(thresholds, dtype=np.float64).ravel()[1:]
    if p.shape[1] == 0:
        return np.zeros(len(p))
    room = np.where(p >= t, 1.0 - t, t)
    distance = np.abs(p - t) / np.maximum(room, 1e-6)
    return 1.0 - distance.min(axis=1)


def uncertain_runs(
    probs: np.ndarray, thresholds: np.ndarray, level: float = 0.6, min_length: int = 3
) -> np.ndarray:
    """Stretches of ``min_length`` frames or more where :func:`uncertainty` is ``level`` or more."""
    return runs(uncertainty(probs, thresholds) >= level, min_length)


def disagreement_runs(labels: np.ndarray, predicted: np.ndarray, min_length: int = 1) -> np.ndarray:
    """Stretches of labeled frames where a behavior's label and prediction differ."""
    labels = np.asarray(labels)
    predicted = np.asarray(predicted)
    labeled = labels[:, 1:] >= 0
    differ = (labels[:, 1:] != predicted[:, 1:]) & labeled
    return runs(differ.any(axis=1), min_length)


__all__ = [
    "DEFAULT_UNDO_LIMIT",
    "KeyLabeler",
    "LabelDocument",
    "disagreement_runs",
    "next_run",
    "runs",
    "uncertain_runs",
    "uncertainty",
]
