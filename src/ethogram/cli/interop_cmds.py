"""``import-labels`` and ``export``: labels to and from BORIS, SimBA, NWB, Bento, bouts tables."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help

FORMAT_NAMES = "deepethogram, boris, boris-aggregated, simba, bouts, bento, nwb"

IMPORT_HELP = unwrap_help(f"""Import labels made in another tool into a project's videos.

Formats: {FORMAT_NAMES}. Without --format, .annot is Bento, .nwb is NWB, and a .csv/.tsv is told
from its header. Each file's labels go to the video it names (BORIS media file, Bento movie, NWB
video), else to the video named like the file (mouse1.csv, mouse1_labels.csv); --video chooses.

Every file is checked before anything is written: a malformed file, an unknown video or behavior,
or an event past the end of its video is an error naming the file and row, and nothing changes.

--mode merge (default) keeps a video's labels of the behaviors a file does not name; --mode
replace drops them. A video without labels gets the project's other behaviors marked absent.
The old label file is backed up (DATA/<video>/backups/). See docs/formats.md.
""")

IMPORT_EPILOG = """Examples:

  ethogram import-labels mice_project boris_export.tsv --subject mouse1

  ethogram import-labels mice_project annotations/*.annot --points skip

  ethogram import-labels mice_project session3.csv --format simba --video session3 --mode replace
"""

EXPORT_HELP = unwrap_help(f"""Export the labels (or predictions) of every video to a folder.

Formats: {FORMAT_NAMES}. One file per video that has labels (or predictions); videos without are
listed as skipped. Predictions also carry the model's probabilities where the format has room
(SimBA's Probability_<behavior> columns). See docs/formats.md.
""")

EXPORT_EPILOG = """Examples:

  ethogram export mice_project --format boris --out exports/boris

  ethogram export mice_project --format nwb --out exports/nwb --what predictions
"""


def _join(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def import_labels_cmd(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Label files to import."),
    format: str = typer.Option(
        None, "--format", "-f", help=f"Format of every file: {FORMAT_NAMES}. Default: detected."
    ),
    video: str = typer.Option(
        None, "--video", help="The project video (name) the labels are for. Default: as named."
    ),
    subject: str = typer.Option(
        None, "--subject", help="The subject (BORIS) or channel (Bento) to import."
    ),
    points: str = typer.Option(
        "frame", "--points", help="Point events: 'frame' (label one frame) or 'skip'."
    ),
    mode: str = typer.Option(
        "merge", "--mode", help="'merge' with existing labels, or 'replace' them."
    ),
    unknown: str = typer.Option(
        "error",
        "--unknown",
        help="Behaviors the project lacks: 'error' (default) or 'skip' them.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing."),
) -> None:
    from ethogram.interop import import_labels
    from ethogram.project import Project

    project = Project.open(project_path)
    results = import_labels(
        project,
        files,
        format=format,
        video=video,
        subject=subject,
        points=points,
        mode=mode,
        unknown=unknown,
        dry_run=dry_run,
    )
    for r in results:
        who = f", subject {r.subject!r}" if r.subject else ""
        typer.echo(f"{r.source} ({r.format}{who}) -> {r.video}")
        counts = ", ".join(f"{b} {n}" for b, n in r.frames_present.items())
        typer.echo(f"  behaviors from the file: {_join(r.behaviors)}; frames present: {counts}")
        typer.echo(f"  labeled frames: {r.labeled_frames} of {r.n_frames}")
        if r.absent:
            typer.echo(f"  not in the file, marked absent: {_join(r.absent)}")
        if r.n_points:
            what = "one frame each" if r.points_mode == "frame" else "skipped"
            typer.echo(f"  point events: {r.n_points} ({what}; --points frame|skip)")
        if r.skipped_behaviors:
            typer.echo(f"  skipped behaviors not in the project: {_join(r.skipped_behaviors)}")
        if r.clipped:
            typer.echo(f"  events cut at the end of the video: {r.clipped}")
        for note in r.notes:
            typer.echo(f"  {note}")
        if r.backup is not None:
            typer.echo(f"  previous labels backed up to {r.backup}")
    videos = sorted({r.video for r in results})
    if dry_run:
        typer.echo(f"Dry run: {len(videos)} video(s) would be labeled; nothing written.")
    else:
        typer.echo(f"Imported {len(results)} label set(s) into {len(videos)} video(s) ({mode}).")


def export_cmd(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    format: str = typer.Option(..., "--format", "-f", help=f"Format: {FORMAT_NAMES}."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the files to."),
    what: str = typer.Option("labels", "--what", help="'labels' (human labels) or 'predictions'."),
) -> None:
    from ethogram.interop import export_project
    from ethogram.project import Project

    project = Project.open(project_path)
    results = export_project(project, format, out, what=what)
    written = [r for r in results if r.path is not None]
    skipped = [r for r in results if r.path is None]
    for r in written:
        typer.echo(f"{r.video} -> {r.path}")
        for note in r.notes:
            typer.echo(f"  {note}")
    if skipped:
        typer.echo(
            f"Skipped {len(skipped)} video(s) without {what}: {_join([r.video for r in skipped])}"
        )
    typer.echo(f"Exported {len(written)} video(s) to {out} ({format}, {what}).")


def register(app: typer.Typer) -> None:
    """Add the ``import-labels`` and ``export`` commands to ``app``."""
    app.command("import-labels", help=IMPORT_HELP, epilog=IMPORT_EPILOG)(import_labels_cmd)
    app.command("export", help=EXPORT_HELP, epilog=EXPORT_EPILOG)(export_cmd)
