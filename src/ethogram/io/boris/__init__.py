"""BORIS event exports (CSV or TSV): read every layout BORIS has written, write the 9.x ones.

Layouts read (each checked against BORIS's own export code, ``export_observation.py`` and
``export_events.py``, in its 7.x to 9.x releases):

* **tabular events**, one row per event, 8.10 and later: columns ``Observation id, ...,
  Subject, Behavior, Behavioral category, [Modifier #1...], Behavior type, Time, Media file name,
  Image index, Image file path, Comment``; ``Behavior type`` is ``START``, ``STOP`` or ``POINT``.
* **tabular events**, 7.x to 8.9: metadata rows (``Observation id``, ``Player #1``,
  ``Time offset (s)``, independent variables ...) above the header ``Time, Media file path,
  Total length, FPS, Subject, Behavior, Behavioral category, [Modifier 1...], Comment, Status``;
  ``Status`` is ``START``, ``STOP`` or ``POINT``.
* **aggregated events**, one row per bout: ``Behavior type`` is ``STATE`` or ``POINT`` with
  ``Start (s)``, ``Stop (s)``, ``Duration (s)``; the video is in ``Media file name`` (8.10 and
  later) or ``Media file`` (older).

Times are observation times: BORIS adds the observation's time offset, and, when a player plays
several media files one after another, the durations of the files before; both are taken off
(when the file states them) so times count from the start of each video. Events are grouped by
observation, video and subject; START/STOP pairs are matched per behavior and modifiers.

Written: :func:`write` the 9.x tabular events, :func:`write_aggregated` the 9.x aggregated
events, as CSV (``.csv``) or TSV (``.tsv``) with BORIS's ``\\r\\n`` line ends.

Reading is in :mod:`ethogram.io.boris.reader`, writing in :mod:`ethogram.io.boris.writer`, the
column names both share in :mod:`ethogram.io.boris.columns`. This package imports neither torch
nor Qt.
"""

from ethogram.io.boris.columns import AGGREGATED_COLUMNS, FORMAT, TABULAR_COLUMNS
from ethogram.io.boris.reader import looks_like, read
from ethogram.io.boris.writer import write, write_aggregated

__all__ = [
    "AGGREGATED_COLUMNS",
    "FORMAT",
    "TABULAR_COLUMNS",
    "looks_like",
    "read",
    "write",
    "write_aggregated",
]
