"""Atomic file writes: write to a temporary name in the same folder, then rename into place.

Temporary names say who made them: ``.<name>.<host>-<pid>.<random>.tmp<suffix>``. A process killed
with ``kill -9`` cannot remove its temporaries, so each atomic write first removes the
temporaries of the same file left by processes of this machine that no longer run
(:func:`remove_stale_temporaries`); files of running processes, or of other machines sharing the
folder, are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

__all__ = [
    "atomic_path",
    "atomic_write_text",
    "is_stale_temporary",
    "remove_stale_temporaries",
    "temporary_prefix",
]

_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<host>[0-9a-f]{6})-(?P<pid>\d+)\.(?:[^.]*\.)?tmp\b")


@lru_cache(maxsize=1)
def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def temporary_prefix(name: str) -> str:
    """The start of a temporary name for the file ``name``: ``.<name>.<host>-<pid>.``."""
    return f".{name}.{_host_tag()}-{os.getpid()}."


def _pid_running(pid: int) -> bool:
    if os.name != "posix":  # no safe liveness probe without extra packages: assume running
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def is_stale_temporary(path: str | Path, name: str | None = None) -> bool:
    """True if ``path`` is a temporary (of the file ``name``, if given) whose writer is gone.

    Only temporaries made on this machine by a process that no longer runs are stale.
    """
    match = _TEMP_RE.match(Path(path).name)
    if match is None or (name is not None and match["name"] != name):
        return False
    if match["host"] != _host_tag():
        return False
    pid = int(match["pid"])
    return pid != os.getpid() and not _pid_running(pid)


def remove_stale_temporaries(folder: str | Path, name: str | None = None) -> list[Path]:
    """Remove the stale temporaries in ``folder`` (only those of ``name``, if given).

    Parameters
    ----------
    folder
        Folder to clean (not recursive).
    name
        File name whose temporaries to remove (default: every temporary in the folder).

    Returns
    -------
    list of pathlib.Path
        What was removed (files, or folders staged by a killed process).
    """
    folder = Path(folder)
    prefix = f".{name}." if name is not None else "."
    removed = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return []
    for entry in entries:
        path = Path(entry.path)
        if not is_stale_temporary(path, name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:  # removed meanwhile, or not ours to remove: leave it
            continue
        removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    If the block raises, the temporary file is removed and ``path`` is left untouched.
    Temporaries of ``path`` left by killed processes are removed first.

    Parameters
    ----------
    path
        Final destination.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    fd, tmp_name = tempfile.mkstemp(
        prefix=temporary_prefix(path.name), suffix=".tmp" + path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes owner-only files; give the result the usual permissions (0666 less umask)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
