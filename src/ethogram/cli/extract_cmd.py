"""The ``extract`` command: run a trained feature extractor over a project's videos."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help

HELP = unwrap_help("""Extract per-frame features, logits and probabilities of a project's videos.

Each video is decoded once; its optical flow and both streams of the feature extractor run on
it, and the results go to DATA/<video>/<video>_outputs.h5 in DeepEthogram's layout: a group named
after the spatial network (e.g. resnet18) with P, logits, spatial_features, flow_features,
thresholds and class_names. Other groups of the file (e.g. a sequence model's) are kept.

Without VIDEO arguments every video of the project is processed. Videos that already hold this
model's complete features are skipped (--overwrite redoes them). The file is replaced only when a
video is finished, so an interrupted run never leaves a broken file; run the command again to
continue.

The model is the project's newest feature extractor, or --model.
""")

EPILOG = """Examples:

  ethogram extract mice_project

  ethogram extract mice_project session1 session2 --overwrite

  ethogram extract mice_project --model mice_project/models/250101_120000_features_resnet18
"""


def extract(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    videos: list[str] = typer.Argument(
        None, metavar="[VIDEO]...", help="Names of project videos (default: all)."
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="Feature model folder (path or name in PROJECT/models)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Extract again videos that already have these features."
    ),
) -> None:
    from ethogram.infer.extract import extract_project
    from ethogram.models.folder import find_model_dir
    from ethogram.project import Project

    project = Project.open(project_path)
    paths = extract_project(
        project,
        model_dir=find_model_dir(project, model) if model is not None else None,
        videos=videos or None,
        overwrite=overwrite,
        progress=True,
    )
    typer.echo(f"features of {len(paths)} video(s) in {project.data_dir}")


def register(app: typer.Typer) -> None:
    """Add the ``extract`` command to ``app``."""
    app.command("extract", help=HELP, epilog=EPILOG)(extract)
