"""Bento ``.annot`` annotation files (the Bento/MARS annotation GUI).

Layout, as Bento's ``saveAnnot.m`` writes it and ``loadAnnotSheetTxt.m`` reads it::

    Bento annotation file
    Movie file(s):  mouse1.mp4

    Stimulus name:
    Annotation start time: 3.333333e-02
    Annotation stop time: 60
    Annotation framerate: 30.000000

    List of channels:
    Ch1

    List of annotations:
    groom
    rear

    Ch1----------
    >groom
    Start	 Stop	 Duration
    4	15	12

    (a blank line after each behavior, and after each channel)

Bouts are in frames counted from 1, both ends included (``Duration = Stop - Start + 1``), at the
annotation frame rate; files saved "as time" hold seconds (``frame / framerate``) instead, told
apart, as Bento does, by a value that is not a whole number. Older files say ``Annotation start
frame`` / ``stop frame``. Channels (one per annotator or animal) are chosen with ``--subject``.
Behaviors without bouts are listed but have no section; ``other`` is Bento's "nothing".

This module imports neither torch nor Qt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ethogram.errors import LabelError
from ethogram.io.annotation import BACKGROUND, Annotation, Bout, LabelExport
from ethogram.io.atomic import atomic_write_text

FORMAT = "bento"
CHANNEL_MARK = "----------"
DEFAULT_CHANNEL = "Ch1"
OTHER = "other"


def _value_after_colon(line: str) -> str:
    return line.split(":", 1)[1].strip() if ":" in line else ""


def _list_after(lines: list[str], title: str) -> list[str]:
    for i, line in enumerate(lines):
        if line.strip().lower() == title.lower():
            items = []
            for item in lines[i + 1 :]:
                if not item.strip():
                    break
                items.append(item.strip())
            return items
    return []


def _numbers(path: Path, number: int, line: str) -> tuple[float, float]:
    parts = line.split()
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) < 2 or not all(np.isfinite(values)):
        raise LabelError(
            f"{path}, row {number}: expected 'Start Stop Duration' numbers, found {line.strip()!r}"
        )
    if values[1] < values[0]:
        raise LabelError(
            f"{path}, row {number}, column 'Stop': the bout stops ({values[1]:g}) before it "
            f"starts ({values[0]:g})"
        )
    return values[0], values[1]


def read(path: str | Path) -> list[Annotation]:
    """Read a Bento ``.annot`` file.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    list of Annotation
        One per channel that has bouts (``subject`` = the channel's name), in frames from 0 at
        the file's frame rate (or in seconds, for files saved as time).

    Raises
    ------
    LabelError
        Naming the file and row of a line that does not fit the layout.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"{path}: file not found")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or "bento annotation file" not in lines[0].lower():
        raise LabelError(
            f"{path}, row 1: not a Bento annotation file: expected 'Bento annotation file', "
            f"found {lines[0].strip() if lines else 'an empty file'!r}"
        )
    fps = None
    movies: list[str] = []
    for line in lines[:20]:
        lowered = line.lower()
        if lowered.startswith("annotation framerate"):
            try:
                fps = float(_value_after_colon(line))
            except ValueError:
                raise LabelError(
                    f"{path}: 'Annotation framerate' is not a number: {line.strip()!r}"
                ) from None
        elif lowered.startswith("movie file(s)"):
            movies = _value_after_colon(line).split()
    channels_listed = _list_after(lines, "List of channels:")
    behaviors = [b for b in _list_after(lines, "List of annotations:") if b != OTHER]
    sections: dict[str, list[tuple[str, float, float, int]]] = {}
    channel = behavior = None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text.endswith(CHANNEL_MARK):
            channel = text[: -len(CHANNEL_MARK)]
            sections.setdefault(channel, [])
            behavior = None
        elif channel is None or not text or text.lower().startswith("start"):
            continue
        elif text.startswith(">"):
            behavior = text[1:].strip()
        elif behavior is None:
            raise LabelError(f"{path}, row {number}: a bout before any '>behavior' line")
        else:
            start, stop = _numbers(path, number, line)
            sections[channel].append((behavior, start, stop, number))
    values = [v for rows in sections.values() for _, a, b, _ in rows for v in (a, b)]
    as_time = any(v != int(v) for v in values)
    annotations = []
    for name in sections or {DEFAULT_CHANNEL: []}:
        bouts = []
        for behavior_name, start, stop, number in sections.get(name, []):
            if behavior_name == OTHER:
                continue
            if behavior_name not in behaviors:
                behaviors.append(behavior_name)
            if as_time:  # seconds of 1-based frames: frame k is shown at k / fps
                rate = fps or 30.0
                bouts.append(Bout(behavior_name, start - 1 / rate, stop, row=number))
            else:
                bouts.append(Bout(behavior_name, start - 1, stop, row=number))
        annotations.append(
            Annotation(
                source=path,
                format=FORMAT,
                media=movies[0] if len(movies) == 1 else None,
                subject=name if len(channels_listed) > 1 or len(sections) > 1 else None,
                behaviors=behaviors,
                unit="s" if as_time else "frame",
                bouts=bouts,
                fps=None if as_time else fps,
                notes=[f"Bento channel {name!r}"] + (["times in seconds"] if as_time else []),
            )
        )
    return annotations


def _matlab_number(value: float) -> str:
    """MATLAB's ``%d`` of a number: an integer as is, anything else as ``%e``."""
    return str(int(value)) if float(value).is_integer() else f"{value:e}"


def write(path: str | Path, export: LabelExport) -> Path:
    """Write one video's labels as a Bento ``.annot`` file (one channel, frames).

    Parameters
    ----------
    path
        The ``.annot`` file.
    export
        The video's labels or predictions.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    fps = export.fps
    behaviors = [b for b in export.behaviors if b != BACKGROUND]
    lines = [
        "Bento annotation file",
        f"Movie file(s):  {export.video} ",
        "",
        "Stimulus name: ",
        f"Annotation start time: {_matlab_number(1 / fps)}",
        f"Annotation stop time: {_matlab_number(export.n_frames / fps)}",
        f"Annotation framerate: {fps:f}",
        "",
        "List of channels:",
        DEFAULT_CHANNEL,
        "",
        "List of annotations:",
        *sorted(behaviors),
        "",
    ]
    bouts = export.annotation(FORMAT).bouts
    lines.append(f"{DEFAULT_CHANNEL}{CHANNEL_MARK}")
    for name in behaviors:
        mine = [b for b in bouts if b.behavior == name]
        if not mine:
            continue
        lines += [f">{name}", "Start\t Stop\t Duration "]
        for bout in mine:
            start, stop = int(bout.start) + 1, int(bout.stop)
            lines.append(f"{start:.12g}\t{stop:.12g}\t{stop - start + 1:.12g}")
        lines.append("")
    lines.append("")
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


__all__ = ["read", "write"]
