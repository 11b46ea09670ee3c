"""Labels read from another tool's file, and how they become one row per video frame.

Every format module (:mod:`ethogram.io.boris`, :mod:`ethogram.io.simba`, ...) reads a file into
one or more :class:`Annotation` objects: the labels of one video (and one subject) as the file
states them, in seconds or in frames. :func:`fit_annotation` turns one into the project's
per-frame table (1 present, 0 absent, -1 not labeled) for a video of known length and frame rate;
:func:`annotation_from_values` goes the other way, for writers.

Frames and seconds: frame ``i`` is shown from ``i / fps`` to ``(i + 1) / fps``. An interval from
``start`` to ``stop`` seconds covers frames ``round(start * fps)`` up to, not including,
``round(stop * fps)`` (at least one frame); a point event at ``t`` is frame ``round(t * fps)``.
Writing a bout of frames ``[a, b)`` as ``a / fps`` to ``b / fps`` and reading it back gives the
same frames.

This module imports neither torch nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ethogram.errors import LabelError

Unit = Literal["s", "frame"]
POINT_MODES = ("frame", "skip")
UNKNOWN_MODES = ("error", "skip")
BACKGROUND = "background"
# events may end a little past the video's last frame (rounding in the tool that wrote them)
END_TOLERANCE_FRAMES = 1


def _runs(present: np.ndarray) -> np.ndarray:
    """(n, 2) start and end (exclusive) of the runs of True (as :func:`ethogram.bouts.find_bouts`,
    which is a layer above io)."""
    padded = np.concatenate([[False], np.asarray(present, dtype=bool).ravel(), [False]])
    return np.flatnonzero(padded[1:] != padded[:-1]).reshape(-1, 2)


@dataclass(frozen=True)
class Bout:
    """One labeled interval (or point event) of one behavior.

    Attributes
    ----------
    behavior
        Behavior name as written in the file.
    start
        Start, in the annotation's unit (seconds or frames from 0).
    stop
        End (exclusive), same unit; equal to ``start`` for a point event.
    point
        True for a point event (an instant, no duration).
    row
        Line of the file the event was read from (1-based), for messages.
    """

    behavior: str
    start: float
    stop: float
    point: bool = False
    row: int | None = None


@dataclass
class Annotation:
    """The labels of one video (and one subject) as one file states them.

    Attributes
    ----------
    source
        The file read.
    format
        Name of the format (``"boris"``, ``"simba"``, ...).
    media
        The video the file names for these labels (a path or name as written), if any.
    subject
        The subject (animal) or channel the labels are of, if the format has subjects.
    behaviors
        Every behavior the file names, in file order (including ones without events).
    unit
        ``"s"`` when ``bouts`` are in seconds, ``"frame"`` when in frames (from 0).
    bouts
        Intervals and point events (interval formats).
    frames
        int8 array (T, len(behaviors)) of 1/0/-1 (per-frame formats), else None.
    fps
        Frame rate the file states (frames of a ``"frame"`` unit file count at this rate;
        None means the video's own rate).
    coverage
        Spans (start, stop) in ``unit`` over which the labels were assessed; None means the
        whole video. Frames outside are left unlabeled (-1).
    other_columns
        True when ``behaviors`` are candidate columns of a table that also holds other data
        (SimBA's pose and feature columns): names the project lacks are then ignored.
    invalid_columns
        Columns of such a table that cannot be behaviors, with the reason (naming the row): an
        error if the project has a behavior of that name.
    notes
        Things the reader decided that the user should hear about.
    """

    source: Path
    format: str
    media: str | None = None
    subject: str | None = None
    behaviors: list[str] = field(default_factory=list)
    unit: Unit = "s"
    bouts: list[Bout] = field(default_factory=list)
    frames: np.ndarray | None = None
    fps: float | None = None
    coverage: list[tuple[float, float]] | None = None
    other_columns: bool = False
    invalid_columns: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        """Number of point events."""
        return sum(1 for b in self.bouts if b.point)


@dataclass
class FittedLabels:
    """An annotation fitted to a video: one row per frame, in the project's behavior order.

    Attributes
    ----------
    values
        int8 array (T, K) of 1/0/-1, ``background`` first. Columns of behaviors the file does
        not name are -1 (see ``mentioned``); background is 1 exactly where every named behavior
        is 0 and no behavior is 1, where all columns are known.
    behaviors
        The project's K behaviors.
    mentioned
        The project behaviors the file names (their columns come from the file).
    n_points
        Point events in the file for this video, and what became of them (``points_mode``).
    points_mode
        ``"frame"`` (each point event labels one frame) or ``"skip"``.
    skipped_behaviors
        Behaviors in the file that the project does not have (skipped on request).
    clipped
        Events that ran past the end of the video and were cut at its last frame.
    """

    values: np.ndarray
    behaviors: list[str]
    mentioned: list[str]
    n_points: int = 0
    points_mode: str = "frame"
    skipped_behaviors: list[str] = field(default_factory=list)
    clipped: int = 0


@dataclass
class LabelExport:
    """What a writer gets: one video's per-frame labels or predictions.

    Attributes
    ----------
    values
        int8 array (T, K) of 1/0/-1, ``background`` first.
    behaviors
        The K behavior names.
    fps
        The video's frame rate.
    video
        The video's file name (``mouse1.mp4``), written where the format names its media.
    kind
        ``"labels"`` (made by a person) or ``"predictions"`` (made by a model).
    probabilities
        float array (T, K) of the model's probabilities, for predictions, if known.
    """

    values: np.ndarray
    behaviors: list[str]
    fps: float
    video: str
    kind: str = "labels"
    probabilities: np.ndarray | None = None

    @property
    def stem(self) -> str:
        """The video's name without its extension."""
        return Path(self.video).stem

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(len(self.values))

    def annotation(self, format: str = "") -> Annotation:
        """The bouts of these values, in frames (see :func:`annotation_from_values`)."""
        return annotation_from_values(self.values, self.behaviors, format=format, media=self.video)


def _where(ann: Annotation, bout: Bout | None = None) -> str:
    if bout is not None and bout.row is not None:
        return f"{ann.source}, row {bout.row}"
    return str(ann.source)


def _to_frame(value: float, unit: Unit, fps: float, file_fps: float | None) -> int:
    if unit == "s":
        return int(np.floor(value * fps + 0.5))
    if file_fps is None or abs(file_fps - fps) < 1e-6:
        return int(np.floor(value + 0.5))
    return int(np.floor(value / file_fps * fps + 0.5))


def check_modes(points: str, unknown: str = "error") -> None:
    """Raise LabelError unless ``points`` and ``unknown`` are known choices."""
    if points not in POINT_MODES:
        raise LabelError(f"points: expected one of {list(POINT_MODES)}, got {points!r}")
    if unknown not in UNKNOWN_MODES:
        raise LabelError(
            f"unknown behaviors: expected one of {list(UNKNOWN_MODES)}, got {unknown!r}"
        )


def fit_annotation(
    ann: Annotation,
    behaviors: list[str],
    n_frames: int,
    fps: float,
    points: str = "frame",
    unknown: str = "error",
) -> FittedLabels:
    """Turn an annotation into one row per video frame, in the project's behavior order.

    Parameters
    ----------
    ann
        What a format reader returned for one video.
    behaviors
        The project's behaviors, ``background`` first.
    n_frames
        Frames in the video.
    fps
        The video's frame rate (converts seconds to frames).
    points
        ``"frame"``: a point event labels the one frame it falls on; ``"skip"``: ignored.
    unknown
        ``"error"``: a behavior the project lacks is an error; ``"skip"``: it is left out.

    Returns
    -------
    FittedLabels
        The per-frame table and what happened on the way.

    Raises
    ------
    LabelError
        Naming the file and row, for unknown behaviors, events outside the video, or a per-frame
        table of another length than the video. Nothing is changed anywhere.
    """
    check_modes(points, unknown)
    if fps <= 0 or not np.isfinite(fps):
        raise LabelError(f"{ann.source}: the video's frame rate is {fps!r}; cannot convert times")
    index = {b: k for k, b in enumerate(behaviors)}
    for name, reason in ann.invalid_columns.items():
        if name in index and name != BACKGROUND:
            raise LabelError(reason)
    named = [b for b in ann.behaviors if b != BACKGROUND]
    if ann.other_columns:
        named = [b for b in named if b in index]
    unknown_names = [b for b in named if b not in index]
    if unknown_names and unknown == "error":
        raise LabelError(
            f"{ann.source}: behavior(s) {unknown_names} are not in the project "
            f"(its behaviors: {behaviors[1:]}); add them with `ethogram behaviors add`, "
            "or skip them with --unknown skip"
        )
    mentioned = [b for b in behaviors[1:] if b in named]
    values = np.full((n_frames, len(behaviors)), -1, dtype=np.int8)
    clipped = 0
    if ann.frames is not None:
        frames = np.asarray(ann.frames)
        if frames.shape[0] != n_frames:
            raise LabelError(
                f"{ann.source}: has {frames.shape[0]} frame rows but the video has {n_frames} "
                "frames; expected one row per frame"
            )
        for j, name in enumerate(ann.behaviors):
            if name in index and name != BACKGROUND:
                values[:, index[name]] = frames[:, j]
    else:
        for name in mentioned:
            values[:, index[name]] = 0
        limit = n_frames + END_TOLERANCE_FRAMES
        for bout in ann.bouts:
            if bout.behavior not in index or bout.behavior == BACKGROUND:
                continue
            if bout.point and points == "skip":
                continue
            start = _to_frame(bout.start, ann.unit, fps, ann.fps)
            stop = start + 1 if bout.point else _to_frame(bout.stop, ann.unit, fps, ann.fps)
            if start < 0:
                raise LabelError(
                    f"{_where(ann, bout)}: {bout.behavior!r} starts before the video "
                    f"({_fmt(bout.start, ann.unit)}); expected times from 0"
                )
            if stop < start:
                raise LabelError(
                    f"{_where(ann, bout)}: {bout.behavior!r} stops ({_fmt(bout.stop, ann.unit)}) "
                    f"before it starts ({_fmt(bout.start, ann.unit)})"
                )
            if start >= limit or (start >= n_frames and not bout.point):
                raise LabelError(
                    f"{_where(ann, bout)}: {bout.behavior!r} at {_fmt(bout.start, ann.unit)} is "
                    f"past the end of the video ({n_frames} frames, {n_frames / fps:.3f} s); "
                    "is it the right video, and the right frame rate?"
                )
            stop = max(stop, start + 1)
            if stop > n_frames:
                if stop > limit:
                    clipped += 1
                stop = n_frames
            start = min(start, n_frames - 1)
            values[start:stop, index[bout.behavior]] = 1
    if ann.coverage is not None:
        covered = np.zeros(n_frames, dtype=bool)
        for start, stop in ann.coverage:
            a = max(_to_frame(start, ann.unit, fps, ann.fps), 0)
            b = min(_to_frame(stop, ann.unit, fps, ann.fps), n_frames)
            covered[a:b] = True
        for name in mentioned:
            values[~covered, index[name]] = -1
    values[:, 0] = background_column(values)
    return FittedLabels(
        values=values,
        behaviors=list(behaviors),
        mentioned=mentioned,
        n_points=ann.n_points,
        points_mode=points,
        skipped_behaviors=unknown_names,
        clipped=clipped,
    )


def background_column(values: np.ndarray) -> np.ndarray:
    """Background from the other columns: 0 if any is 1, 1 if all are 0, else -1 (unknown)."""
    others = np.asarray(values)[:, 1:]
    out = np.full(len(others), -1, dtype=np.int8)
    if others.shape[1] == 0:
        return out
    out[(others == 0).all(axis=1)] = 1
    out[(others == 1).any(axis=1)] = 0
    return out


def _fmt(value: float, unit: Unit) -> str:
    return f"{value:g} s" if unit == "s" else f"frame {value:g}"


def annotation_from_values(
    values: np.ndarray,
    behaviors: list[str],
    source: str | Path = "",
    format: str = "",
    media: str | None = None,
) -> Annotation:
    """The bouts of a per-frame table, in frames (the inverse of :func:`fit_annotation`).

    Background is left out; frames where a behavior is unlabeled (-1) are outside ``coverage``
    (None when every frame is labeled).

    Parameters
    ----------
    values
        int8 array (T, K) of 1/0/-1, ``background`` first.
    behaviors
        The K behavior names.
    source, format, media
        Stored on the annotation.

    Returns
    -------
    Annotation
        Unit ``"frame"``; bouts sorted by start, then behavior order.
    """
    values = np.asarray(values)
    bouts = []
    for k, name in enumerate(behaviors):
        if k == 0 and name == BACKGROUND:
            continue
        for start, stop in _runs(values[:, k] == 1):
            bouts.append((int(start), k, Bout(name, float(start), float(stop))))
    bouts.sort(key=lambda item: (item[0], item[1]))
    labeled = (values >= 0).all(axis=1)
    coverage = None
    if not labeled.all():
        coverage = [(float(a), float(b)) for a, b in _runs(labeled)]
    return Annotation(
        source=Path(source),
        format=format,
        media=media,
        behaviors=[b for b in behaviors if b != BACKGROUND],
        unit="frame",
        bouts=[b for _, _, b in bouts],
        coverage=coverage,
    )


__all__ = [
    "Annotation",
    "Bout",
    "FittedLabels",
    "LabelExport",
    "annotation_from_values",
    "background_column",
    "check_modes",
    "fit_annotation",
]
