"""The ``train`` command: train one stage of a project, or every stage in order."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help

HELP = unwrap_help("""
Train a project's models: optical flow (MotionNet), feature extractor, sequence model.

Without --stage every stage runs in order: flow (only when flow.method=motionnet; DIS flow needs
no training), features, feature extraction for every video, sequence. Each stage writes a folder
models/<date_time>_<stage>_<tag>/ with config.yaml, checkpoints, metrics.json and figures/.

Settings come from the preset, then the project's project_config.yaml, then key=value arguments
(train.epochs=3 features.arch=resnet18 sequence.window=180).

Ctrl-C stops training without damaging any file: the last finished epoch stays in checkpoint.pt,
and --resume DIR continues from it (then runs the later stages, unless --stage is given).
""")

EPILOG = """Examples:

  ethogram train mice_project

  ethogram train mice_project --preset medium train.epochs=10

  ethogram train mice_project --stage sequence sequence.epochs=50 sequence.window=240

  ethogram train mice_project --resume mice_project/models/250101_120000_features_resnet18
"""


def train(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="Project folder."),
    overrides: list[str] = typer.Argument(
        None, metavar="[KEY=VALUE]...", help="Settings, e.g. train.epochs=3 sequence.window=180."
    ),
    stage: str = typer.Option(
        None, "--stage", "-s", help="Only this stage: flow, features or sequence."
    ),
    preset: str = typer.Option(
        None, "--preset", "-p", help="Settings preset: fast, medium, slow (default: the project's)."
    ),
    resume: Path = typer.Option(
        None, "--resume", help="Continue an interrupted model folder from its last checkpoint."
    ),
    device: str = typer.Option(None, "--device", help="auto, cpu or cuda (default: auto)."),
) -> None:
    from ethogram.project import Project
    from ethogram.train.pipeline import train_project

    project = Project.open(project_path)
    # its notes (logger ethogram.train) are printed by the command line (ethogram.cli.notes)
    train_project(
        project,
        stage=stage,
        preset=preset,
        overrides=list(overrides or []),
        resume=resume,
        device=device,
        progress=True,
    )  # a KeyboardInterrupt is reported by the command line itself
    typer.echo(f"Done. Next: ethogram predict {project.root}")


train.__doc__ = HELP


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""
    app.command("train", help=HELP, epilog=EPILOG)(train)
