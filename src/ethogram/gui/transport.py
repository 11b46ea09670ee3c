"""The bar under the video: play, speed, jump size, position (frame and time), go to."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from ethogram.errors import EthogramError
from ethogram.gui.ethogram_render import format_time
from ethogram.gui.player import SPEEDS

_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)$")


def parse_position(text: str, fps: float, n_frames: int) -> int:
    """A frame from what the user typed: ``1234`` (frame), ``1:23.5`` or ``83.5s`` (time).

    Raises
    ------
    EthogramError
        The text is neither, or lies outside the video.
    """
    text = text.strip().lower()
    frame: int | None = None
    if re.fullmatch(r"\d+", text):
        frame = int(text)
    elif text.endswith("s") and re.fullmatch(r"\d+(\.\d*)?s", text):
        frame = int(round(float(text[:-1]) * fps))
    elif ":" in text and _TIME.match(text):
        parts = [float(p) for p in text.split(":")]
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + part
        frame = int(round(seconds * fps))
    if frame is None:
        raise EthogramError(
            f"cannot go to {text!r}: type a frame number (1234) or a time (1:23.5 or 83.5s)"
        )
    if not 0 <= frame < n_frames:
        raise EthogramError(f"frame {frame} is outside the video (0 to {n_frames - 1})")
    return frame


class TransportBar(QWidget):
    """Play button, speed, jump size, position and a go-to box."""

    play_clicked = Signal()
    speed_chosen = Signal(float)
    go_to = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QToolButton()
        self.play_button.setText("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.clicked.connect(self.play_clicked)
        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}x", speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.activated.connect(lambda i: self.speed_chosen.emit(SPEEDS[i]))
        self.jump = QSpinBox()
        self.jump.setRange(2, 100000)
        self.jump.setValue(30)
        self.jump.setPrefix("jump ")
        self.jump.setSuffix(" frames")
        self.jump.setToolTip("Frames moved by Ctrl+Left / Ctrl+Right")
        # Arrow keys step through the video, not this box: it takes the keyboard only when
        # clicked, and gives it back when its value is entered.
        self.jump.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.jump.editingFinished.connect(self._give_back_focus)
        self.position = QLabel()
        self.position.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.go_box = QLineEdit()
        self.go_box.setPlaceholderText("go to frame or m:ss (Ctrl+G)")
        self.go_box.setMaximumWidth(190)
        self.go_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.go_box.returnPressed.connect(self._go)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.speed)
        layout.addWidget(self.jump)
        layout.addWidget(self.position, 1)
        layout.addWidget(self.go_box)

    def _give_back_focus(self) -> None:
        window = self.window()
        if window is not None:
            window.setFocus()

    def _go(self) -> None:
        text = self.go_box.text()
        self.go_box.clear()
        self.go_to.emit(text)

    def show_position(self, frame: int, n_frames: int, fps: float) -> None:
        """Show ``frame of n`` and the time."""
        if n_frames <= 0:
            self.position.setText("")
            return
        self.position.setText(
            f"frame {frame} / {n_frames - 1}    {format_time(frame, fps, fractional=True)} / "
            f"{format_time(n_frames - 1, fps, fractional=True)}    ({round(fps, 2):g} fps)"
        )

    def show_playing(self, playing: bool) -> None:
        """Play or Pause on the button."""
        self.play_button.setText("Pause" if playing else "Play")

    def show_speed(self, speed: float) -> None:
        """Select ``speed`` in the list."""
        if speed in SPEEDS:
            self.speed.setCurrentIndex(SPEEDS.index(speed))
