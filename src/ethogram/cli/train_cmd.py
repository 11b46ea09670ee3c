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

--devices N trains the flow and feature networks on N GPUs of this machine at once (PyTorch
DistributedDataParallel, one process per GPU; train.batch_size is the total over all of them);
feature extraction and the sequence model then run on one. Started by torchrun, it uses
torchrun's processes instead. Without GPUs, N processes train on the CPU (for tests and CPU
clusters; expect no gain on one machine). See docs/cluster.md, "Multi-GPU training".
""")

EPILOG = """Examples:

  ethogram train mice_project

  ethogram train mice_project --preset medium train.epochs=10

  ethogram train mice_project --stage sequence sequence.epochs=50 sequence.window=240

  ethogram train mice_project --resume mice_project/models/250101_120000_features_resnet18

  ethogram train mice_project --devices 4          # 4 GPUs of this machine

  torchrun --nproc_per_node 4 -m ethogram train mice_project    # the same, started by torchrun
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
    devices: int = typer.Option(
        None,
        "--devices",
        min=1,
        help="Train the flow and feature networks on this many GPUs at once (DDP; default: "
        "train.devices, 1).",
    ),
) -> None:
    import os

    from ethogram.cli.notes import show_notes_in_rank
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
        devices=devices,
        worker_setup=show_notes_in_rank,
    )  # a KeyboardInterrupt is reported by the command line itself
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for every rank
        typer.echo(f"Done. Next: ethogram predict {project.root}")


train.__doc__ = HELP


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""
    app.command("train", help=HELP, epilog=EPILOG)(train)
