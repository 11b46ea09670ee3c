"""``ethogram summarize``: time budgets, bouts and ethogram figures for many videos."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from ethogram.errors import ConfigError, ProjectError, VideoError

CONFIG_NAME = "project_config.yaml"


def _project_inputs(target: Path, fps: float | None, labels: bool):
    """SummaryInputs for a project's videos, and the names of videos skipped (no CSV)."""
    from ethogram.project import Project
    from ethogram.summarize import SummaryInput, check_fps

    project = Project.open(target)
    inputs, skipped = [], []
    for record in project.videos:
        csv_path = record.labels_path if labels else record.predictions_path
        if not csv_path.is_file():
            skipped.append(record.stem)
            continue
        try:
            info = record.info()
        except VideoError as exc:
            if fps is None:
                raise VideoError(f"{exc}; give the frame rate with --fps instead") from None
            info = None  # the CSV's length cannot be checked
        rate = fps if fps is not None else check_fps(info.fps, f"{record.video_path}: frame rate")
        n_frames = info.n_frames if info is not None else None
        inputs.append(SummaryInput(record.stem, csv_path, rate, n_frames))
    if not inputs:
        what = "_labels.csv" if labels else "_predictions.csv"
        hint = (
            "label videos first"
            if labels
            else f"run `ethogram predict {target}` first, or use --labels for the human labels"
        )
        raise ProjectError(
            f"{project.root}: none of its {len(project.videos)} video(s) has a <stem>{what}; {hint}"
        )
    return inputs, skipped


def _folder_inputs(target: Path, out: Path, fps: float | None, labels: bool):
    """SummaryInputs for a folder of CSV files."""
    from ethogram.summarize import SummaryInput, video_name

    pattern = "*_labels.csv" if labels else "*_predictions.csv"
    paths = sorted(target.glob(pattern))
    if not paths:
        out_resolved = out.resolve()
        paths = sorted(
            p
            for p in target.glob("*.csv")
            if not p.name.endswith("_bouts.csv") and p.resolve() != out_resolved
        )
    if not paths:
        raise ProjectError(
            f"{target}: no {pattern} (or other .csv) files; expected a project folder "
            f"(with {CONFIG_NAME}) or a folder of DeepEthogram label/prediction CSVs"
        )
    if fps is None:
        raise ConfigError(
            f"--fps is required to summarize a folder of CSV files ({target}): the frame rate "
            "cannot be read from a CSV; e.g. --fps 30"
        )
    return [SummaryInput(video_name(p), p, fps) for p in paths], []


def _fmt(value: float, digits: int = 2) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.{digits}f}")
    )


def _print_table(summary, title: str) -> None:
    from rich.table import Table

    from ethogram.cli.console import output_console

    table = Table(title=title)
    for column in ("video", "behavior", "time (s)", "% time", "bouts", "mean bout (s)"):
        table.add_column(column, justify="left" if column in ("video", "behavior") else "right")
    for column in ("median bout (s)", "latency (s)"):
        table.add_column(column, justify="right")
    for row in summary.itertuples(index=False):
        percent = "-" if math.isnan(row.fraction) else f"{100 * row.fraction:.1f}"
        table.add_row(
            str(row.video),
            str(row.behavior),
            _fmt(row.total_s),
            percent,
            str(row.n_bouts),
            _fmt(row.mean_bout_s),
            _fmt(row.median_bout_s),
            _fmt(row.latency_s),
        )
    output_console().print(table)


def summarize(
    target: Path = typer.Argument(
        ...,
        metavar="PROJECT|DIR",
        help="A project folder (ethogram or DeepEthogram), or a folder of *_predictions.csv "
        "(else *.csv) files.",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Summary CSV to write; bouts/<video>_bouts.csv and figures/<video>_ethogram.png "
        "are written beside it.",
    ),
    fps: float = typer.Option(
        None,
        "--fps",
        help="Frame rate. Required for a folder of CSVs; for a project it replaces the rate "
        "read from each video.",
    ),
    labels: bool = typer.Option(
        False, "--labels", help="Summarize the human labels (<stem>_labels.csv), not predictions."
    ),
    background: bool = typer.Option(
        False, "--background", help="Also summarize 'background' (time with no behavior)."
    ),
    figures: bool = typer.Option(
        True, "--figures/--no-figures", help="Draw an ethogram figure per video."
    ),
) -> None:
    """Time budget and bouts per video and behavior, and an ethogram figure per video.

    summary.csv: one row per video and behavior (time, fraction, bouts, latency).

    bouts/<video>_bouts.csv: every bout, end_frame inclusive. See docs/summaries.md.

    Example: ethogram summarize mice_project --out results/summary.csv

    Example: ethogram summarize mice_project --labels --out results/labels_summary.csv

    Example: ethogram summarize predictions_dir/ --fps 30 --out predictions_dir/out/summary.csv
    """
    from ethogram.cli.out_paths import check_output_file
    from ethogram.summarize import check_fps, write_summaries

    check_output_file(out, "--out", "summary.csv")

    if not target.exists():
        raise ProjectError(f"{target}: not found; expected a project folder or a folder of CSVs")
    if not target.is_dir():
        raise ProjectError(f"{target}: not a folder; expected a project folder or a folder of CSVs")
    if fps is not None:
        fps = check_fps(fps, "--fps")
    is_project = (target / CONFIG_NAME).is_file()
    if is_project:
        inputs, skipped = _project_inputs(target, fps, labels)
    else:
        inputs, skipped = _folder_inputs(target, out, fps, labels)
    kind = "labels" if labels else "predictions"
    result = write_summaries(inputs, out, include_background=background, figures=figures, kind=kind)
    _print_table(result.summary, f"{kind} of {len(inputs)} video(s) in {target}")
    if skipped:
        shown = ", ".join(skipped[:10]) + (
            f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        )
        typer.echo(f"Skipped {len(skipped)} video(s) without {kind}: {shown}")
    typer.echo(f"Wrote {result.summary_path} ({len(result.summary)} rows)")
    typer.echo(f"Bouts: {out.parent / 'bouts'} ({len(result.bouts_paths)} files)")
    if figures:
        typer.echo(f"Figures: {out.parent / 'figures'} ({len(result.figure_paths)} files)")


def register(app: typer.Typer) -> None:
    """Add the ``summarize`` command to the app."""
    app.command("summarize")(summarize)
