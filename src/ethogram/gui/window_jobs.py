"""The main window's training and prediction jobs, and why an action is disabled."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from ethogram.errors import EthogramError


class JobsMixin:
    """Train and predict in the background from :class:`~ethogram.gui.main_window.MainWindow`."""

    # ---- training and prediction -------------------------------------------------------------
    def _update_enabled(self) -> None:
        has_doc = self.document is not None
        for name in ("undo", "redo", "mark_background", "clear_labels", "save"):
            self.actions_by_name[name].setEnabled(has_doc)
        if has_doc:
            self.actions_by_name["undo"].setEnabled(self.document.can_undo)
            self.actions_by_name["redo"].setEnabled(self.document.can_redo)
        has_predictions = self.predicted is not None
        for name in (
            "next_uncertain",
            "previous_uncertain",
            "next_disagreement",
            "previous_disagreement",
            "accept",
            "accept_unlabeled",
        ):
            self.actions_by_name[name].setEnabled(has_predictions and has_doc)
        self._show_job_reasons()

    def _refresh_readiness(self) -> None:
        """Ask the library whether training and prediction can start (reads label files)."""
        from ethogram.readiness import why_cannot_predict, why_cannot_train

        if self.project is None:
            self._reasons = ("open a project first", "open a project first")
        else:
            prefix = f"{self.project.root}: "
            self._reasons = tuple(
                (why(self.project) or "").removeprefix(prefix) or None
                for why in (why_cannot_train, why_cannot_predict)
            )
        self._show_job_reasons()

    def _show_job_reasons(self) -> None:
        if self.project is not None and self.document is not None and self._reasons[0]:
            if (self.document.values >= 0).all(axis=1).any() and "label" in self._reasons[0]:
                self._reasons = (None, self._reasons[1])  # labeled just now, in this window
        reasons = []
        for action, reason, verb in (
            (self.train_action, self._reasons[0], "Train"),
            (self.predict_action, self._reasons[1], "Predict"),
        ):
            reason = self.jobs.why_busy() or reason
            action.setEnabled(reason is None)
            tip = f"{verb}: {reason}" if reason else f"{verb} in the background"
            action.setToolTip(tip)
            action.setStatusTip(tip)
            if reason:
                reasons.append(f"{verb}: {reason}")
        self._why.setText("   ".join(reasons))

    def train(self, overrides: tuple[str, ...] = ()) -> bool:
        """Train every stage in the background (labels are saved first).

        ``overrides``: settings as ``key=value`` strings, as on the command line.
        """
        if self.project is None or not self.flush():
            return False
        try:
            self.project.settings(overrides=list(overrides))  # a typo is reported here, at once
        except EthogramError as exc:
            self._error(str(exc))
            return False
        return self.jobs.run(
            "Training",
            "ethogram.gui.tasks:train",
            {"project_path": str(self.project.root), "preset": None, "overrides": list(overrides)},
        )

    def predict(self) -> bool:
        """Predict every video of the project in the background."""
        if self.project is None or not self.flush():
            return False
        return self.jobs.run(
            "Predicting",
            "ethogram.gui.tasks:predict",
            {"project_path": str(self.project.root), "stems": None, "overwrite": False},
        )

    def _after_job(self) -> None:
        if self.project is None:
            return
        self.video_list.fill(self.project)
        if self.stem is not None:
            self.video_list.select(self.stem)
            self.load_predictions()
        self._refresh_readiness()

    def train_settings_dialog(self) -> None:
        """Train with settings typed as on the command line (``train.epochs=10 ...``)."""
        if not self.train_action.isEnabled():
            self._status(self.train_action.toolTip())
            return
        text, ok = QInputDialog.getText(
            self,
            "Train with settings",
            "Settings as key=value, separated by spaces (e.g. train.epochs=10 "
            "features.arch=resnet18); empty: the project's settings:",
        )
        if ok:
            self.train(tuple(text.split()))
