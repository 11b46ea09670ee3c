"""Long work (training, prediction) in a child process, reported to the window through signals.

A :class:`Job` runs a library function named ``"package.module:function"`` with picklable keyword
arguments in a ``spawn`` child process (see :mod:`ethogram.gui.worker`). A timer in the GUI thread
reads the child's queue and turns its messages into Qt signals, so the window never waits.
:meth:`Job.cancel` stops the child (terminate, then kill after a grace period): the library's
writes are atomic and training keeps its last finished epoch, so a kill damages nothing.

A target function may carry an attribute ``after_cancel``: a function ``(kwargs, started_at)
-> str | None`` called in the window's process once the child is gone; its text (e.g. which
model folder to resume) goes to the log.

Examples
--------
>>> job = Job("ethogram.gui.tasks:predict", {"project_path": "mice"})  # doctest: +SKIP
>>> job.progress.connect(lambda description, done, total: ...)  # doctest: +SKIP
>>> job.start()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue as queue_module
import time
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from ethogram.gui.worker import failure_message, resolve_target, run_job
from ethogram.progress import ProgressEvent

POLL_MS = 50
CANCEL_GRACE_S = 2.0
MESSAGES_PER_POLL = 500

__all__ = ["Job"]


def _log_line(levelno: int, text: str) -> str:
    if levelno >= logging.ERROR:
        return f"error: {text}"
    if levelno >= logging.WARNING:
        return f"warning: {text}"
    return text


class Job(QObject):
    """One function run in a child process, with progress, log, result and cancel.

    Parameters
    ----------
    target
        ``"package.module:function"``; the function runs in the child with ``**kwargs``.
    kwargs
        Picklable keyword arguments.
    parent
        Qt parent.
    cancel_grace_s
        After :meth:`cancel`, seconds between terminate and kill.

    Signals
    -------
    progress(description: str, completed: float, total: object)
        The innermost running progress bar changed (``total`` None: unknown).
    status(str)
        What the job is doing: the running bars and their status, or a phase (starting,
        cancelling).
    log(str)
        A log line from the child (warnings start with ``warning:``, errors with ``error:``),
        or a note from the job itself.
    finished(object)
        The function's return value.
    failed(str)
        One line: an EthogramError's message as is, another error as ``TypeName: message``.
    cancelled()
        The child was stopped by :meth:`cancel`.
    """

    progress = Signal(str, float, object)
    status = Signal(str)
    log = Signal(str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self,
        target: str,
        kwargs: dict[str, Any] | None = None,
        parent: QObject | None = None,
        cancel_grace_s: float = CANCEL_GRACE_S,
    ) -> None:
        super().__init__(parent)
        self.target = target
        self.kwargs = dict(kwargs or {})
        self.cancel_grace_s = cancel_grace_s
        self.started_at: float | None = None
        self._process: Any = None
        self._queue: Any = None
        self._state = "new"  # new, running, cancelling, finished, failed, cancelled
        self._kill_at: float | None = None
        self._bars: dict[int, ProgressEvent] = {}  # running bars, outermost first
        self._shown_status = ""
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    # ---- state --------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``new``, ``running``, ``cancelling``, ``finished``, ``failed`` or ``cancelled``."""
        return self._state

    def is_running(self) -> bool:
        """True from :meth:`start` until finished, failed or cancelled was emitted."""
        return self._state in ("running", "cancelling")

    @property
    def pid(self) -> int | None:
        """The child's process id (None before :meth:`start`)."""
        return self._process.pid if self._process is not None else None

    # ---- control ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child process; signals follow from the GUI thread's event loop.

        Raises
        ------
        RuntimeError
            If the job was started before.
        ValueError
            If the target is not an importable function (checked here, before any process).
        """
        if self._state != "new":
            raise RuntimeError(f"job {self.target} was already started")
        resolve_target(self.target)
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue()
        self._process = context.Process(
            target=run_job,
            args=(self.target, self.kwargs, self._queue, os.getpid()),
            name=f"ethogram job {self.target}",
        )
        self._state = "running"
        self.started_at = time.time()
        self._set_status("starting")
        self._process.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.kill_now)
        self._timer.start()

    def cancel(self) -> None:
        """Stop the child: terminate now, kill if still alive after the grace period.

        ``cancelled`` is emitted once the process is gone. Does nothing if not running.
        """
        if self._state != "running":
            return
        self._drain()  # what the child said so far (it is alive: no message is half-written)
        if self._state != "running":  # it finished meanwhile
            return
        self._state = "cancelling"
        self._set_status("cancelling")
        self.log.emit("Cancelling: stopping the job's process")
        self._process.terminate()
        self._kill_at = time.monotonic() + self.cancel_grace_s

    def kill_now(self) -> None:
        """Kill the child at once and wait for it (the window is closing). No signal follows."""
        if self._process is None or not self.is_running():
            return
        self._timer.stop()
        self._state = "cancelled"
        self._process.kill()
        self._process.join(5)
        self._close_queue()

    # ---- reading the child --------------------------------------------------------------
    def _poll(self) -> None:
        alive = self._process.is_alive()
        if self._state == "cancelling":
            if alive:
                if self._kill_at is not None and time.monotonic() >= self._kill_at:
                    self._process.kill()
                    self._kill_at = None
                return
            self._end_cancelled()
            return
        self._drain()
        if self._state == "running" and not alive:
            self._drain()  # the pipe holds everything the child sent before it ended
            if self._state == "running":
                code = self._process.exitcode
                self._end("failed", f"the job's process ended unexpectedly (exit code {code})")
        if not self.is_running() and not alive:
            self._timer.stop()
            self._process.join(0)
            self._close_queue()

    def _drain(self) -> None:
        for _ in range(MESSAGES_PER_POLL):
            if self._state != "running":
                return
            try:
                message = self._queue.get_nowait()
            except queue_module.Empty:
                return
            self._handle(message)

    def _handle(self, message: tuple) -> None:
        kind = message[0]
        if kind == "progress":
            self._on_progress(message[1])
        elif kind == "log":
            self.log.emit(_log_line(message[1], message[2]))
        elif kind == "finished":
            self._end("finished", message[1])
        elif kind == "failed":
            self._end("failed", message[1])

    def _on_progress(self, event: ProgressEvent) -> None:
        self._bars[event.bar] = event
        inner = list(self._bars.values())[-1]
        self.progress.emit(inner.description, float(inner.completed), inner.total)
        self._set_status(self._bars_text())
        if event.kind == "end":  # its final count and status were shown; now the bar around it
            del self._bars[event.bar]
            if self._bars and inner is event:
                outer = list(self._bars.values())[-1]
                self.progress.emit(outer.description, float(outer.completed), outer.total)
        self._set_status(self._bars_text() or "running")

    def _bars_text(self) -> str:
        parts = []
        for event in self._bars.values():
            parts.append(f"{event.description} {event.status}".strip())
        return " › ".join(parts)

    def _set_status(self, text: str) -> None:
        if text != self._shown_status:
            self._shown_status = text
            self.status.emit(text)

    # ---- endings ------------------------------------------------------------------------
    def _end(self, state: str, value: Any) -> None:
        self._state = state
        self._bars.clear()
        self._set_status(state)
        if state == "finished":
            self.finished.emit(value)
        else:
            self.log.emit(f"error: {value}")
            self.failed.emit(value)

    def _end_cancelled(self) -> None:
        self._timer.stop()
        self._process.join(0)
        self._close_queue()  # never read: the child may have died halfway through a message
        self._state = "cancelled"
        self._bars.clear()
        self.log.emit("Cancelled.")
        note = self._after_cancel_note()
        if note:
            self.log.emit(note)
        self._set_status("cancelled")
        self.cancelled.emit()

    def _after_cancel_note(self) -> str | None:
        hook = getattr(resolve_target(self.target), "after_cancel", None)
        if hook is None:
            return None
        try:
            return hook(self.kwargs, self.started_at)
        except Exception as exc:  # a note must not turn a cancel into a crash
            return f"warning: {failure_message(exc)}"

    def _close_queue(self) -> None:
        if self._queue is not None:
            self._queue.close()
            self._queue.cancel_join_thread()
            self._queue = None
