"""Read BORIS event exports (CSV or TSV) in every layout BORIS 7.x to 9.x has written.

The layouts, and how times and START/STOP pairs are handled: :mod:`ethogram.io.boris`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ethogram.errors import LabelError
from ethogram.io.annotation import Annotation, Bout
from ethogram.io.boris.columns import (
    FORMAT,
    MEDIA_COLUMNS,
    NO_FOCAL_SUBJECT,
    UNKNOWN_MEDIA,
)

__all__ = ["looks_like", "read"]


def _delimiter(path: Path, text: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    if path.suffix.lower() == ".csv":
        return ","
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "\t" if first.count("\t") >= first.count(",") else ","


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every row, cells stripped."""
    if not path.is_file():
        raise LabelError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(path, text))
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise LabelError(f"{path}, row {reader.line_num}: not a readable CSV/TSV ({exc})") from None
    return rows


def _is_header(cells: list[str]) -> bool:
    return "Behavior" in cells and ("Time" in cells or "Start (s)" in cells)


def looks_like(header_text: str) -> bool:
    """True if the first lines of a file look like a BORIS export."""
    lines = header_text.splitlines()[:60]
    for line in lines:
        cells = [c.strip().strip('"') for c in line.replace("\t", ",").split(",")]
        if _is_header(cells) and ("Status" in cells or "Behavior type" in cells):
            return True
    return bool(lines) and lines[0].replace("\t", ",").split(",")[0].strip('"') == "Observation id"


@dataclass
class _Table:
    path: Path
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]
    metadata: dict[str, str] = field(default_factory=dict)
    players: list[str] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.header

    def get(self, cells: list[str], column: str, default: str = "") -> str:
        if column not in self.header:
            return default
        i = self.header.index(column)
        return cells[i] if i < len(cells) else default

    def number(self, line: int, cells: list[str], column: str) -> float:
        value = self.get(cells, column)
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if number != number:  # NaN, or not a number at all
            raise LabelError(
                f"{self.path}, row {line}, column {column!r}: expected a time in seconds, "
                f"found {value!r}"
            )
        return number


def _parse(path: Path) -> _Table:
    rows = _read_rows(path)
    for i, (line, cells) in enumerate(rows):
        if _is_header(cells):
            table = _Table(path, cells, line, [r for r in rows[i + 1 :] if any(r[1])])
            for _, meta in rows[:i]:
                if meta and meta[0]:
                    value = meta[1] if len(meta) > 1 else ""
                    if meta[0].lower().startswith("player #"):
                        table.players.append(value)
                    else:
                        table.metadata.setdefault(meta[0], value)
            return table
    raise LabelError(
        f"{path}: not a BORIS export: expected a header row with the columns 'Behavior' and "
        "'Time' (tabular events) or 'Start (s)' (aggregated events), found none"
    )


def _media_offsets(source: str, durations: str) -> dict[str, float]:
    """Seconds before each media file of player #1 starts, from BORIS's Source/duration cells.

    ``Source`` is ``player #1:a.mp4;b.mp4|player #2:...`` and ``Media duration (s)`` holds the
    durations in the same order (``12.000;30.000|...``).
    """
    players = source.split("|")
    spans = durations.split("|")
    if not players or not players[0].lower().startswith("player #1:"):
        return {}
    files = players[0].split(":", 1)[1].split(";")
    try:
        seconds = [float(d) for d in spans[0].split(";")] if spans else []
    except ValueError:
        return {}
    if len(files) < 2 or len(seconds) != len(files):
        return {}
    offsets, total = {}, 0.0
    for name, duration in zip(files, seconds, strict=True):
        offsets[name] = total
        total += duration
    return offsets


def _media_column(table: _Table) -> str | None:
    return next((c for c in MEDIA_COLUMNS if table.has(c)), None)


def _subject(table: _Table, cells: list[str]) -> str:
    return table.get(cells, "Subject") or NO_FOCAL_SUBJECT


def _modifiers(table: _Table, cells: list[str]) -> str:
    parts = [
        table.get(cells, c) for c in table.header if c.startswith("Modifier") and c != "Modifiers"
    ]
    return "|".join(parts + [table.get(cells, "Modifiers")])


def _single_media(table: _Table, names: set[str]) -> str | None:
    """The one video of the file, when rows do not say (8.9 aggregated events name none)."""
    known = sorted(n for n in names if n not in UNKNOWN_MEDIA)
    if len(known) == 1:
        return known[0]
    if known:
        return None
    players = [p for p in table.players if p]
    if not players and table.has("Source"):
        sources = {table.get(cells, "Source") for _, cells in table.rows}
        if len(sources) == 1:
            source = sources.pop()
            if source.lower().startswith("player #1:") and "|" not in source:
                players = source.split(":", 1)[1].split(";")
    return players[0] if len(players) == 1 else None


@dataclass
class _Group:
    observation: str
    media: str | None
    subject: str
    bouts: list[Bout] = field(default_factory=list)


def _offset(table: _Table, cells: list[str], media: str | None) -> float:
    raw = table.get(cells, "Time offset (s)", table.metadata.get("Time offset (s)", "0"))
    try:
        offset = float(raw or 0)
    except ValueError:
        offset = 0.0
    if media is not None:
        source = table.get(cells, "Source")
        durations = table.get(cells, "Media duration (s)")
        offset += _media_offsets(source, durations).get(media, 0.0)
    return offset


