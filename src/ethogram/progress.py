"""Progress bars on stderr (rich), shared by every long-running step.

>>> with progress_bar(3, "videos", enabled=False) as bar:
...     for name in ["a", "b", "c"]:
...         bar.status(name)
...         bar()  # one step done
>>> list(progress_iter(range(3), 3, "frames", enabled=False))
[0, 1, 2]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["ProgressBar", "progress_bar", "progress_iter"]


class ProgressBar:
    """Handle on one bar: call it (or :meth:`advance`) to count steps, :meth:`status` to label.

    Without a rich ``Progress`` (progress disabled) every method does nothing.
    """

    def __init__(self, progress: Any = None, task: Any = None) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: float = 1) -> None:
        """Count ``n`` more steps done."""
        if self._progress is not None:
            self._progress.advance(self._task, n)

    __call__ = advance

    def status(self, text: str) -> None:
        """Show ``text`` (e.g. the video being processed) at the end of the bar."""
        if self._progress is not None:
            self._progress.update(self._task, status=text)


@contextlib.contextmanager
def progress_bar(
    total: int | None, description: str, enabled: bool = True
) -> Iterator[ProgressBar]:
    """A rich progress bar on stderr: description, bar, n/total, elapsed, remaining, status.

    Parameters
    ----------
    total
        Steps expected (None: unknown).
    description
        Text before the bar.
    enabled
        False gives a bar that shows nothing (``--quiet``, tests, benchmarks).

    Yields
    ------
    ProgressBar
    """
    if not enabled:
        yield ProgressBar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield ProgressBar(progress, progress.add_task(description, total=total, status=""))


def progress_iter(
    iterable: Iterable[T], total: int | None = None, description: str = "", enabled: bool = True
) -> Iterator[T]:
    """Iterate with a progress bar on stderr (plain iteration when ``enabled`` is False)."""
    if not enabled:
        yield from iterable
        return
    with progress_bar(total, description) as bar:
        for item in iterable:
            yield item
            bar.advance()
