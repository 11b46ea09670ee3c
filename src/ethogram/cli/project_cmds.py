"""Project commands: ``new``, ``add``, ``remove``, ``info``, ``behaviors``."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.errors import ProjectError


def new(
    path: Path = typer.Argument(..., help="Folder to create."),
    behaviors: str = typer.Option(
        ..., "--behaviors", "-b", help="Comma-separated behavior names (background is added)."
    ),
    preset: str = typer.Option("fast", help="Settings preset: fast, medium or slow."),
    name: str = typer.Option(None, help="Project name (default: the folder name)."),
) -> None:
    """Create a new project folder.

    Example: ethogram new mice_project --behaviors groom,rear,scratch
    """
    from ethogram.project import Project

    project = Project.create(path, behaviors.split(","), name=name, preset=preset)
    typer.echo(f"Created project {project.name!r} at {project.root}")
    typer.echo(f"Behaviors: {', '.join(project.behaviors)}")
    typer.echo(f"Next: ethogram add {project.root} VIDEO...")


def add(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    videos: list[Path] = typer.Argument(
        ..., metavar="VIDEO...", help="Video files (or folders of images) to add."
    ),
    labels: list[Path] = typer.Option(
        None,
        "--labels",
        "-l",
        help="Label CSV, once per video in the same order. Without it, <stem>_labels.csv beside "
        "the video or in a sibling labels/ folder is used.",
    ),
    link: bool = typer.Option(False, "--link", help="Symlink videos instead of copying them."),
) -> None:
    """Add videos (and their labels) to a project.

    Example: ethogram add mice_project videos/*.mp4

    Example: ethogram add mice_project a.mp4 b.mp4 --labels a.csv --labels b.csv
    """
    from ethogram.project import Project, labels_for_video

    project = Project.open(project_path)
    if labels and len(labels) != len(videos):
        raise ProjectError(
            f"got {len(videos)} video(s) but {len(labels)} --labels file(s); "
            "give --labels once per video, in the same order"
        )
    pairs = []
    for i, video in enumerate(videos):
        label = labels[i] if labels else labels_for_video(video)
        pairs.append((video, label))
    added = project.add_videos(pairs, link=link)  # all checked first: all added, or none
    for record, (_, label) in zip(added, pairs, strict=True):
        note = f" with labels {label}" if label else " (no labels)"
        typer.echo(f"Added {record.stem}{note}")
    typer.echo(f"{len(added)} video(s) added to {project.root}")


def remove(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    stems: list[str] = typer.Argument(..., metavar="VIDEO_NAME...", help="Video names (stems)."),
) -> None:
    """Remove videos from a project (their folders are moved to DATA/.removed/).

    Example: ethogram remove mice_project session3
    """
    from ethogram.project import Project

    project = Project.open(project_path)
    for stem in stems:
        project.video(stem)  # check all names first
    for stem in stems:
        dest = project.remove_video(stem)
        typer.echo(f"Removed {stem} (moved to {dest})")


def info(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
) -> None:
    """Show a project's videos, frames, fps, labeled fraction, and frames and bouts per behavior.

    Example: ethogram info mice_project
    """
    from rich.table import Table

    from ethogram.cli.console import output_console
    from ethogram.label_counts import count_bouts, few_bouts, few_bouts_message
    from ethogram.project import Project

    project = Project.open(project_path)
    behaviors = project.behaviors
    table = Table(title=f"{project.name}  ({project.root})")
    for column in ["video", "frames", "fps", "labeled"] + behaviors:
        table.add_column(column, justify="left" if column == "video" else "right")
    totals = {b: 0 for b in behaviors}
    total_frames = total_labeled = 0
    label_arrays = []
    for record in project.videos:
        try:
            meta = record.info()
            frames, fps = meta.n_frames, f"{meta.fps:.2f}"
        except Exception as exc:  # show the problem in the table, keep listing
            table.add_row(record.stem, "?", "?", f"error: {exc}", *[""] * len(behaviors))
            continue
        total_frames += frames
        labels = project.read_labels(record.stem)
        if labels is None:
            table.add_row(record.stem, str(frames), fps, "0%", *["-"] * len(behaviors))
            continue
        label_arrays.append(labels.values)
        labeled = labels.labeled_mask
        total_labeled += int(labeled.sum())
        counts = (labels.values[labeled] == 1).sum(axis=0)
        for b, c in zip(behaviors, counts, strict=True):
            totals[b] += int(c)
        table.add_row(
            record.stem,
            str(frames),
            fps,
            f"{labeled.mean():.0%}" if frames else "0%",
            *[str(int(c)) for c in counts],
        )
    fraction = f"{total_labeled / total_frames:.0%}" if total_frames else "0%"
    table.add_row(
        "total", str(total_frames), "", fraction, *[str(totals[b]) for b in behaviors], style="bold"
    )
    bouts = count_bouts(label_arrays, behaviors)
    table.add_row("bouts", "", "", "", "", *[str(bouts[b]["bouts"]) for b in behaviors[1:]])
    console = output_console()
    console.print(table)
    few = few_bouts(bouts)
    if label_arrays and few:
        console.print(f"Note: {few_bouts_message(few)}", markup=False)
    console.print(f"Preset: {project.preset}   Models: {len(project.model_dirs())}")


behaviors_app = typer.Typer(
    help="Add, rename or remove behaviors (label files are updated, with backups).",
    no_args_is_help=True,
)


@behaviors_app.command("list")
def behaviors_list(project_path: Path = typer.Argument(..., metavar="PROJECT")) -> None:
    """List the project's behaviors.

    Example: ethogram behaviors list mice_project
    """
    from ethogram.project import Project

    for name in Project.open(project_path).behaviors:
        typer.echo(name)


@behaviors_app.command("add")
def behaviors_add(
    project_path: Path = typer.Argument(..., metavar="PROJECT"),
    name: str = typer.Argument(..., help="New behavior name."),
    absent: bool = typer.Option(
        False,
        "--absent",
        help="Mark the new behavior absent (0) in frames already labeled, instead of unlabeled.",
    ),
) -> None:
    """Add a behavior. Existing labels get -1 (not yet labeled) for it unless --absent.

    Example: ethogram behaviors add mice_project scratch --absent
    """
    from ethogram.project import Project

    project = Project.open(project_path)
    project.add_behavior(name, absent=absent)
    typer.echo(f"Added {name!r}. Behaviors: {', '.join(project.behaviors)}")


@behaviors_app.command("rename")
def behaviors_rename(
    project_path: Path = typer.Argument(..., metavar="PROJECT"),
    old: str = typer.Argument(..., help="Current name."),
    new: str = typer.Argument(..., help="New name."),
) -> None:
    """Rename a behavior in the project and all its label files.

    Example: ethogram behaviors rename mice_project groom grooming
    """
    from ethogram.project import Project

    project = Project.open(project_path)
    project.rename_behavior(old, new)
    typer.echo(f"Renamed {old!r} to {new!r}. Behaviors: {', '.join(project.behaviors)}")


@behaviors_app.command("remove")
def behaviors_remove(
    project_path: Path = typer.Argument(..., metavar="PROJECT"),
    name: str = typer.Argument(..., help="Behavior to remove."),
) -> None:
    """Remove a behavior and its label column (labels are backed up first).

    Example: ethogram behaviors remove mice_project scratch
    """
    from ethogram.project import Project

    project = Project.open(project_path)
    project.remove_behavior(name)
    typer.echo(f"Removed {name!r}. Behaviors: {', '.join(project.behaviors)}")


def register(app: typer.Typer) -> None:
    """Add the project commands to ``app``."""
    app.command()(new)
    app.command()(add)
    app.command()(remove)
    app.command()(info)
    app.add_typer(behaviors_app, name="behaviors")
