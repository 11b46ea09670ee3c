"""The project's videos: labeled fraction and whether predictions exist, one row each."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from ethogram.errors import EthogramError


def _read_labels(project, stem: str):
    """``(table, error)``: the label table (None without labels), or why it is unreadable."""
    try:
        return project.read_labels(stem), None
    except EthogramError as exc:
        return None, str(exc)


def _fraction_text(table, error: str | None) -> tuple[str, str]:
    """Text for the "labeled" column and its tooltip (an unreadable label file says why)."""
    if error is not None:
        return "error", error
    if table is None or table.n_frames == 0:
        return "-", "no labels yet"
    fraction = float(table.labeled_mask.mean())
    return f"{100 * fraction:.0f} %", f"{int(table.labeled_mask.sum())} of {table.n_frames} frames"


def labeled_fraction(project, stem: str) -> tuple[str, str]:
    """Text for the "labeled" column and its tooltip (an unreadable label file says why)."""
    return _fraction_text(*_read_labels(project, stem))


class VideoList(QTableWidget):
    """Table of videos; emits ``video_selected(stem)`` when the user picks one, and
    ``filled(tables)`` when it has listed a project's videos again, with the label tables it read
    (stem -> :class:`~ethogram.io.labels.LabelTable`, videos with labels only)."""

    video_selected = Signal(str)
    filled = Signal(dict)
    COLUMNS = ("Video", "Labeled", "Predicted")

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().hide()
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._stems: list[str] = []
        self._quiet = False
        self.itemSelectionChanged.connect(self._selected)

    @property
    def stems(self) -> list[str]:
        """Video names in table order."""
        return list(self._stems)

    def fill(self, project) -> None:
        """Show every video of ``project``."""
        self._quiet = True
        records = project.videos
        self._stems = [r.stem for r in records]
        self.setRowCount(len(records))
        tables = {}
        for row, record in enumerate(records):
            self.setItem(row, 0, QTableWidgetItem(record.stem))
            table, error = _read_labels(project, record.stem)
            if table is not None:
                tables[record.stem] = table
            self._set_row(row, project, record.stem, *_fraction_text(table, error))
        self._quiet = False
        self.filled.emit(tables)

    def update_row(self, project, stem: str, fraction: float | None = None) -> None:
        """Refresh one video's columns (``fraction``: labeled fraction already known)."""
        if stem not in self._stems:
            return
        if fraction is None:
            text, tip = labeled_fraction(project, stem)
        else:
            text, tip = f"{100 * fraction:.0f} %", "labeled frames"
        self._set_row(self._stems.index(stem), project, stem, text, tip)

    def _set_row(self, row: int, project, stem: str, text: str, tip: str) -> None:
        item = QTableWidgetItem(text)
        item.setToolTip(tip)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setItem(row, 1, item)
        predicted = project.video(stem).predictions_path.is_file()
        mark = QTableWidgetItem("yes" if predicted else "-")
        mark.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setItem(row, 2, mark)

    def select(self, stem: str) -> None:
        """Highlight ``stem`` without emitting ``video_selected``."""
        if stem in self._stems:
            self._quiet = True
            self.selectRow(self._stems.index(stem))
            self._quiet = False

    def _selected(self) -> None:
        rows = self.selectionModel().selectedRows()
        if rows and not self._quiet:
            self.video_selected.emit(self._stems[rows[0].row()])
