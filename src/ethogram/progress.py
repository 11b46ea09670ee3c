"""Progress bars on stderr (rich), shared by every long-running step.

>>> with progress_bar(3, "videos", enabled=False) as bar:
...     for name in ["a", "b", "c"]:
...         bar.status(name)
...         bar()  # one step done
>>> list(progress_iter(range(3), 3, "frames", enabled=False))
[0, 1, 2]

A reporter installed with :func:`reporting_to` receives every bar's events instead of the drawing
(the GUI runs jobs in a child process that sends them to the window):

>>> events = []
>>> with reporting_to(events.append):
...     list(progress_iter("ab", 2, "letters"))
['a', 'b']
>>> [(e.kind, e.completed, e.total) for e in events]
[('start', 0.0, 2), ('advance', 1.0, 2), ('advance', 2.0, 2), ('end', 2.0, 2)]
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "ProgressBar",
    "ProgressEvent",
    "current_reporter",
    "progress_bar",
    "progress_iter",
    "reporting_to",
    "set_reporter",
]


@dataclass(frozen=True)
class ProgressEvent:
    """One change of one bar, as sent to a reporter.

    Attributes
    ----------
    kind
        ``start`` (bar created), ``advance`` (steps done), ``status`` (new status text) or
        ``end`` (bar closed, also after an error).
    bar
        A number identifying the bar within the process (bars may be nested).
    description
        The bar's description.
    completed
        Steps done so far.
    total
        Steps expected (None: unknown).
    status
        The bar's current status text.
    """

    kind: str
    bar: int
    description: str
    completed: float
    total: float | None
    status: str = ""


Reporter = Callable[[ProgressEvent], None]
_REPORTER: list[Reporter | None] = [None]
_BAR_IDS = itertools.count(1)


def set_reporter(reporter: Reporter | None) -> Reporter | None:
    """Send the events of every enabled bar to ``reporter`` instead of drawing them.

    Parameters
    ----------
    reporter
        Called with a :class:`ProgressEvent` on each change; None draws bars again.

    Returns
    -------
    callable or None
        The reporter installed before.
    """
    previous, _REPORTER[0] = _REPORTER[0], reporter
    return previous


def current_reporter() -> Reporter | None:
    """The reporter installed by :func:`set_reporter` (None: bars are drawn on stderr)."""
    return _REPORTER[0]


@contextlib.contextmanager
def reporting_to(reporter: Reporter) -> Iterator[Reporter]:
    """Install ``reporter`` (see :func:`set_reporter`) for the block, then restore the previous."""
    previous = set_reporter(reporter)
    try:
        yield reporter
    finally:
        set_reporter(previous)


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


class _ReportedBar(ProgressBar):
    """A bar whose changes go to a reporter as :class:`ProgressEvent` s."""

    def __init__(self, reporter: Reporter, total: float | None, description: str) -> None:
        super().__init__()
        self._reporter, self._id = reporter, next(_BAR_IDS)
        self._description, self._total = description, total
        self._completed, self._status = 0.0, ""

    def send(self, kind: str) -> None:
        self._reporter(
            ProgressEvent(
                kind, self._id, self._description, self._completed, self._total, self._status
            )
        )

    def advance(self, n: float = 1) -> None:
        """Count ``n`` more steps done."""
        self._completed += n
        self.send("advance")

    __call__ = advance

    def status(self, text: str) -> None:
        """Report ``text`` as the bar's status."""
        self._status = text
        self.send("status")


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
        With a reporter installed (:func:`reporting_to`), one that sends events to it.
    """
    if not enabled:
        yield ProgressBar()
        return
    reporter = _REPORTER[0]
    if reporter is not None:
        bar = _ReportedBar(reporter, total, description)
        bar.send("start")
        try:
            yield bar
        finally:
            bar.send("end")
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
