"""The ``train`` command: train one stage of a project, or every stage in order."""

from __future__ import annotations

from pathlib import Path

import typer

from ethogram.cli.help_text import unwrap_help
from ethogram.errors import ConfigError, ModelError, ProjectError

STAGES = ("flow", "features", "sequence")


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


def _stage_of(model_dir: Path) -> str:
    """The stage of a model folder, from its metrics.json or its name (<date>_<time>_<stage>)."""
    import json

    metrics = model_dir / "metrics.json"
    if metrics.is_file():
        try:
            stage = json.loads(metrics.read_text()).get("stage")
        except json.JSONDecodeError:
            stage = None
        if stage in STAGES:
            return stage
    parts = model_dir.name.split("_")
    if len(parts) >= 3 and parts[2] in STAGES:
        return parts[2]
    raise ModelError(
        f"{model_dir}: cannot tell which stage this model folder is (expected a name like "
        "<date>_<time>_<stage>_<tag> with stage flow, features or sequence)"
    )


def _check_labeled(project) -> None:
    if not project.videos:
        raise ProjectError(
            f"{project.root}: the project has no videos; add some with `ethogram add "
            f"{project.root} VIDEO...`"
        )
    if not project.labeled_videos():
        raise ProjectError(
            f"{project.root}: no labeled videos; add label CSVs (`ethogram add PROJECT VIDEO "
            "--labels CSV`) or label frames in the GUI before training"
        )


def _flow_model(project, settings):
    """The MotionNet folder the feature stage should use (None for DIS flow)."""
    if settings.flow.method != "motionnet":
        return None
    if settings.flow.model_dir:
        return Path(settings.flow.model_dir)
    latest = project.latest_model("flow")
    if latest is None:
        raise ModelError(
            f"{project.root}: flow.method is motionnet but no trained MotionNet is in "
            f"{project.models_dir}; run `ethogram train {project.root} --stage flow` first "
            "(or set flow.method=dis)"
        )
    return latest


def _run_stage(stage, project, settings, resume, feature_dir):
    """Run one stage; returns its model folder."""
    if stage == "flow":
        from ethogram.flow.train import train_flow

        return train_flow(project, settings, resume=resume, progress=True)
    if stage == "features":
        from ethogram.train.features import train_features

        flow_dir = _flow_model(project, settings)
        if flow_dir is not None:
            settings.flow.model_dir = str(flow_dir)
        return train_features(project, settings, resume=resume, progress=True)
    from ethogram.train.sequence import train_sequence

    return train_sequence(
        project, settings, feature_model_dir=feature_dir, resume=resume, progress=True
    )


def _report(stage: str, model_dir: Path) -> None:
    import json

    line = f"{stage}: {model_dir}"
    try:
        metrics = json.loads((model_dir / "metrics.json").read_text())
    except (OSError, json.JSONDecodeError):
        metrics = {}
    epochs = metrics.get("epochs") or []
    scores = [e.get("val_f1_macro") for e in epochs if e.get("val_f1_macro") is not None]
    final = (metrics.get("val") or {}).get("f1_macro")  # on every validation frame, at the end
    if final is not None:
        line += f"  (validation macro F1 {final:.3f})"
    elif scores:
        line += f"  (best validation macro F1 {max(scores):.3f})"
    test = (metrics.get("test") or {}).get("sequence_postprocessed")
    if test and test.get("f1_macro") is not None:
        line += f"  (test macro F1 {test['f1_macro']:.3f})"
    typer.echo(line)


def _interrupted_dir(project, stage: str, before: set[Path], resume: Path | None) -> Path | None:
    if resume is not None:
        return resume
    new = [p for p in project.model_dirs(stage) if p not in before]
    for path in reversed(new):
        if (path / "checkpoint.pt").is_file():
            return path
    return None


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

    project = Project.open(project_path)
    if stage is not None and stage not in STAGES:
        raise ConfigError(f"--stage must be one of {', '.join(STAGES)}, got {stage!r}")
    overrides = list(overrides or [])
    if device is not None:
        overrides.append(f"device={device}")
    settings = project.settings(preset, overrides)
    if resume is not None:
        if not resume.is_dir():
            raise ModelError(f"{resume}: model folder not found")
        resumed_stage = _stage_of(resume)
        if stage is not None and stage != resumed_stage:
            raise ConfigError(f"--resume {resume} is a {resumed_stage} model, not {stage}")
        stages = [resumed_stage] if stage else list(STAGES[STAGES.index(resumed_stage) :])
    else:
        stages = [stage] if stage else list(STAGES)
    if stage is None and settings.flow.method != "motionnet" and "flow" in stages:
        stages.remove("flow")
    if stages != ["flow"]:
        _check_labeled(project)

    feature_dir = None
    for current in stages:
        if current == "sequence" and stage is None and feature_dir is not None:
            from ethogram.infer.extract import extract_project

            typer.echo("Extracting features of every video")
            extract_project(project, model_dir=feature_dir, progress=True)
        before = set(project.model_dirs(current))
        this_resume = resume if resume is not None and current == stages[0] else None
        typer.echo(f"Training stage {current}" + (f" (resuming {resume})" if this_resume else ""))
        try:
            model_dir = _run_stage(current, project, settings, this_resume, feature_dir)
        except KeyboardInterrupt:
            where = _interrupted_dir(project, current, before, this_resume)
            if where is not None:
                typer.echo(
                    f"Training stopped. The last finished epoch is saved in {where}; continue "
                    f"with:\n  ethogram train {project.root} --resume {where}",
                    err=True,
                )
            raise  # the command line reports the interruption itself
        _report(current, Path(model_dir))
        if current == "features":
            feature_dir = Path(model_dir)
        if current == "flow":
            settings.flow.model_dir = str(model_dir)
    typer.echo(f"Done. Next: ethogram predict {project.root}")


train.__doc__ = HELP


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""
    app.command("train", help=HELP, epilog=EPILOG)(train)
