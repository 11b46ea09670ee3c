"""Bouts tables: one row per bout, in frames and in seconds (``<video>_bouts.csv``).

The layout ``ethogram predict`` and ``ethogram summarize`` write (see docs/summaries.md)::

    behavior,start_frame,end_frame,duration_frames,start_s,end_s,duration_s
    groom,3,14,12,0.1,0.5,0.4

``end_frame`` is the last frame of the bout (inclusive), ``end_s`` the moment it ends
(``(end_frame + 1) / fps``). Read: frames when ``start_frame`` and ``end_frame`` are there, else
seconds from ``start_s`` and ``end_s``; other columns are ignored. A bouts table cannot tell
unlabeled frames from absent behavior.

This module imports neither torch nor Qt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ethogram.errors import LabelError
from ethogram.io.annotation import Annotation, Bout, LabelExport
from ethogram.io.atomic import atomic_path

FORMAT = "bouts"
COLUMNS = [
    "behavior",
    "start_frame",
    "end_frame",
    "duration_frames",
    "start_s",
    "end_s",
    "duration_s",
]
SECONDS_DECIMALS = 6


def _number(path: Path, line: int, column: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number):
        raise LabelError(
            f"{path}, row {line}, column {column!r}: expected a number, found {value!r}"
        )
    return number


def read(path: str | Path) -> list[Annotation]:
    """Read a bouts table CSV.

    Parameters
    ----------
    path
        ``<video>_bouts.csv``.

    Returns
    -------
    list of Annotation
        One annotation (in frames, or in seconds without frame columns).

    Raises
    ------
    LabelError
        Naming the file, row and column of an empty behavior, a value that is not a number or
        a bout that ends before it starts.
    """
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise LabelError(f"{path}: the file is empty; expected a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: not a readable CSV ({exc})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if {"start_frame", "end_frame"} <= set(frame.columns):
        unit, start_col, end_col, one = "frame", "start_frame", "end_frame", 1.0
    elif {"start_s", "end_s"} <= set(frame.columns):
        unit, start_col, end_col, one = "s", "start_s", "end_s", 0.0
    else:
        raise LabelError(
            f"{path}: expected the columns behavior, start_frame, end_frame (or start_s, end_s); "
            f"found {list(frame.columns)}"
        )
    if "behavior" not in frame.columns:
        raise LabelError(f"{path}: no 'behavior' column; found {list(frame.columns)}")
    bouts, behaviors = [], []
    for i, row in enumerate(frame.itertuples(index=False)):
        line = i + 2
        cells = dict(zip(frame.columns, row, strict=True))
        behavior = str(cells["behavior"]).strip()
        if not behavior:
            raise LabelError(f"{path}, row {line}, column 'behavior': empty")
        start = _number(path, line, start_col, cells[start_col])
        end = _number(path, line, end_col, cells[end_col])
        if end < start:
            raise LabelError(
                f"{path}, row {line}, column {end_col!r}: the bout ends ({end:g}) before it "
                f"starts ({start:g})"
            )
        bouts.append(Bout(behavior, start, end + one, row=line))
        if behavior not in behaviors:
            behaviors.append(behavior)
    return [Annotation(source=path, format=FORMAT, behaviors=behaviors, unit=unit, bouts=bouts)]


def bouts_dataframe(behaviors: list[str], start: np.ndarray, stop: np.ndarray, fps: float):
    """The table of bouts ``[start, stop)`` (frames) of ``behaviors``, in :data:`COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        One row per bout, in the order given; seconds rounded to :data:`SECONDS_DECIMALS`.
    """
    import pandas as pd

    return pd.DataFrame(
        {
            "behavior": pd.Series(behaviors, dtype=object),
            "start_frame": start,
            "end_frame": stop - 1,
            "duration_frames": stop - start,
            "start_s": np.round(start / fps, SECONDS_DECIMALS),
            "end_s": np.round(stop / fps, SECONDS_DECIMALS),
            "duration_s": np.round((stop - start) / fps, SECONDS_DECIMALS),
        },
        columns=COLUMNS,
    )


def write(path: str | Path, export: LabelExport) -> Path:
    """Write one video's bouts (the layout of ``ethogram summarize``'s bouts CSVs).

    Parameters
    ----------
    path
        ``<video>_bouts.csv``.
    export
        The video's labels or predictions.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    bouts = export.annotation(FORMAT).bouts
    table = bouts_dataframe(
        [b.behavior for b in bouts],
        np.array([b.start for b in bouts], dtype=np.int64),
        np.array([b.stop for b in bouts], dtype=np.int64),
        export.fps,
    )
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path


__all__ = ["bouts_dataframe", "read", "write"]
