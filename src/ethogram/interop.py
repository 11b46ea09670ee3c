"""Import labels made in other tools into a project, and export a project's labels to them.

>>> results = import_labels(project, ["session1_boris.csv"], subject="mouse1")  # doctest: +SKIP
>>> export_project(project, "nwb", "exports/")  # doctest: +SKIP

Importing checks every file against the project before it writes anything: a malformed file, a
video that cannot be matched, a behavior the project lacks, an event past the end of its video,
each raise an :class:`~ethogram.errors.EthogramError` naming the file (and row) and leave the
project as it was. Labels are then written through :meth:`Project.write_labels`, which backs up
the file it replaces.

``mode="merge"`` (the default) keeps a video's existing labels of the behaviors a file does not
name and takes the file's labels for the behaviors it names; ``mode="replace"`` drops the old
labels. A video without labels gets the file's labels, with the project's other behaviors marked
absent on every frame the file labels (a BORIS or Bento file lists what happened; what it does
not list did not).

This module imports neither torch nor Qt (the GUI can call it).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ethogram.errors import LabelError, ProjectError
from ethogram.io.annotation import (
    Annotation,
    FittedLabels,
    LabelExport,
    background_column,
    check_modes,
    fit_annotation,
)
from ethogram.io.formats import (
    export_file_name,
    get_format,
    media_stem,
    read_annotations,
    select_subject,
    write_labels_file,
)

MODES = ("merge", "replace")
WHAT = ("labels", "predictions")
# file name endings that ethogram and DeepEthogram add to a video's name
NAME_SUFFIXES = ("_boris_aggregated", "_boris", "_labels", "_predictions", "_bouts")


@dataclass
class ImportResult:
    """What importing one file did to one video.

    Attributes
    ----------
    source
        The file imported.
    format
        Its format.
    video
        The project video (stem) it was matched to.
    subject
        The subject (or channel) taken from the file, if it has subjects.
    mode
        ``merge`` or ``replace``.
    behaviors
        Project behaviors whose labels came from the file.
    absent
        Project behaviors the file does not name, marked absent (the video had no labels).
    frames_present
        Frames labeled present, per behavior (after the import).
    labeled_frames, n_frames
        Frames with every behavior labeled, and frames in the video.
    n_points, points_mode
        Point events in the file for this video, and what became of them.
    skipped_behaviors
        File behaviors the project lacks (skipped on request).
    clipped
        Events cut at the end of the video.
    backup
        Where the replaced label file was copied, if there was one.
    written
        False for a dry run.
    notes
        What the reader reported (layout, ...).
    """

    source: Path
    format: str
    video: str
    subject: str | None
    mode: str
    behaviors: list[str]
    absent: list[str] = field(default_factory=list)
    frames_present: dict[str, int] = field(default_factory=dict)
    labeled_frames: int = 0
    n_frames: int = 0
    n_points: int = 0
    points_mode: str = "frame"
    skipped_behaviors: list[str] = field(default_factory=list)
    clipped: int = 0
    backup: Path | None = None
    written: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class ExportResult:
    """One video's export: the file written, or why none was."""

    video: str
    path: Path | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


