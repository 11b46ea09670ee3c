"""The ``export-model`` command: a trained feature extractor to ONNX, for ``--runtime onnx``."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help

HELP = unwrap_help("""Export the networks prediction runs to ONNX, for `predict --runtime onnx`.

The feature extractor of the model (the project's newest sequence model, else its newest feature
extractor, or --model) is written to features.onnx in the feature extractor's folder, with
features.onnx.json recording the checkpoint and settings it came from. `predict --runtime onnx`
runs it with onnxruntime on the CPU, and exports again by itself when the export is missing or
the model changed since, so this command is only needed to export ahead of time (e.g. before
cluster jobs start). --out writes the two files to another folder instead (the runtime looks
for them in the model folder). The sequence model stays in torch: it takes well under 1 % of
the time.

Needs onnx and onnxruntime: pip install 'ethogram\\[onnx]'. See docs/cluster.md.
""")

EPILOG = """Examples:

  ethogram export-model mice_project

  ethogram predict mice_project new_videos/ --runtime onnx
"""


def export_model(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    model: str = typer.Option(
        None, "--model", "-m", help="Model folder (path or name in PROJECT/models)."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Folder for the ONNX files (default: the model folder)."
    ),
) -> None:
    from ethogram.infer.onnx_export import RECORD_NAME, export_feature_model, stale_reason
    from ethogram.infer.predictor import Predictor, resolve_model_dir
    from ethogram.project import Project

    project = Project.open(project_path)
    model_dir = resolve_model_dir(project, model)
    feature_dir = Predictor(model_dir, device="cpu").feature_model_dir
    if out is None and stale_reason(feature_dir) is None:
        typer.echo(f"{feature_dir / 'features.onnx'} is up to date (see {RECORD_NAME})")
        return
    path = export_feature_model(feature_dir, out)
    typer.echo(f"Exported {feature_dir.name} to {path}")


export_model.__doc__ = HELP


def register(app: typer.Typer) -> None:
    """Add the ``export-model`` command to ``app``."""
    app.command("export-model", help=HELP, epilog=EPILOG)(export_model)
