"""Label file formats by name or file extension: one facade over one module per format.

>>> sorted(FORMATS)  # doctest: +NORMALIZE_WHITESPACE
['bento', 'boris', 'boris-aggregated', 'bouts', 'deepethogram', 'nwb', 'simba']
>>> detect_format("session1.annot")
'bento'

Reading gives :class:`~ethogram.io.annotation.Annotation` objects (the labels as the file states
them, one per video and subject); :func:`read_labels_file` also fits one to a video, giving one
row per frame. Writing takes a :class:`~ethogram.io.annotation.LabelExport`. A ``.csv``/``.tsv``
file's format is told from its header (see :func:`detect_format`).

Each format module is imported only when used, so optional packages (``pynwb`` for NWB) are
needed only by the format that uses them. This module imports neither torch nor Qt.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from ethogram.errors import LabelError
from ethogram.io.annotation import (
    Annotation,
    FittedLabels,
    LabelExport,
    check_modes,
    fit_annotation,
)


@dataclass(frozen=True)
class LabelFormat:
    """One label file format.

    Attributes
    ----------
    name
        The name users give (``--format boris``).
    description
        One line for help texts.
    extensions
        File endings that pick this format when no name is given (lower case, with the dot).
    reader, writer
        ``"module:function"`` of the read and write functions (imported when first used).
    file_name
        Pattern of exported file names, with ``{stem}`` (the video's name) and ``{kind}``
        (``labels`` or ``predictions``).
    """

    name: str
    description: str
    extensions: tuple[str, ...]
    reader: str
    writer: str
    file_name: str

    def _load(self, target: str):
        module, function = target.split(":")
        return getattr(importlib.import_module(module), function)

    def read(self, path: str | Path) -> list[Annotation]:
        """Read a file of this format."""
        return self._load(self.reader)(Path(path))

    def write(self, path: str | Path, export: LabelExport) -> Path:
        """Write one video's labels in this format."""
        return self._load(self.writer)(Path(path), export)


FORMATS: dict[str, LabelFormat] = {
    f.name: f
    for f in (
        LabelFormat(
            "deepethogram",
            "DeepEthogram's per-frame CSV (the project's own format)",
            (),
            "ethogram.io.labels:read_annotations",
            "ethogram.io.labels:write_export",
            "{stem}_{kind}.csv",
        ),
        LabelFormat(
            "boris",
            "BORIS tabular events (START/STOP/POINT rows), CSV or TSV",
            (),
            "ethogram.io.boris:read",
            "ethogram.io.boris:write",
            "{stem}_boris.csv",
        ),
        LabelFormat(
            "boris-aggregated",
            "BORIS aggregated events (one row per bout), CSV or TSV",
            (),
            "ethogram.io.boris:read",
            "ethogram.io.boris:write_aggregated",
            "{stem}_boris_aggregated.csv",
        ),
        LabelFormat(
            "simba",
            "SimBA per-frame CSV: a 0/1 column per behavior (and Probability_<behavior>)",
            (),
            "ethogram.io.simba:read",
            "ethogram.io.simba:write",
            "{stem}.csv",
        ),
        LabelFormat(
            "bouts",
            "bouts table CSV: behavior, start/end frame, start/end seconds",
            (),
            "ethogram.io.bouts_table:read",
            "ethogram.io.bouts_table:write",
            "{stem}_bouts.csv",
        ),
        LabelFormat(
            "bento",
            "Bento .annot annotation file",
            (".annot",),
            "ethogram.io.bento:read",
            "ethogram.io.bento:write",
            "{stem}.annot",
        ),
        LabelFormat(
            "nwb",
            "NWB file: ndx-ethogram EthogramBouts, or a TimeIntervals table (needs pynwb)",
            (".nwb",),
            "ethogram.io.nwb:read",
            "ethogram.io.nwb:write",
            "{stem}.nwb",
        ),
    )
}
TEXT_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
SNIFF_CHARS = 16384


def list_formats() -> list[str]:
    """Names of the known formats."""
    return list(FORMATS)


def get_format(name: str) -> LabelFormat:
    """The format called ``name`` (case-insensitive); LabelError lists the known ones."""
    key = str(name).strip().lower()
    if key not in FORMATS:
        raise LabelError(f"unknown label format {name!r}; expected one of {list_formats()}")
    return FORMATS[key]


def _sniff_table(path: Path) -> str:
    from ethogram.io import boris

    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            text = f.read(SNIFF_CHARS)
    except OSError as exc:
        raise LabelError(f"{path}: cannot be read ({exc})") from None
    if not text.strip():
        raise LabelError(f"{path}: the file is empty")
    if boris.looks_like(text):
        return "boris"
    first = text.splitlines()[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    header = [c.strip().strip('"').lower() for c in first.split(delimiter)]
    if "behavior" in header and any(c in header for c in ("start_frame", "start_s", "start")):
        return "bouts"
    if any(c.startswith("probability_") for c in header):
        return "simba"
    pose = [c for c in header if c.endswith(("_x", "_y", "_p"))]
    if len(pose) >= 3:
        return "simba"
    return "deepethogram"


def detect_format(path: str | Path) -> str:
    """The format of a file, from its extension, or for CSV/TSV from its header.

    CSV/TSV: a BORIS export has a ``Behavior`` column and ``Status``/``Behavior type`` (or
    starts with ``Observation id``); a bouts table has ``behavior`` and ``start_frame`` or
    ``start_s``; a SimBA file has ``Probability_<behavior>`` or pose columns (``Nose_1_x`` ...);
    anything else is read as DeepEthogram's per-frame CSV.

    Raises
    ------
    LabelError
        For an extension no format uses.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.extensions:
            return fmt.name
    if suffix in TEXT_TABLE_SUFFIXES:
        if not path.is_file():
            raise LabelError(f"{path}: file not found")
        return _sniff_table(path)
    raise LabelError(
        f"{path}: cannot tell the label format from the ending {suffix or '(none)'!r}; "
        f"give it with --format (one of {list_formats()})"
    )


def read_annotations(path: str | Path, format: str | None = None) -> list[Annotation]:
    """Read a label file of any known format.

    Parameters
    ----------
    path
        The file.
    format
        Format name; None picks it from the extension or header (:func:`detect_format`).

    Returns
    -------
    list of Annotation
        One per video (and subject) in the file.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"{path}: label file not found")
    fmt = get_format(format) if format else get_format(detect_format(path))
    annotations = fmt.read(path)
    if not annotations:
        raise LabelError(f"{path}: no labels found in this {fmt.name} file")
    return annotations


def select_subject(
    annotations: list[Annotation], subject: str | None, source: str | Path
) -> list[Annotation]:
    """Keep the annotations of ``subject``; without one, the file must have a single subject.

    Raises
    ------
    LabelError
        If ``subject`` is not in the file, or the file has several and none was chosen.
    """
    subjects = sorted({a.subject for a in annotations if a.subject is not None})
    if subject is not None:
        kept = [a for a in annotations if a.subject == subject]
        if not kept:
            raise LabelError(
                f"{source}: no subject {subject!r}; the file has {subjects or 'no subjects'}"
            )
        return kept
    if len(subjects) > 1:
        raise LabelError(
            f"{source}: has labels of several subjects {subjects}; choose one with --subject"
        )
    return annotations


def read_labels_file(
    path: str | Path,
    format: str | None = None,
    *,
    fps: float,
    n_frames: int,
    behaviors: list[str],
    media: str | None = None,
    subject: str | None = None,
    points: str = "frame",
    unknown: str = "error",
) -> FittedLabels:
    """Read a label file and fit it to one video: one row per frame, in ``behaviors`` order.

    Parameters
    ----------
    path
        The file.
    format
        Format name; None picks it from the extension or header.
    fps, n_frames
        The video's frame rate and length.
    behaviors
        The project's behaviors, ``background`` first.
    media
        Which of the file's videos to take (its name as in the file, or its stem), if the file
        has several.
    subject
        Which subject (BORIS) or channel (Bento) to take, if the file has several.
    points, unknown
        See :func:`ethogram.io.annotation.fit_annotation`.

    Returns
    -------
    FittedLabels
        The per-frame labels.
    """
    check_modes(points, unknown)
    annotations = select_subject(read_annotations(path, format), subject, path)
    if media is not None:
        wanted = Path(media.replace("\\", "/")).stem
        kept = [a for a in annotations if a.media and media_stem(a.media) == wanted]
        annotations = kept or annotations
    if len(annotations) > 1:
        names = sorted({a.media or "?" for a in annotations})
        raise LabelError(f"{path}: has labels of several videos {names}; choose one")
    return fit_annotation(annotations[0], behaviors, n_frames, fps, points, unknown)


def media_stem(media: str) -> str:
    """The stem of a media path as a tool wrote it (``C:\\\\videos\\\\m1.mp4`` -> ``m1``)."""
    return Path(str(media).replace("\\", "/")).stem


def export_file_name(format: str, stem: str, kind: str = "labels") -> str:
    """The file name :func:`write_labels_file` is given by ``ethogram export``."""
    return get_format(format).file_name.format(stem=stem, kind=kind)


def write_labels_file(path: str | Path, export: LabelExport, format: str) -> Path:
    """Write one video's labels (or predictions) in ``format``.

    Parameters
    ----------
    path
        Destination file (written atomically).
    export
        The per-frame values, behaviors, frame rate and video name.
    format
        Format name.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return get_format(format).write(Path(path), export)


__all__ = [
    "FORMATS",
    "LabelFormat",
    "detect_format",
    "export_file_name",
    "get_format",
    "list_formats",
    "media_stem",
    "read_annotations",
    "read_labels_file",
    "select_subject",
    "write_labels_file",
]
