"""The video frame, drawn with pyqtgraph (fast image updates, aspect kept, zoom with the wheel)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class VideoView(QWidget):
    """Shows one RGB frame (H, W, 3 uint8) at a time, or a message when there is no video."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground("k")
        self._graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._view = self._graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self._view.setMouseEnabled(x=True, y=True)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._view.addItem(self._image)
        self._shape: tuple[int, ...] | None = None
        self._message_text: str | None = None
        self._message = QLabel()
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setStyleSheet("color: #ddd; background: #222; font-size: 14pt; padding: 20px")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)
        layout.addWidget(self._message)
        self.show_message("Open a project (File > Open project) and pick a video.")

    def show_frame(self, frame: np.ndarray) -> None:
        """Draw ``frame``; the view is fitted to it when its size changes."""
        if self._message_text is not None:
            self._message_text = None
            self._message.hide()
            self._graphics.show()
        self._image.setImage(frame, autoLevels=False, levels=(0, 255))
        if frame.shape != self._shape:
            self._shape = frame.shape
            self._view.autoRange(padding=0)

    def show_message(self, text: str) -> None:
        """Replace the frame by a message (no video, or a video that cannot be read)."""
        self._graphics.hide()
        self._message_text = text
        self._message.setText(text)
        self._message.show()
        self._shape = None

    def message(self) -> str | None:
        """The message shown instead of a frame, or None when a frame is shown."""
        return self._message_text

    def reset_zoom(self) -> None:
        """Fit the whole frame in the view."""
        self._view.autoRange(padding=0)
