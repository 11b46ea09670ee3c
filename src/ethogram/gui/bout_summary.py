"""Labeled bouts of every behavior over the project's videos, under the video list.

A behavior is learned from its bouts (:mod:`ethogram.label_counts`): the line shows each
behavior's count as the user labels, with those below
:data:`~ethogram.label_counts.MIN_TRAINING_BOUTS` in red, so it is plain what to label next.
It counts the label tables the video list read when it listed the project; the open video's
counts follow its unsaved edits.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ethogram.label_counts import MIN_TRAINING_BOUTS, count_bouts, few_bouts

FEW_COLOR = "#c62828"

__all__ = ["BoutSummary"]


class BoutSummary(QLabel):
    """One wrapped line: ``Labeled bouts: locomotion 37 · grooming 18 · rearing 5 ...``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(4, 2, 4, 4)
        self.setToolTip(
            "Bouts (runs of frames labeled present) of each behavior in all the project's "
            f"labeled videos. A behavior learned from fewer than {MIN_TRAINING_BOUTS} bouts is "
            "often missed on new videos: label more of those in red."
        )
        self._names: list[str] = []
        self._per_video: dict[str, dict[str, dict[str, int]]] = {}
        self.totals: dict[str, dict[str, int]] = {}
        self._show()

    def reset(self, project, tables: dict) -> None:
        """Count the bouts of ``tables`` (stem -> label table, as the video list read them) for
        ``project``'s behaviors (None: clear)."""
        self._names = list(project.behaviors) if project is not None else []
        self._per_video = {
            stem: count_bouts([table.values], self._names)
            for stem, table in tables.items()
            if list(table.behaviors) == self._names
        }
        self._show()

    def set_video(self, stem: str, values: np.ndarray) -> None:
        """Replace one video's counts by those of ``values`` (its labels as being edited)."""
        if not self._names or np.shape(values)[1:] != (len(self._names),):
            return
        self._per_video[stem] = count_bouts([values], self._names)
        self._show()

    def _show(self) -> None:
        names = self._names[1:]
        self.totals = {
            name: {
                key: sum(counts[name][key] for counts in self._per_video.values())
                for key in ("bouts", "frames", "videos")
            }
            for name in names
        }
        if not names or not self._per_video:
            self.setText("Labeled bouts: none yet")
            return
        few = few_bouts(self.totals)
        parts = []
        for name in names:
            text = f"{html.escape(name)}&nbsp;{self.totals[name]['bouts']}"
            parts.append(f'<span style="color:{FEW_COLOR}">{text}</span>' if name in few else text)
        line = "Labeled bouts: " + " · ".join(parts)
        if few:
            line += f"<br><i>fewer than {MIN_TRAINING_BOUTS} (red): label more</i>"
        self.setText(line)
