"""The child-process side of a GUI job: run one library function, send everything to a queue.

:class:`ethogram.gui.jobs.Job` starts :func:`run_job` in a child process. The child sends
tuples to the queue, read by the window:

- ``("progress", ProgressEvent)``: a change of an :mod:`ethogram.progress` bar;
- ``("log", levelno, text)``: a log record (root logger at INFO), a printed line, a warning;
- ``("finished", result)`` or ``("failed", message)``: the last message.

This module imports no Qt, so the child never loads it.
"""

from __future__ import annotations

import importlib
import io
import logging
import logging.handlers
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from ethogram.errors import EthogramError
from ethogram.progress import ProgressEvent, set_reporter

# A bar advancing thousands of times a second is sent at most this often (its start, status
# changes and end always are; each event carries the count so far).
ADVANCE_INTERVAL_S = 0.1
PARENT_CHECK_S = 1.0

__all__ = ["failure_message", "resolve_target", "run_job"]


def resolve_target(target: str) -> Callable[..., Any]:
    """The function named by ``"package.module:function"``.

    Raises
    ------
    ValueError
        If ``target`` has no ``:``, or the module has no such function.
    """
    module_name, sep, name = target.partition(":")
    if not sep or not module_name or not name:
        raise ValueError(f"job target {target!r}: expected 'package.module:function'")
    function = getattr(importlib.import_module(module_name), name, None)
    if not callable(function):
        raise ValueError(f"job target {target!r}: {module_name} has no function {name!r}")
    return function


def failure_message(exc: BaseException) -> str:
    """One line for the window: an EthogramError's message as is, else ``TypeName: message``."""
    if isinstance(exc, EthogramError):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _RecordsToQueue(logging.handlers.QueueHandler):
    """Log records as ``("log", levelno, text)``: plain tuples cross the process boundary."""

    def prepare(self, record: logging.LogRecord) -> tuple[str, int, str]:
        return ("log", record.levelno, self.format(record))


class _LinesToQueue(io.TextIOBase):
    """A text stream (stdout, stderr) sending each written line as a log message."""

    def __init__(self, queue, level: int) -> None:
        self._queue, self._level, self._pending = queue, level, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text.replace("\r", "\n")
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self._queue.put(("log", self._level, line.rstrip()))
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._queue.put(("log", self._level, self._pending.rstrip()))
        self._pending = ""


class _ThrottledReporter:
    """Progress events to the queue; a bar's advances at most every ADVANCE_INTERVAL_S."""

    def __init__(self, queue) -> None:
        self._queue = queue
        self._sent: dict[int, float] = {}

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if event.kind == "advance" and now - self._sent.get(event.bar, 0.0) < ADVANCE_INTERVAL_S:
            return  # the next event carries the count
        self._sent[event.bar] = now
        if event.kind == "end":
            self._sent.pop(event.bar, None)
        self._queue.put(("progress", event))


def _exit_with_parent(parent_pid: int) -> None:
    """End this process when the window's process is gone (it cannot kill us any more)."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def _set_up(queue, parent_pid: int) -> None:
    # Ctrl-C in the terminal that started the window goes to the whole process group: the
    # window decides what happens to its jobs, so the child ignores it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(5)  # the window stays responsive while a job uses every core
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    root = logging.getLogger()
    root.handlers[:] = [_RecordsToQueue(queue)]
    root.setLevel(logging.INFO)
    sys.stdout = _LinesToQueue(queue, logging.INFO)
    sys.stderr = _LinesToQueue(queue, logging.INFO)

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        logging.getLogger("ethogram").warning(str(message))

    warnings.showwarning = show
    set_reporter(_ThrottledReporter(queue))


def run_job(target: str, kwargs: dict[str, Any], queue, parent_pid: int) -> None:
    """Run ``target(**kwargs)`` in this (child) process, sending progress, logs and the outcome.

    Parameters
    ----------
    target
        ``"package.module:function"``.
    kwargs
        Keyword arguments of the function.
    queue
        A ``multiprocessing`` queue read by the window.
    parent_pid
        The window's process id; this process ends if that process is gone.
    """
    _set_up(queue, parent_pid)
    try:
        result = resolve_target(target)(**kwargs)
        pickle.dumps(result)  # fail here, with a message, rather than in the queue's thread
        outcome: tuple = ("finished", result)
    except BaseException as exc:  # everything is reported to the window, nothing escapes
        if not isinstance(exc, EthogramError):
            logging.getLogger("ethogram").error(traceback.format_exc().rstrip())
        outcome = ("failed", failure_message(exc))
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    queue.put(outcome)
    queue.close()
    queue.join_thread()  # everything is in the pipe before the process ends
