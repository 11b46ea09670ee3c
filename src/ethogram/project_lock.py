"""One lock per project folder, held around every change to the project.

The lock is ``<project>/.ethogram.lock`` (an OS file lock via ``filelock``: released by the
operating system when its process dies, even under ``kill -9``). While it is held,
``<project>/.ethogram.lock.json`` says who holds it (pid, command line, start time, action), so a
command that cannot get the lock can say which command is changing the project.

The lock is re-entrant within a thread, across every :class:`~ethogram.project.Project` object of
the same folder in one process; other threads and processes wait for it. A wait longer than the
timeout raises :class:`ProjectBusyError`. The default wait is :data:`DEFAULT_TIMEOUT_S` seconds,
or the number of seconds in the environment variable ``ETHOGRAM_LOCK_TIMEOUT``.

This module imports neither torch nor Qt.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ethogram.errors import ProjectError
from ethogram.io.atomic import atomic_write_text

LOCK_NAME = ".ethogram.lock"
HOLDER_NAME = ".ethogram.lock.json"
TIMEOUT_ENV = "ETHOGRAM_LOCK_TIMEOUT"
DEFAULT_TIMEOUT_S = 5.0
"""How long a command waits for a busy project before giving up."""

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "HOLDER_NAME",
    "LOCK_NAME",
    "ProjectBusyError",
    "ProjectLock",
    "default_timeout",
    "project_lock",
]


class ProjectBusyError(ProjectError):
    """Another command holds the project's lock and did not release it in time."""


def default_timeout() -> float:
    """Seconds to wait for a busy project: ``ETHOGRAM_LOCK_TIMEOUT``, else the default."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise ProjectError(
            f"environment variable {TIMEOUT_ENV}: expected seconds (a number), got {text!r}"
        ) from None
    return max(value, 0.0)


def command_line() -> str:
    """This process's command line, with ``python -m ethogram`` shown as ``ethogram``."""
    argv = list(sys.argv) or ["python"]
    first = Path(argv[0])
    if first.name == "__main__.py" and first.parent.name == "ethogram":
        argv[0] = "ethogram"
    elif first.name in ("ethogram", "ethogram.exe"):
        argv[0] = "ethogram"
    elif argv[0] in ("-c", ""):
        argv[0] = "python -c ..."
        argv = argv[:1]
    return " ".join(argv)


class ProjectLock:
    """The lock of one project folder (use :func:`project_lock` to get it).

    Parameters
    ----------
    root
        The project folder.
    """

    def __init__(self, root: Path) -> None:
        from filelock import FileLock

        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self.holder_path = self.root / HOLDER_NAME
        self._file_lock = FileLock(str(self.path), thread_local=True)
        self._local = threading.local()

    @property
    def held(self) -> bool:
        """True if this thread holds the lock."""
        return getattr(self._local, "depth", 0) > 0

    def holder(self) -> dict | None:
        """Who holds the lock, as recorded in ``.ethogram.lock.json`` (None if unknown)."""
        try:
            data = json.loads(self.holder_path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _busy_message(self, action: str, timeout: float) -> str:
        holder = self.holder()
        if holder and holder.get("pid") != os.getpid():
            who = (
                f"`{holder.get('command', '?')}` (pid {holder.get('pid', '?')}, "
                f"{holder.get('action', 'changing it')} since {holder.get('started', '?')})"
            )
        elif holder:
            who = f"another thread of this process ({holder.get('action', 'changing it')})"
        else:
            who = "another command"
        return (
            f"{self.root}: the project is busy: {who} holds its lock ({self.path.name}); "
            f"{action} waited {timeout:g} s. Try again when that command has finished"
        )

    @contextlib.contextmanager
    def hold(self, action: str, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock for the block (re-entrant in a thread).

        Parameters
        ----------
        action
            What the caller is doing (``add``, ``rename_behavior``, ...), named in messages.
        timeout
            Seconds to wait (default: :func:`default_timeout`).

        Raises
        ------
        ProjectBusyError
            If another command holds the lock for longer than ``timeout``.
        """
        from filelock import Timeout

        if self.held:
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        wait = default_timeout() if timeout is None else max(float(timeout), 0.0)
        try:
            self._file_lock.acquire(timeout=wait)
        except Timeout:
            raise ProjectBusyError(self._busy_message(action, wait)) from None
        except OSError as exc:
            raise ProjectError(
                f"{self.path}: cannot lock the project folder to change it "
                f"({exc.strerror or exc}); is it writable?"
            ) from None
        self._local.depth = 1
        try:
            self._write_holder(action)
            yield
        finally:
            self._local.depth = 0
            with contextlib.suppress(OSError):
                self.holder_path.unlink()
            self._file_lock.release()

    def _write_holder(self, action: str) -> None:
        data = {
            "pid": os.getpid(),
            "command": command_line(),
            "action": action,
            "started": datetime.now().isoformat(timespec="seconds"),
        }
        atomic_write_text(self.holder_path, json.dumps(data))


_LOCKS: dict[str, ProjectLock] = {}
_LOCKS_GUARD = threading.Lock()


def project_lock(root: str | Path) -> ProjectLock:
    """The one :class:`ProjectLock` of the folder ``root`` in this process."""
    key = os.path.realpath(root)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = ProjectLock(Path(root))
        return lock
