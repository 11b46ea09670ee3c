"""The ``evaluate`` command: predictions against labels, as numbers, figures and a report."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help
from ethogram.errors import EthogramError

HELP = unwrap_help("""Compare predictions with human labels: metrics.json, figures/ and report.html.

Two ways to call it:

  ethogram evaluate PROJECT
      the test videos of the newest model's split

  ethogram evaluate --labels DIR --predictions DIR --out DIR
      any label and prediction CSVs, paired by video name

In a project, labels are DATA/<video>/<video>_labels.csv and predictions
<video>_predictions.csv; probabilities (for AUROC, AP and the curves) come from the model's
group in <video>_outputs.h5. In folders, files pair by video name: <video>.csv or
<video>_labels.csv with <video>.csv or <video>_predictions.csv.

Frames labeled -1 (unlabeled) are left out of every number.
""")

EPILOG = """Examples:

  ethogram evaluate mice_project

  ethogram evaluate mice_project --split val --model mice_project/models/250101_120000_sequence

  ethogram evaluate --labels labels/ --predictions predictions/ --out evaluation/ --fps 25
"""


def _fmt(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def print_summary(result: dict, out_dir: Path) -> None:
    """Print the per-behavior table and the overall numbers with rich."""
    from rich.table import Table

    from ethogram.cli.console import output_console

    table = Table(
        title=f"{result['n_videos']} video(s), {result['n_frames_labeled']} labeled frames"
    )
    for name in ("Behavior", "Precision", "Recall", "F1", "AUROC", "AP", "Seg. F1@50", "Support"):
        table.add_column(name, justify="left" if name == "Behavior" else "right")
    for row in result["per_class"]:
        table.add_row(
            row["name"],
            *(_fmt(row[k]) for k in ("precision", "recall", "f1", "auroc", "ap")),
            _fmt(row["segmental_f1@0.50"]),
            str(row["support"]),
        )
    console = output_console()
    console.print(table)
    o = result["overall"]
    seg = "/".join(_fmt(v, 2) for v in o["segmental_f1"].values())
    console.print(
        f"Macro F1 {_fmt(o['f1_macro'])} (without background {_fmt(o['f1_macro_no_background'])})"
        f", accuracy {_fmt(o['accuracy_exact'])}, mAP {_fmt(o['ap_macro'])}, "
        f"segmental F1@10/25/50 {seg}, edit {_fmt(o['edit'], 1)}"
    )
    console.print(f"Report: {out_dir / 'report.html'}", soft_wrap=True)


def evaluate(
    project: Path = typer.Argument(
        None, metavar="PROJECT", help="Project folder (or use --labels/--predictions)."
    ),
    labels: Path = typer.Option(None, "--labels", help="Folder of label CSVs."),
    predictions: Path = typer.Option(None, "--predictions", help="Folder of prediction CSVs."),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Output folder. Default: PROJECT/evaluation/<model name>, or ./evaluation.",
    ),
    fps: float = typer.Option(
        None, "--fps", help="Frames per second for durations. Default: the video's, else 30."
    ),
    model: str = typer.Option(
        None, "--model", help="Model folder (path or name in PROJECT/models). Default: latest."
    ),
    split: str = typer.Option(
        None, "--split", help="Videos to evaluate: test, val, train or all. Default: test."
    ),
) -> None:
    from ethogram import evaluate as ev
    from ethogram.cli.out_paths import check_output_folder

    if project is not None and (labels is not None or predictions is not None):
        raise EthogramError("give either PROJECT or --labels/--predictions, not both")
    if fps is not None and not fps > 0:
        raise EthogramError(f"--fps: expected a positive frame rate, got {fps}")
    warnings: list[str] = []
    if project is None:
        if labels is None or predictions is None:
            raise EthogramError(
                "give a PROJECT folder, or both --labels DIR and --predictions DIR "
                "(see ethogram evaluate --help)"
            )
        if model is not None or split is not None:
            raise EthogramError("--model and --split need a PROJECT folder")
        pairs, names, warnings = ev.load_folder_pairs(labels, predictions, fps=fps)
        out_dir = out or Path("evaluation")
        model_dir, thresholds = ev.folder_model(predictions, [p.name for p in pairs], names)
        kwargs = {
            "source": {"labels": labels.resolve(), "predictions": predictions.resolve()},
            "model_dir": model_dir,
            "thresholds": thresholds,
        }
        if model_dir is not None:
            kwargs["source"]["model"] = model_dir
    else:
        found = ev.load_project_pairs(project, model=model, split=split, fps=fps)
        pairs, names, warnings = found.pairs, found.behaviors, found.warnings
        model_name = found.model_dir.name if found.model_dir else "predictions"
        out_dir = out or Path(project) / "evaluation" / model_name
        kwargs = {
            "model_dir": found.model_dir,
            "thresholds": found.thresholds,
            "source": {
                "project": Path(project).resolve(),
                "model": found.model_dir,
                "split": f"{found.split}"
                + (f" ({found.split_source})" if found.split_source else ""),
            },
        }
    check_output_folder(out_dir)
    for message in warnings:
        typer.secho(f"warning: {message}", fg="yellow", err=True)
    missing_fps = [p.name for p in pairs if p.fps is None]
    if missing_fps and fps is None:
        typer.secho(
            f"note: frame rate unknown for {len(missing_fps)} video(s); using 30 fps (set --fps)",
            fg="yellow",
            err=True,
        )
    result = ev.write_evaluation(
        pairs, names, out_dir, fps=fps or 30.0, title="ethogram evaluation", **kwargs
    )
    print_summary(result, out_dir)


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to ``app``."""
    app.command("evaluate", help=HELP, epilog=EPILOG)(evaluate)
