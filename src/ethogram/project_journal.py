"""Changes to several files of a project that land whole, even if the process is killed midway.

Adding, renaming or removing a behavior rewrites every label file and ``project_config.yaml``.
:func:`replace_files` writes each new file beside its old one as ``.<name>.pending``, then
records them in the journal ``<project>/.ethogram.journal.json`` (the moment the change is
decided), then renames each over its old file and removes the journal. A process killed before
the journal is written leaves the project as it was (and ``.pending`` files that the next change
overwrites); killed after, it leaves a journal that :func:`finish_pending` completes, which every
command does when it takes the project's lock. Call both with the lock held.

This module imports neither torch nor Qt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ethogram.errors import ProjectError
from ethogram.io.atomic import atomic_write_text

JOURNAL_NAME = ".ethogram.journal.json"
PENDING_SUFFIX = ".pending"

__all__ = ["JOURNAL_NAME", "finish_pending", "pending_path", "replace_files"]


def pending_path(target: Path) -> Path:
    """Where the new version of ``target`` waits: ``.<name>.pending`` beside it."""
    return target.with_name(f".{target.name}{PENDING_SUFFIX}")


def replace_files(
    root: Path,
    writes: Sequence[tuple[Path, Callable[[Path], None]]],
    backup: Callable[[Path], None] | None = None,
) -> None:
    """Replace several files of the project ``root`` as one change.

    Parameters
    ----------
    root
        The project folder (every target is inside it).
    writes
        ``(target, write)`` pairs: ``write(path)`` writes the new content of ``target`` to
        ``path``. A write that raises leaves every target as it was.
    backup
        Called with each existing target just before it is replaced.
    """
    root = Path(root)
    waiting: list[tuple[Path, Path]] = []
    try:
        for target, write in writes:
            pending = pending_path(target)
            write(pending)
            waiting.append((pending, target))
    except BaseException:
        for pending, _ in waiting:
            pending.unlink(missing_ok=True)
        raise
    files = [[str(p.relative_to(root)), str(t.relative_to(root))] for p, t in waiting]
    atomic_write_text(root / JOURNAL_NAME, json.dumps({"files": files}))
    finish_pending(root, backup)


def finish_pending(root: Path, backup: Callable[[Path], None] | None = None) -> bool:
    """Complete a change recorded in the journal by a process killed midway.

    Returns
    -------
    bool
        True if there was a change to complete.
    """
    journal = Path(root) / JOURNAL_NAME
    if not journal.is_file():
        return False
    try:
        files = json.loads(journal.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProjectError(
            f"{journal}: unreadable record of an unfinished change ({exc}); the project's label "
            "files may not match its behaviors: check them, then delete this file"
        ) from None
    for pending_name, target_name in files:
        pending, target = Path(root) / pending_name, Path(root) / target_name
        if pending.is_file():
            if backup is not None and target.is_file():
                backup(target)
            os.replace(pending, target)
    journal.unlink()
    return True
