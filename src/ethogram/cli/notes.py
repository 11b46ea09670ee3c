"""Show the library's notes on the terminal: the one logging configuration of the CLI.

Library modules log to ``logging.getLogger(__name__)`` (``ethogram.train.features``, ...) and
configure nothing. :func:`notes_shown` prints those records while a command runs: notes on stderr
(beside the progress bars), warnings as one yellow ``warning: ...`` line, and the notes of the
loggers named in ``stdout_loggers`` (a command's own results, e.g. the training pipeline's
summary lines) on stdout.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator

import typer

__all__ = ["NotesHandler", "notes_shown", "show_notes_in_rank"]


class NotesHandler(logging.Handler):
    """Print log records: INFO plainly, WARNING and above as ``warning: ...`` on stderr.

    Parameters
    ----------
    stdout_loggers
        Names of loggers whose INFO records go to stdout instead of stderr.
    """

    def __init__(self, stdout_loggers: Iterable[str] = ()) -> None:
        super().__init__(logging.INFO)
        self.stdout_loggers = set(stdout_loggers)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.levelno >= logging.WARNING:
                typer.secho(f"warning: {message}", fg="yellow", err=True)
            else:
                typer.echo(message, err=record.name not in self.stdout_loggers)
        except Exception:  # a broken stream must not end the command (logging's convention)
            self.handleError(record)


@contextlib.contextmanager
def notes_shown(stdout_loggers: Iterable[str] = ()) -> Iterator[NotesHandler]:
    """Print the notes of the ``ethogram`` loggers (INFO and above) while the block runs.

    Parameters
    ----------
    stdout_loggers
        Loggers whose INFO notes go to stdout (see :class:`NotesHandler`).
    """
    logger = logging.getLogger("ethogram")
    handler, level = NotesHandler(stdout_loggers), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def show_notes_in_rank(rank: int) -> None:
    """In a process of a multi-device training run: rank 0 prints notes as the command would.

    The other ranks print nothing but errors (rank 0 tells what happens). Given to
    :func:`ethogram.train.pipeline.train_project` as ``worker_setup``.
    """
    logger = logging.getLogger("ethogram")
    if rank == 0:
        logger.addHandler(NotesHandler(stdout_loggers=("ethogram.train",)))
        logger.setLevel(logging.INFO)
    else:
        logger.setLevel(logging.ERROR)
