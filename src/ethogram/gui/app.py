"""Start the GUI: ``ethogram gui [PROJECT]``, or render one screenshot and exit."""

from __future__ import annotations

import sys
from pathlib import Path

from ethogram.errors import EthogramError


def make_window(
    project: str | Path | None = None,
    video: str | None = None,
    frame: int | None = None,
):
    """A :class:`~ethogram.gui.main_window.MainWindow` with ``project`` (and ``video``) open.

    A QApplication must exist. Raises :class:`EthogramError` when the project or video cannot be
    opened (the window would only show the message).
    """
    from ethogram.gui.main_window import MainWindow

    window = MainWindow()
    if project is not None and not window.open_project(project):
        raise EthogramError(window.last_error or f"{project}: cannot open the project")
    if video is not None:
        if window.project is None:
            raise EthogramError("--video needs a PROJECT")
        window.project.video(video)  # a clear error for an unknown name
        window.open_video(video)
    if frame is not None:
        if window.player.reader is None:
            raise EthogramError("--frame needs a video that can be shown")
        if not 0 <= frame < window.player.n_frames:
            raise EthogramError(
                f"--frame {frame} is outside the video (0 to {window.player.n_frames - 1})"
            )
        window.jump_to(frame)
    return window


def screenshot(window, path: str | Path, size: tuple[int, int] = (1400, 900)) -> Path:
    """Render ``window`` at ``size`` into a PNG file."""
    from PySide6.QtWidgets import QApplication

    path = Path(path)
    window.resize(*size)
    window.show()
    for _ in range(5):
        QApplication.processEvents()
    if not window.grab().save(str(path)):
        raise EthogramError(f"{path}: could not write the screenshot (is the folder writable?)")
    return path


def run(
    project: str | Path | None = None,
    screenshot_path: str | Path | None = None,
    video: str | None = None,
    frame: int | None = None,
) -> int:
    """Open the window (blocks until it closes), or write a screenshot and return.

    Returns
    -------
    int
        The exit status.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ethogram")
    window = make_window(project, video, frame)
    if screenshot_path is not None:
        screenshot(window, screenshot_path)
        window.close()
        return 0
    window.show()
    window.setFocus()
    return app.exec()