def _read_aggregated(table: _Table) -> dict[tuple, _Group]:
    media_column = _media_column(table)
    for column in ("Behavior type", "Stop (s)"):
        if not table.has(column):
            raise LabelError(
                f"{table.path}, row {table.header_line}: aggregated events need a {column!r} "
                f"column; found {table.header}"
            )
    media_names = {table.get(c, media_column) for _, c in table.rows} if media_column else set()
    fallback = _single_media(table, media_names)
    groups: dict[tuple, _Group] = {}
    for line, cells in table.rows:
        kind = table.get(cells, "Behavior type").upper()
        behavior = table.get(cells, "Behavior")
        if not behavior:
            raise LabelError(f"{table.path}, row {line}, column 'Behavior': empty")
        if kind not in ("STATE", "POINT"):
            raise LabelError(
                f"{table.path}, row {line}, column 'Behavior type': expected STATE or POINT, "
                f"found {kind!r}"
            )
        media = table.get(cells, media_column) if media_column else ""
        media = fallback if media in UNKNOWN_MEDIA else media
        offset = _offset(table, cells, media)
        start = table.number(line, cells, "Start (s)") - offset
        stop = start if kind == "POINT" else table.number(line, cells, "Stop (s)") - offset
        key = (table.get(cells, "Observation id"), media, _subject(table, cells))
        group = groups.setdefault(key, _Group(*key))
        group.bouts.append(Bout(behavior, start, stop, point=kind == "POINT", row=line))
    return groups


def _read_tabular(table: _Table) -> dict[tuple, _Group]:
    status_column = "Behavior type" if table.has("Behavior type") else "Status"
    if not table.has(status_column):
        raise LabelError(
            f"{table.path}, row {table.header_line}: tabular events need a 'Behavior type' "
            f"(BORIS 8.10+) or 'Status' (older) column; found {table.header}"
        )
    media_column = _media_column(table)
    media_names = {table.get(c, media_column) for _, c in table.rows} if media_column else set()
    fallback = _single_media(table, media_names)
    observation_default = table.metadata.get("Observation id", "")
    groups: dict[tuple, _Group] = {}
    open_events: dict[tuple, tuple[int, float]] = {}
    for line, cells in table.rows:
        status = table.get(cells, status_column).upper()
        behavior = table.get(cells, "Behavior")
        if not behavior:
            raise LabelError(f"{table.path}, row {line}, column 'Behavior': empty")
        if status not in ("START", "STOP", "POINT"):
            raise LabelError(
                f"{table.path}, row {line}, column {status_column!r}: expected START, STOP or "
                f"POINT, found {status!r}"
            )
        media = table.get(cells, media_column) if media_column else ""
        media = fallback if media in UNKNOWN_MEDIA else media
        time = table.number(line, cells, "Time") - _offset(table, cells, media)
        key = (
            table.get(cells, "Observation id", observation_default),
            media,
            _subject(table, cells),
        )
        group = groups.setdefault(key, _Group(*key))
        if status == "POINT":
            group.bouts.append(Bout(behavior, time, time, point=True, row=line))
            continue
        pair = key + (behavior, _modifiers(table, cells))
        if status == "START":
            if pair in open_events:
                raise LabelError(
                    f"{table.path}, row {line}, column {status_column!r}: {behavior!r} STARTs "
                    f"again before the STOP of its START on row {open_events[pair][0]}"
                )
            open_events[pair] = (line, time)
        else:
            if pair not in open_events:
                raise LabelError(
                    f"{table.path}, row {line}, column {status_column!r}: {behavior!r} STOPs "
                    "without a START before it"
                )
            start_line, start = open_events.pop(pair)
            group.bouts.append(Bout(behavior, start, time, row=start_line))
    if open_events:
        (_, _, _, behavior, _), (line, _) = next(iter(open_events.items()))
        raise LabelError(
            f"{table.path}, row {line}, column {status_column!r}: {behavior!r} STARTs but never "
            "STOPs; BORIS exports need paired state events"
        )
    return groups


def read(path: str | Path) -> list[Annotation]:
    """Read a BORIS tabular or aggregated events export (CSV or TSV).

    Parameters
    ----------
    path
        The exported file.

    Returns
    -------
    list of Annotation
        One per observation, video and subject, in seconds from the start of the video; each
        names every behavior of the file.

    Raises
    ------
    LabelError
        Naming the file, row and column of the first problem (no header, an unknown event type,
        a time that is not a number, a START without STOP ...).
    """
    path = Path(path)
    table = _parse(path)
    if not table.has("Behavior"):
        raise LabelError(f"{path}: no 'Behavior' column")
    aggregated = table.has("Start (s)")
    groups = _read_aggregated(table) if aggregated else _read_tabular(table)
    behaviors: list[str] = []
    for _, cells in table.rows:
        name = table.get(cells, "Behavior")
        if name and name not in behaviors:
            behaviors.append(name)
    fps_column = "FPS (frame/s)" if table.has("FPS (frame/s)") else "FPS"
    layout = "aggregated events" if aggregated else "tabular events"
    annotations = []
    for group in groups.values():
        group.bouts.sort(key=lambda b: (b.start, b.row or 0))
        fps = None
        for _, cells in table.rows[:1]:
            try:
                fps = float(table.get(cells, fps_column)) or None
            except ValueError:
                fps = None
        annotations.append(
            Annotation(
                source=path,
                format=FORMAT,
                media=group.media or None,
                subject=group.subject,
                behaviors=list(behaviors),
                unit="s",
                bouts=group.bouts,
                fps=fps,
                notes=[
                    f"BORIS {layout}"
                    + (f", observation {group.observation!r}" if group.observation else "")
                ],
            )
        )
    return annotations
