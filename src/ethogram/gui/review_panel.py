"""Review of a model's predictions: per-behavior threshold sliders and the review actions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ethogram.infer.postprocess import postprocess


@dataclass
class VideoPredictions:
    """A model's probabilities for one video, columns in the project's behavior order.

    ``model_dir`` is the model folder, or None when the outputs file names no folder of this
    project (e.g. a DeepEthogram project copied without its models); ``source`` says which.
    """

    probs: np.ndarray
    thresholds: np.ndarray
    model_dir: Path | None
    source: str

    def predicted(self, thresholds: np.ndarray, behaviors: list[str]) -> np.ndarray:
        """0/1 (T, K) at ``thresholds``; background 1 exactly where no behavior is."""
        return postprocess(self.probs, thresholds, behaviors)


def _stored_group(outputs: Path, behaviors: list[str]) -> VideoPredictions | None:
    """Probabilities of any model stored in ``outputs``: a sequence model's first."""
    from ethogram.io.outputs import group_info, read_outputs

    info = group_info(outputs)
    groups = [g for g, i in info.items() if "P" in i["datasets"] and "class_names" in i["datasets"]]
    groups.sort(key=lambda g: "spatial_features" in info[g]["datasets"])  # sequence models first
    for group in groups:
        data = read_outputs(
            outputs,
            group,
            [d for d in ("P", "class_names", "thresholds") if d in info[group]["datasets"]],
        )
        names = list(data["class_names"])
        if sorted(names) != sorted(behaviors):
            continue
        order = [names.index(b) for b in behaviors]
        thresholds = data.get("thresholds")
        thresholds = np.full(len(names), 0.5) if thresholds is None else np.asarray(thresholds)
        return VideoPredictions(
            np.asarray(data["P"], float)[:, order],
            np.asarray(thresholds, float)[order],
            None,
            f"group {group!r} of {outputs.name}",
        )
    return None


def load_predictions(
    project, stem: str, model: str | Path | None = None
) -> VideoPredictions | None:
    """Probabilities of video ``stem``: of ``model``, else of the newest model, else of any
    model stored in its outputs file (None if there are none)."""
    from ethogram.evaluate import find_model, read_probabilities

    outputs = project.video(stem).outputs_path
    if not outputs.is_file():
        return None
    model_dir = find_model(project, model)
    if model_dir is not None:
        probs, thresholds = read_probabilities(outputs, model_dir, project.behaviors)
        if probs is not None:
            if thresholds is None:
                thresholds = np.full(probs.shape[1], 0.5)
            return VideoPredictions(
                np.asarray(probs), np.asarray(thresholds, float), Path(model_dir), model_dir.name
            )
    if model is not None:
        return None
    return _stored_group(outputs, project.behaviors)


class ReviewPanel(QWidget):
    """Sliders for each behavior's threshold; emits ``thresholds_changed`` as they move."""

    thresholds_changed = Signal(object)  # numpy array (K,)

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._status = QLabel("No predictions for this video.")
        self._status.setWordWrap(True)
        self._grid = QGridLayout()
        self._sliders: list[QSlider] = []
        self._values: list[QLabel] = []
        self._model_thresholds: np.ndarray | None = None
        self._reset = QPushButton("Model's thresholds")
        self._reset.setToolTip("Put every slider back to the threshold the model chose")
        self._reset.clicked.connect(self.reset)
        self._reset.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.addWidget(self._status)
        layout.addLayout(self._grid)
        layout.addWidget(self._reset)
        for name in (
            "next_uncertain",
            "next_disagreement",
            "accept",
            "accept_unlabeled",
            "mark_background",
        ):
            if name in actions:
                button = QToolButton()
                button.setDefaultAction(actions[name])
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
                button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                layout.addWidget(button)
        layout.addStretch(1)
        self.set_predictions(None, [])

    def set_predictions(self, predictions: VideoPredictions | None, behaviors: list[str]) -> None:
        """Show sliders for ``predictions`` (None: say there are none)."""
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:  # gone now, not at the next turn of the event loop
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        self._sliders, self._values = [], []
        if predictions is None:
            self._model_thresholds = None
            self._status.setText(
                "No predictions for this video yet: train a model, then Predict (toolbar)."
            )
            self._reset.setEnabled(False)
            return
        self._model_thresholds = np.asarray(predictions.thresholds, float)
        self._status.setText(f"Predictions of {predictions.source}\nThresholds:")
        self._reset.setEnabled(True)
        for k, name in enumerate(behaviors):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(1, 99)
            slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            slider.setToolTip(f"{name}: predicted present where its probability is at least this")
            value = QLabel()
            value.setMinimumWidth(32)
            if k == 0:  # background is whatever no behavior is: no threshold of its own
                slider.setEnabled(False)
                slider.hide()
                value.hide()
            self._grid.addWidget(QLabel(name), k, 0)
            self._grid.addWidget(slider, k, 1)
            self._grid.addWidget(value, k, 2)
            if k == 0:
                self._grid.itemAtPosition(k, 0).widget().hide()
            self._sliders.append(slider)
            self._values.append(value)
        self._set_values(self._model_thresholds)
        for slider in self._sliders:
            slider.valueChanged.connect(self._changed)

    def _set_values(self, thresholds: np.ndarray) -> None:
        for slider, value, t in zip(self._sliders, self._values, thresholds, strict=True):
            slider.blockSignals(True)
            slider.setValue(int(round(100 * float(t))))
            slider.blockSignals(False)
            value.setText(f"{float(t):.2f}")

    def thresholds(self) -> np.ndarray | None:
        """The thresholds as set on the sliders (None without predictions)."""
        if self._model_thresholds is None:
            return None
        out = self._model_thresholds.copy()
        for k, slider in enumerate(self._sliders[1:], start=1):
            out[k] = slider.value() / 100
        return out

    def set_threshold(self, behavior: int, value: float) -> None:
        """Move one slider (as the user would)."""
        self._sliders[behavior].setValue(int(round(100 * value)))

    def reset(self) -> None:
        """Back to the model's thresholds."""
        if self._model_thresholds is not None:
            self._set_values(self._model_thresholds)
            self.thresholds_changed.emit(self.thresholds())

    def _changed(self) -> None:
        thresholds = self.thresholds()
        for value, t in zip(self._values, thresholds, strict=True):
            value.setText(f"{t:.2f}")
        self.thresholds_changed.emit(thresholds)
