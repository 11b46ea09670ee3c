"""The main window's labeling: keys, drags, selection, undo, autosave, behaviors."""

from __future__ import annotations

from pathlib import Path

from ethogram.errors import EthogramError

#: Labels are written at most this long after the first unsaved change.
AUTOSAVE_MS = 1500


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(modification time, size) of a file, None if it does not exist: to notice outside edits."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


class LabelingMixin:
    """Label edits and their saving in :class:`~ethogram.gui.main_window.MainWindow`."""

    # ---- labeling ----------------------------------------------------------------------------
    def toggle_behavior(self, index: int) -> None:
        """A behavior key: toggle that behavior on or off at the current frame."""
        if self.keys is None or index >= len(self.document.behaviors):
            return
        on = self.keys.toggle(index, self.player.index)
        name = self.document.behaviors[index]
        self._status(f"{name} on: move forward to mark, back to erase" if on else f"{name} off")
        self._labels_changed()

    def end_keys(self) -> None:
        """Turn every behavior key off."""
        if self.keys is not None and self.keys.active:
            self.keys.stop()
            self._status("behavior keys off")

    def paint(self, behavior: int, start: int, stop: int, value: int) -> None:
        """Set ``behavior`` to ``value`` over [start, stop) (a drag on the ethogram)."""
        if self.document is None:
            return
        self.end_keys()
        if self.document.paint(behavior, start, stop, value):
            self._labels_changed()

    def undo(self) -> None:
        """Undo the last label edit."""
        if self.document is not None:
            self.end_keys()
            if self.document.undo() is not None:
                self._labels_changed()

    def redo(self) -> None:
        """Redo the last undone label edit."""
        if self.document is not None and self.document.redo() is not None:
            self._labels_changed()

    def _exclusive_toggled(self) -> None:
        on = self.actions_by_name["exclusive"].isChecked()
        if self.document is not None:
            self.document.exclusive = on
        self._status("behaviors are mutually exclusive" if on else "behaviors may overlap")

    def mark_in(self) -> None:
        """The selection starts at the current frame."""
        self._mark_in = self.player.index
        end = self.selection[1] if self.selection and self.selection[1] > self._mark_in else None
        self.set_selection((self._mark_in, end or self._mark_in + 1))

    def mark_out(self) -> None:
        """The selection ends at (and includes) the current frame."""
        start = self._mark_in if self._mark_in is not None else self.player.index
        self.set_selection((start, self.player.index + 1))

    def set_selection(self, selection: tuple[int, int] | None) -> None:
        """Select frames [start, stop) (None clears)."""
        if selection is not None:
            start, stop = sorted(selection)
            selection = (start, max(stop, start + 1))
        else:
            self._mark_in = None
        self.selection = selection
        if selection is None:
            self.ethogram.set_highlight(0, None)
        else:
            self.ethogram.set_highlight(*selection)
            self._status(f"selected frames {selection[0]} to {selection[1] - 1}")

    def mark_background(self) -> None:
        """Every unlabeled behavior in the selection becomes absent (background if none)."""
        if self.document is None:
            return
        if self.selection is None:
            self._status("select a range first: I at its start, O at its end")
            return
        if self.document.mark_unlabeled_as_background(*self.selection):
            self._labels_changed()

    def clear_labels(self) -> None:
        """Unlabel the selection (every behavior back to -1)."""
        if self.document is None or self.selection is None:
            self._status("select a range first: I at its start, O at its end")
            return
        if self.document.paint(0, *self.selection, -1):
            self._labels_changed()

    def _labels_changed(self) -> None:
        doc = self.document
        if doc is None:
            return
        self.ethogram.set_labels(doc.values)
        self.bout_summary.set_video(self.stem, doc.values)
        if self._reasons[0] is not None:
            self._show_job_reasons()
        if doc.dirty and not self._autosave.isActive():
            self._autosave.start(AUTOSAVE_MS)
        self.actions_by_name["undo"].setEnabled(doc.can_undo)
        self.actions_by_name["redo"].setEnabled(doc.can_redo)

    def save_labels(self) -> bool:
        """Write the labels now (atomic, with one backup per video per session)."""
        self._autosave.stop()
        doc = self.document
        if doc is None or self.project is None or self.stem is None or not doc.dirty:
            return True
        stem = self.stem
        path = self.project.video(stem).labels_path
        changed_outside = file_stamp(path) != self._disk_stamp
        try:
            saved = self.project.write_labels(
                stem,
                doc.values,
                behaviors=doc.behaviors,
                backup=stem not in self._backed_up or changed_outside,
                n_frames=doc.n_frames,
            )
        except EthogramError as exc:
            message = f"labels of {stem} were NOT saved: {exc}"
            if self._save_failing:
                self._status(message)  # already shown once; keep trying quietly
            else:
                self._error(message + "\n\nThe window keeps trying every few seconds.")
            self._save_failing = True
            self._autosave.start(2 * AUTOSAVE_MS)
            return False
        self._save_failing = False
        self._backed_up.add(stem)
        self._disk_stamp = file_stamp(path)
        doc.mark_saved()
        if changed_outside and saved is not None:
            self._error(
                f"{path.name} had been changed by another program since this window read it. "
                f"The window's labels are saved; the other version is kept as {saved}."
            )
            return True
        self.video_list.update_row(self.project, stem, doc.labeled_fraction())
        self._status(f"labels of {stem} saved")
        self._update_enabled()
        return True

    def flush(self) -> bool:
        """Save pending label changes (before switching video, training or closing)."""
        if self.keys is not None:
            self.keys.stop()
        return self.save_labels()

    # ---- behaviors ---------------------------------------------------------------------------
    def add_behavior(self, name: str) -> bool:
        """Add a behavior to the project (every label file gets a column of -1)."""
        if self.project is None or not self.flush():
            return False
        try:
            self.project.add_behavior(name)
        except EthogramError as exc:
            self._error(str(exc))
            return False
        self._behaviors_changed()
        return True

    def rename_behavior(self, old: str, new: str) -> bool:
        """Rename a behavior in the project and every label file."""
        if self.project is None or not self.flush():
            return False
        try:
            self.project.rename_behavior(old, new)
        except EthogramError as exc:
            self._error(str(exc))
            return False
        self._behaviors_changed()
        return True

    def _behaviors_changed(self) -> None:
        stem, frame = self.stem, self.player.index
        self.ethogram.set_behaviors(self.project.behaviors)
        self.video_list.fill(self.project)  # the label files have new columns: count them again
        self._fit_ethogram()
        self._bind_behavior_keys()
        if stem is not None:
            self.open_video(stem)
            self.player.seek(frame)
