"""A panel for one background job at a time: title, progress bar, status, Cancel, log.

The main window docks one :class:`JobPanel` and starts work with :meth:`JobPanel.run`; a second
job is refused while one runs (:meth:`JobPanel.why_busy` says why, for a disabled action).

Examples
--------
>>> panel = JobPanel()  # doctest: +SKIP
>>> panel.run("Predict", "ethogram.gui.tasks:predict", {"project_path": "mice"})  # doctest: +SKIP
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ethogram.gui.jobs import Job

LOG_MAX_LINES = 5000
# A bar's fractional steps shown to this resolution (QProgressBar counts in integers).
STEPS_PER_UNIT = 1000

__all__ = ["JobPanel"]


class JobPanel(QWidget):
    """Runs one :class:`~ethogram.gui.jobs.Job` at a time and shows its progress and log.

    Signals
    -------
    job_started(str)
        A job with this title started.
    job_ended(str, str)
        The job with this title ended: ``finished``, ``failed`` or ``cancelled``.
    """

    job_started = Signal(str)
    job_ended = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job: Job | None = None
        self._title = ""
        self._on_finished: Callable[[Any], None] | None = None
        self.title_label = QLabel("No job running")
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("No job is running")
        self.cancel_button.clicked.connect(self.cancel)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_MAX_LINES)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setPlaceholderText("Messages of training and prediction appear here.")

        row = QHBoxLayout()
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addLayout(row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.log_view, 1)

    # ---- public -------------------------------------------------------------------------
    def is_busy(self) -> bool:
        """True while a job runs (including while it is being cancelled)."""
        return self.job is not None and self.job.is_running()

    def why_busy(self) -> str | None:
        """Why a new job cannot start now (for a disabled action's tooltip), or None."""
        if self.is_busy():
            return f"{self._title} is running; wait for it or cancel it first"
        return None

    def run(
        self,
        title: str,
        target: str,
        kwargs: dict[str, Any] | None = None,
        on_finished: Callable[[Any], None] | None = None,
    ) -> bool:
        """Start ``target(**kwargs)`` in a child process and show it.

        Parameters
        ----------
        title
            Shown above the bar and in the log (e.g. ``Train``).
        target
            ``"package.module:function"``, e.g. ``"ethogram.gui.tasks:train"``.
        kwargs
            Picklable keyword arguments of the function.
        on_finished
            Called with the function's result when it finished without error.

        Returns
        -------
        bool
            False (with the reason in the log) if a job is already running.
        """
        reason = self.why_busy()
        if reason is not None:
            self.append_log(f"{title} not started: {reason}")
            return False
        job = Job(target, kwargs, parent=self)
        job.progress.connect(self._show_progress)
        job.status.connect(self.status_label.setText)
        job.log.connect(self.append_log)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        if self.job is not None:
            self.job.deleteLater()
        self.job, self._title, self._on_finished = job, title, on_finished
        self.title_label.setText(title)
        self.progress_bar.setRange(0, 0)  # busy until the first bar reports
        self.progress_bar.setFormat("")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setToolTip(f"Stop {title}")
        self.append_log(f"── {title} ──")
        try:
            job.start()
        except (RuntimeError, ValueError, OSError) as exc:
            message = " ".join(str(exc).split())  # one line
            self.append_log(f"error: {message}")
            self._failed(message)
            return False
        self.job_started.emit(title)
        return True

    def cancel(self) -> None:
        """Cancel the running job (nothing if none runs)."""
        if self.is_busy():
            self.cancel_button.setEnabled(False)
            self.job.cancel()

    def stop_now(self) -> None:
        """Kill the running job at once, without signals (the window is closing)."""
        if self.is_busy():
            self.job.kill_now()
            self.append_log(f"{self._title} stopped: the window closed")
            self._idle("stopped", False)

    def append_log(self, text: str) -> None:
        """Add a line to the log pane (the oldest lines go beyond LOG_MAX_LINES)."""
        self.log_view.appendPlainText(text)

    def log_text(self) -> str:
        """Everything in the log pane."""
        return self.log_view.toPlainText()

    # ---- job signals --------------------------------------------------------------------
    def _show_progress(self, description: str, completed: float, total: object) -> None:
        if total is None:
            self.progress_bar.setRange(0, 0)
            self.progress_bar.setFormat("")
            return
        total_f = max(float(total), 1e-9)
        self.progress_bar.setRange(0, int(round(total_f * STEPS_PER_UNIT)))
        self.progress_bar.setValue(int(round(min(completed, total_f) * STEPS_PER_UNIT)))
        self.progress_bar.setFormat(f"{description}  {completed:g}/{float(total):g}")

    def _idle(self, text: str, done: bool) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1 if done else 0)
        self.progress_bar.setFormat(text)
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("No job is running")

    def _finished(self, result: Any) -> None:
        self._idle("done", True)
        self.append_log(f"{self._title}: done")
        self.job_ended.emit(self._title, "finished")
        if self._on_finished is not None:
            self._on_finished(result)

    def _failed(self, message: str) -> None:
        self._idle("failed", False)
        self.status_label.setText(f"failed: {message}")
        self.job_ended.emit(self._title, "failed")

    def _cancelled(self) -> None:
        self._idle("cancelled", False)
        self.job_ended.emit(self._title, "cancelled")
