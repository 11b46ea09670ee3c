"""Small dialogs: the shortcut help overlay and the shortcut editor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QKeySequenceEdit,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ethogram.gui.shortcuts import ACTIONS, behavior_key, conflicts

MOUSE_HELP = (
    ("Click the ethogram or its overview", "Go to that frame"),
    ("Drag on the time axis or the overview", "Scrub through the video"),
    ("Left-drag on a behavior's row", "Mark the behavior present over the range"),
    ("Right-drag (or Shift+drag) on a row", "Mark it absent over the range"),
    ("Alt+drag or middle-drag on a row", "Unlabel the range (back to -1)"),
    ("Drag the edge of a bout", "Move that edge"),
    ("Wheel over the ethogram", "Zoom in and out around the pointer"),
    ("Shift+wheel over the ethogram", "Scroll along the video"),
    ("Wheel / drag over the video", "Zoom and pan the frame (F fits it again)"),
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def help_html(keymap: dict[str, tuple[str, ...]], behaviors: list[str]) -> str:
    """The shortcut list as HTML, grouped as in the menus."""
    rows: list[str] = []
    group = None
    for spec in ACTIONS:
        if spec.group != group:
            group = spec.group
            rows.append(f"<tr><td colspan=2><h3>{group}</h3></td></tr>")
            if group == "Labels":
                for index, name in enumerate(behaviors):
                    key = behavior_key(index)
                    if key is not None:
                        rows.append(
                            f"<tr><td><b>{key}</b></td><td>Toggle <i>{_escape(name)}</i>: "
                            "moving forward marks it, moving back erases</td></tr>"
                        )
        keys = " or ".join(keymap.get(spec.name, spec.keys)) or "(none)"
        rows.append(f"<tr><td><b>{_escape(keys)}</b></td><td>{_escape(spec.text)}</td></tr>")
    rows.append("<tr><td colspan=2><h3>Mouse</h3></td></tr>")
    rows += [f"<tr><td><b>{a}</b></td><td>{b}</td></tr>" for a, b in MOUSE_HELP]
    return "<table cellspacing=4>" + "".join(rows) + "</table>"


class HelpDialog(QDialog):
    """Every shortcut and mouse gesture, from the current keymap."""

    def __init__(
        self, keymap: dict[str, tuple[str, ...]], behaviors: list[str], parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        label = QLabel(help_html(keymap, behaviors))
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setAlignment(Qt.AlignmentFlag.AlignTop)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(
            QLabel("Change keys in Labels > Shortcuts. Behavior keys are the digits 0-9.")
        )
        layout.addWidget(buttons)


class ShortcutsDialog(QDialog):
    """Edit the keys of every action; :meth:`keymap` gives the result."""

    def __init__(self, keymap: dict[str, tuple[str, ...]], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shortcuts")
        self.table = QTableWidget(len(ACTIONS), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Key"])
        self.table.verticalHeader().hide()
        self._edits: dict[str, QKeySequenceEdit] = {}
        for row, spec in enumerate(ACTIONS):
            item = QTableWidgetItem(spec.text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, item)
            edit = QKeySequenceEdit(QKeySequence(keymap.get(spec.name, spec.keys)[0]))
            self.table.setCellWidget(row, 1, edit)
            self._edits[spec.name] = edit
        self.table.resizeColumnsToContents()
        self._warning = QLabel()
        self._warning.setStyleSheet("color: #b00")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self._warning)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def set_key(self, action: str, key: str) -> None:
        """Set an action's key (as typed in the editor)."""
        self._edits[action].setKeySequence(QKeySequence(key))

    def restore_defaults(self) -> None:
        """Put every default key back."""
        for spec in ACTIONS:
            self._edits[spec.name].setKeySequence(QKeySequence(spec.keys[0]))

    def keymap(self) -> dict[str, tuple[str, ...]]:
        """The keys as edited (an emptied editor removes the action's key)."""
        out: dict[str, tuple[str, ...]] = {}
        for spec in ACTIONS:
            text = self._edits[spec.name].keySequence().toString()
            if text == spec.keys[0]:
                out[spec.name] = spec.keys  # keep the default's alternatives
            else:
                out[spec.name] = (text,) if text else ()
        return out

    def _accept(self) -> None:
        clash = conflicts(self.keymap())
        if clash:
            key, names = next(iter(clash.items()))
            self._warning.setText(f"{key} is used by {', '.join(names)}: choose another key.")
            return
        self.accept()
