"""The main window's review of predictions: models, thresholds, stretches, accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QInputDialog

from ethogram.errors import EthogramError
from ethogram.gui.review_panel import load_predictions
from ethogram.labeling import disagreement_runs, next_run, uncertain_runs


class ReviewMixin:
    """Reviewing predictions in :class:`~ethogram.gui.main_window.MainWindow`."""

    # ---- review ------------------------------------------------------------------------------
    def load_predictions(self) -> None:
        """Read the newest model's probabilities for this video, if any."""
        self.predictions = None
        if self.project is not None and self.stem is not None:
            try:
                self.predictions = load_predictions(self.project, self.stem, self.model)
            except EthogramError as exc:
                self._status(f"predictions not loaded: {exc}")
            if self.predictions is not None and len(self.predictions.probs) != self.player.n_frames:
                self._status("predictions not loaded: their length differs from the video's")
                self.predictions = None
        behaviors = self.project.behaviors if self.project is not None else []
        self.review.set_predictions(self.predictions, behaviors)
        self.ethogram.set_probabilities(
            None if self.predictions is None else self.predictions.probs
        )
        self._thresholds_changed(self.review.thresholds())

    def show_model(self, model: str | Path | None) -> None:
        """Show the predictions of ``model`` (a folder or its name; None: the newest model)."""
        self.model = None if model is None else Path(model)
        self.load_predictions()
        if self.predictions is None and self.stem is not None:
            self._status(f"{self.stem} has no predictions of that model: predict it first")

    def choose_model_dialog(self) -> None:
        if self.project is None:
            return
        names = ["newest model"] + [
            p.name for p in reversed(self.project.model_dirs()) if "_flow" not in p.name
        ]
        name, ok = QInputDialog.getItem(
            self, "Predictions", "Show the predictions of:", names, 0, False
        )
        if ok:
            self.show_model(None if name == names[0] else self.project.models_dir / name)

    def _thresholds_changed(self, thresholds) -> None:
        if self.predictions is None or thresholds is None:
            self.predicted = None
        else:
            self.predicted = self.predictions.predicted(thresholds, self.project.behaviors)
        self.ethogram.set_predictions(self.predicted)
        self._update_enabled()

    def _go_to_run(self, found: np.ndarray, backwards: bool, what: str) -> None:
        run = next_run(found, self.player.index, backwards)
        if run is None:
            self._status(f"no {what} in this video")
            return
        self.jump_to(run[0])
        self.set_selection(run)
        self._status(f"{what}: frames {run[0]} to {run[1] - 1} ({len(found)} in this video)")

    def next_uncertain(self, backwards: bool = False) -> None:
        """Go to (and select) the next stretch where the model is least sure."""
        if self.predictions is None:
            self._status("no predictions for this video")
            return
        found = uncertain_runs(self.predictions.probs, self.review.thresholds())
        self._go_to_run(found, backwards, "uncertain stretch")

    def next_disagreement(self, backwards: bool = False) -> None:
        """Go to (and select) the next stretch where labels and predictions differ."""
        if self.predicted is None or self.document is None:
            self._status("no predictions for this video")
            return
        found = disagreement_runs(self.document.values, self.predicted)
        self._go_to_run(found, backwards, "disagreement")

    def accept_predictions(self, only_unlabeled: bool = False) -> None:
        """Copy the predictions into the labels over the selection (else the current bout)."""
        if self.predicted is None or self.document is None:
            self._status("no predictions for this video")
            return
        span = self.selection or self._predicted_bout(self.player.index)
        if self.document.accept(self.predicted, *span, only_unlabeled=only_unlabeled):
            self._labels_changed()
            self._status(f"predictions accepted for frames {span[0]} to {span[1] - 1}")

    def _predicted_bout(self, frame: int) -> tuple[int, int]:
        """The frames around ``frame`` where the predicted behaviors stay the same."""
        rows = self.predicted
        same = (rows == rows[frame]).all(axis=1)
        changes = np.flatnonzero(~same)
        before, after = changes[changes < frame], changes[changes > frame]
        return (
            int(before[-1]) + 1 if before.size else 0,
            int(after[0]) if after.size else len(rows),
        )