def strip_name_suffix(stem: str) -> str:
    """A file's stem without the endings ethogram adds (``mouse1_labels`` -> ``mouse1``)."""
    for suffix in NAME_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def match_video(stems: list[str], name: str, source: str | Path, what: str = "names") -> str:
    """The project video a media name refers to: same stem, else same stem ignoring case.

    Parameters
    ----------
    stems
        The project's video names.
    name
        A media path or name as a file wrote it (``D:\\\\videos\\\\Mouse1.mp4``).
    source
        The file, for the message.

    Raises
    ------
    ProjectError
        Listing the closest project videos, when none or several match.
    """
    stem = media_stem(name)
    if stem in stems:
        return stem
    folded = [s for s in stems if s.lower() == stem.lower()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(stem, stems, n=5, cutoff=0.5)
    shown = close or stems[:10]
    more = "" if close or len(stems) <= 10 else f" and {len(stems) - 10} more"
    if len(folded) > 1:
        detail = f"which matches several project videos when case is ignored: {folded}"
    else:
        label = "closest" if close else "videos"
        detail = f"which is not a video of the project; {label}: {shown}{more}"
    raise ProjectError(f"{source}: {what} the video {name!r}, {detail}; choose one with --video")


def _assign_videos(
    annotations: list[Annotation], path: Path, stems: list[str], video: str | None
) -> list[tuple[str, Annotation]]:
    if video is not None:
        target = match_video(stems, video, path, what="--video gives")
        if len(annotations) > 1:
            kept = [a for a in annotations if a.media and media_stem(a.media) == media_stem(video)]
            if len(kept) != 1:
                names = sorted({a.media or "?" for a in annotations})
                raise LabelError(
                    f"{path}: has labels of several videos {names}; --video {video!r} matches "
                    f"{'none' if not kept else 'several'} of them"
                )
            annotations = kept
        return [(target, annotations[0])]
    pairs = []
    for ann in annotations:
        if ann.media:
            pairs.append((match_video(stems, ann.media, path), ann))
        else:
            name = strip_name_suffix(path.stem)
            pairs.append((match_video(stems, name, path, what="is named after"), ann))
    seen: dict[str, Annotation] = {}
    for stem, ann in pairs:
        if stem in seen:
            both = "; ".join(", ".join(a.notes) or "?" for a in (seen[stem], ann))
            raise LabelError(
                f"{path}: has two sets of labels for video {stem!r} ({both}); split the file, "
                "or choose one with --subject"
            )
        seen[stem] = ann
    return pairs


def _combine(
    existing: np.ndarray | None, fitted: FittedLabels, mode: str
) -> tuple[np.ndarray, list[str]]:
    """New label values of a video, and the behaviors marked absent because the file lacks them."""
    behaviors = fitted.behaviors
    mentioned = [behaviors.index(b) for b in fitted.mentioned]
    others = [k for k in range(1, len(behaviors)) if k not in mentioned]
    values = fitted.values.copy()
    absent: list[str] = []
    if existing is not None and mode == "merge":
        values[:, others] = existing[:, others]
        # where the file leaves a frame unlabeled (outside its coverage), keep what was there
        values[:, mentioned] = np.where(
            values[:, mentioned] >= 0, values[:, mentioned], existing[:, mentioned]
        )
    elif others:
        covered = (values[:, mentioned] >= 0).all(axis=1)
        values[:, others] = np.where(covered, 0, -1)[:, None]
        absent = [behaviors[k] for k in others]
    values[:, 0] = background_column(values)
    return values, absent


def import_labels(
    project,
    files: list[str | Path],
    format: str | None = None,
    video: str | None = None,
    subject: str | None = None,
    points: str = "frame",
    mode: str = "merge",
    unknown: str = "error",
    dry_run: bool = False,
) -> list[ImportResult]:
    """Import label files made in other tools into a project's videos.

    Parameters
    ----------
    project
        An open :class:`ethogram.project.Project`.
    files
        Label files (any format of :mod:`ethogram.io.formats`).
    format
        Format of every file; None tells each file's format from its extension or header.
    video
        The project video the labels are for; default: the video each file names (BORIS, Bento,
        NWB), else the file's name (``mouse1.csv``, ``mouse1_labels.csv``).
    subject
        The subject (BORIS) or channel (Bento) to import, for files with several.
    points
        ``"frame"``: a point event labels one frame; ``"skip"``: point events are left out.
    mode
        ``"merge"``: keep existing labels of behaviors the file does not name; ``"replace"``:
        drop the video's existing labels.
    unknown
        ``"error"``: a behavior the project lacks is an error; ``"skip"``: it is left out.
    dry_run
        Check and report, write nothing.

    Returns
    -------
    list of ImportResult
        One per file and video, in order.

    Raises
    ------
    EthogramError
        Before anything is written, for the first file that cannot be imported.
    """
    check_modes(points, unknown)
    if mode not in MODES:
        raise LabelError(f"mode: expected one of {list(MODES)}, got {mode!r}")
    if format is not None:
        get_format(format)
    if not files:
        raise LabelError("no label files given")
    stems = [r.stem for r in project.videos]
    if not stems:
        raise ProjectError(
            f"{project.root}: the project has no videos; add them with `ethogram add`"
        )
    behaviors = project.behaviors
    infos: dict[str, tuple[int, float]] = {}
    planned: list[tuple[Path, str, Annotation, FittedLabels]] = []
    for file in files:
        path = Path(file)
        annotations = select_subject(read_annotations(path, format), subject, path)
        for stem, ann in _assign_videos(annotations, path, stems, video):
            if stem not in infos:
                info = project.video(stem).info()
                infos[stem] = (info.n_frames, info.fps)
            n_frames, fps = infos[stem]
            fitted = fit_annotation(ann, behaviors, n_frames, fps, points, unknown)
            if not fitted.mentioned:
                raise LabelError(
                    f"{path}: names none of the project's behaviors {behaviors[1:]} "
                    f"(it has {ann.behaviors})"
                )
            planned.append((path, stem, ann, fitted))
    # Read, merge and write under one hold of the project's lock, so that a label save or a
    # behavior change by another command cannot land between the read and the write.
    with project.lock("import-labels"):
        project.reload()
        current: dict[str, np.ndarray | None] = {}
        results: list[ImportResult] = []
        for path, stem, ann, fitted in planned:
            if stem not in current:
                table = project.read_labels(stem) if mode == "merge" else None
                current[stem] = None if table is None else table.values
                step_mode = mode
            else:
                step_mode = "merge"  # a second file for the same video adds to the first
            values, absent = _combine(current[stem], fitted, step_mode)
            current[stem] = values
            labeled = (values >= 0).all(axis=1)
            results.append(
                ImportResult(
                    source=path,
                    format=ann.format,
                    video=stem,
                    subject=ann.subject,
                    mode=mode,
                    behaviors=list(fitted.mentioned),
                    absent=absent,
                    frames_present={
                        b: int((values[:, k] == 1).sum()) for k, b in enumerate(behaviors) if k
                    },
                    labeled_frames=int(labeled.sum()),
                    n_frames=len(values),
                    n_points=fitted.n_points,
                    points_mode=fitted.points_mode,
                    skipped_behaviors=list(fitted.skipped_behaviors),
                    clipped=fitted.clipped,
                    notes=list(ann.notes),
                )
            )
        if dry_run:
            return results
        backups: dict[str, Path | None] = {}
        for stem, values in current.items():
            backups[stem] = project.write_labels(stem, values, behaviors=behaviors)
    last_for_video = {r.video: r for r in results}
    for result in results:
        result.written = True
        if last_for_video[result.video] is result:
            result.backup = backups[result.video]
    return results


def _probabilities(record, behaviors: list[str]) -> tuple[np.ndarray | None, str | None]:
    """The model probabilities behind a video's predictions, columns in ``behaviors`` order."""
    from ethogram.errors import EthogramError
    from ethogram.io.outputs import PREDICTIONS_ATTR, find_group, read_file_attrs, read_outputs

    path = record.outputs_path
    if not path.is_file():
        return None, f"no {path.name}: probabilities not exported"
    try:
        model_dir = read_file_attrs(path).get(PREDICTIONS_ATTR)
        if not model_dir:
            return (
                None,
                f"{path.name} does not say which model predicted: probabilities not exported",
            )
        group = find_group(path, model_dir)
        if group is None:
            return None, f"{path.name} holds no probabilities of {model_dir}: not exported"
        data = read_outputs(path, group, datasets=["P", "class_names"])
    except EthogramError as exc:
        return None, f"probabilities not exported ({exc})"
    names = list(data["class_names"])
    if sorted(names) != sorted(behaviors):
        return None, f"{path.name} group {group!r} has other classes {names}: not exported"
    order = [names.index(b) for b in behaviors]
    return np.asarray(data["P"], dtype=np.float32)[:, order], None


def export_project(
    project,
    format: str,
    out_dir: str | Path,
    what: str = "labels",
    videos: list[str] | None = None,
) -> list[ExportResult]:
    """Export every video's labels (or predictions) to ``out_dir`` in one format.

    Parameters
    ----------
    project
        An open :class:`ethogram.project.Project`.
    format
        Format name (see :data:`ethogram.io.formats.FORMATS`).
    out_dir
        Folder for the files (created); one file per video, named by the format
        (:func:`ethogram.io.formats.export_file_name`).
    what
        ``"labels"`` (the human labels) or ``"predictions"`` (``<stem>_predictions.csv``, with
        the model's probabilities where the format has room for them).
    videos
        Only these videos (stems); default all.

    Returns
    -------
    list of ExportResult
        One per video; videos without labels (or predictions) are listed as skipped.
    """
    from ethogram.io.labels import read_labels

    fmt = get_format(format)
    if what not in WHAT:
        raise LabelError(f"what: expected one of {list(WHAT)}, got {what!r}")
    records = project.videos if videos is None else [project.video(s) for s in videos]
    if not records:
        raise ProjectError(f"{project.root}: the project has no videos to export")
    out_dir = Path(out_dir)
    data_dir = project.data_dir.resolve()
    if out_dir.resolve() == data_dir or data_dir in out_dir.resolve().parents:
        raise ProjectError(
            f"{out_dir}: is inside the project's {project.data_dir.name}/ folder, where exported "
            "files could replace the project's own; export to a folder outside it"
        )
    results = []
    for record in records:
        if what == "labels":
            table = project.read_labels(record.stem)
        else:
            path = record.predictions_path
            table = read_labels(path) if path.is_file() else None
        if table is None:
            results.append(ExportResult(record.stem, skipped=f"no {what}"))
            continue
        info = record.info()
        if len(table.values) != info.n_frames:
            raise LabelError(
                f"{table.path}: has {len(table.values)} rows but {record.video_path.name} has "
                f"{info.n_frames} frames"
            )
        notes = []
        probabilities = None
        if what == "predictions":
            probabilities, note = _probabilities(record, list(table.behaviors))
            notes += [note] if note else []
        export = LabelExport(
            values=table.values,
            behaviors=list(table.behaviors),
            fps=info.fps,
            video=record.video_path.name,
            kind=what,
            probabilities=probabilities,
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        kind = "labels" if what == "labels" else "predictions"
        target = out_dir / export_file_name(fmt.name, record.stem, kind)
        written = write_labels_file(target, export, fmt.name)
        results.append(ExportResult(record.stem, path=written, notes=notes))
    return results


__all__ = [
    "ExportResult",
    "ImportResult",
    "export_project",
    "import_labels",
    "match_video",
    "strip_name_suffix",
]
