"""Write BORIS 9.x event exports: tabular events and aggregated events, CSV or TSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from ethogram.io.annotation import LabelExport
from ethogram.io.atomic import atomic_path
from ethogram.io.boris.columns import (
    AGGREGATED_COLUMNS,
    FORMAT,
    NA,
    NO_FOCAL_SUBJECT,
    TABULAR_COLUMNS,
)

__all__ = ["write", "write_aggregated"]


def _delimiter_for(path: Path) -> str:
    return "\t" if path.suffix.lower() in (".tsv", ".txt") else ","


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=_delimiter_for(path), lineterminator="\r\n")
    writer.writerows(rows)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue().encode("utf-8"))


def _observation(export: LabelExport) -> dict[str, str]:
    """The cells every row of a video repeats, by column name (both layouts)."""
    duration = f"{export.n_frames / export.fps:.3f}"
    fps = f"{export.fps:.3f}"
    return {
        "Observation id": export.stem,
        "Observation date": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "Description": "",
        "Source": f"player #1:{export.video}",
        "Time offset (s)": "0.0",
        "Media duration (s)": duration,
        # tabular events
        "Observation duration": duration,
        "FPS": fps,
        # aggregated events
        "Coding duration": duration,
        "FPS (frame/s)": fps,
    }


def _row(columns: list[str], cells: dict[str, str]) -> list[str]:
    """``cells`` in the order of ``columns`` (a column without a cell is empty)."""
    return [cells.get(column, "") for column in columns]


def write(path: str | Path, export: LabelExport) -> Path:
    """Write a BORIS 9.x tabular events file: a START and a STOP row per bout.

    Unlabeled frames cannot be told apart from absent behavior in this layout; a bout of frames
    ``[a, b)`` starts at ``a / fps`` and stops at ``b / fps`` seconds.

    Parameters
    ----------
    path
        ``.csv`` or ``.tsv`` file to write.
    export
        The video's labels.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    observation = _observation(export) | {"Observation type": "Media file(s)"}
    events = []
    for bout in export.annotation(FORMAT).bouts:
        for kind, frame in (("START", bout.start), ("STOP", bout.stop)):
            events.append((frame, 0 if kind == "STOP" else 1, bout.behavior, kind))
    events.sort(key=lambda e: (e[0], e[1]))
    rows = [list(TABULAR_COLUMNS)]
    for frame, _, behavior, kind in events:
        cells = {
            "Behavior": behavior,
            "Behavior type": kind,
            "Time": f"{frame / export.fps:.3f}",
            "Media file name": export.video,
            "Image index": str(int(frame)),
            "Image file path": NA,
        }
        rows.append(_row(TABULAR_COLUMNS, observation | cells))
    _write_rows(path, rows)
    return path


def write_aggregated(path: str | Path, export: LabelExport) -> Path:
    """Write a BORIS 9.x aggregated events file: one STATE row per bout.

    Parameters
    ----------
    path
        ``.csv`` or ``.tsv`` file to write.
    export
        The video's labels.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    observation = _observation(export) | {"Observation type": "Media file"}
    bouts = export.annotation(FORMAT).bouts
    total = sum(b.stop - b.start for b in bouts) / export.fps
    rows = [list(AGGREGATED_COLUMNS)]
    for bout in sorted(bouts, key=lambda b: (b.behavior, b.start)):
        start, stop = bout.start / export.fps, bout.stop / export.fps
        cells = {
            "Subject": NO_FOCAL_SUBJECT,
            "Observation duration by subject by observation": f"{round(total, 3)}",
            "Behavior": bout.behavior,
            "Behavioral category": "Not defined",
            "Behavior type": "STATE",
            "Start (s)": f"{start:.3f}",
            "Stop (s)": f"{stop:.3f}",
            "Duration (s)": f"{stop - start:.3f}",
            "Media file name": export.video,
            "Image index start": str(int(bout.start)),
            "Image index stop": str(int(bout.stop)),
        }
        rows.append(_row(AGGREGATED_COLUMNS, observation | cells))
    _write_rows(path, rows)
    return path
