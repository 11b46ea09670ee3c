"""Train a project's stages in order: flow (MotionNet), features, feature extraction, sequence.

:func:`train_project` is what ``ethogram train`` and the GUI's Train action run. Notes (the stage
starting, each stage's model folder and validation score, where to resume after an interruption)
go to the logger ``ethogram.train``; long steps show :mod:`ethogram.progress` bars.

Examples
--------
>>> result = train_project("mice_project", overrides=["train.epochs=10"])  # doctest: +SKIP
>>> result.model_dir("sequence")  # doctest: +SKIP
PosixPath('mice_project/models/250101_120000_sequence_tgmj')
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ethogram.errors import ConfigError, ModelError, ProjectError
from ethogram.models.folder import latest_model_dir, model_stage
from ethogram.readiness import STAGES, why_cannot_train

logger = logging.getLogger("ethogram.train")

__all__ = ["DISTRIBUTED_STAGES", "STAGES", "StageResult", "TrainResult", "train_project"]

# Stages trained by every process with train.devices > 1 (networks on images, where the time
# goes); feature extraction and the small sequence model run in rank 0 alone.
DISTRIBUTED_STAGES = ("flow", "features")


@dataclass
class StageResult:
    """One trained stage: its model folder and the scores in its ``metrics.json``.

    Attributes
    ----------
    stage
        ``flow``, ``features`` or ``sequence``.
    model_dir
        The model folder written.
    val_f1
        Macro F1 on every validation frame at the end of training (None if not recorded).
    best_epoch_val_f1
        Best macro F1 of the per-epoch validations (None if not recorded).
    test_f1
        Macro F1 on the test videos after post-processing (None without test videos).
    figures
        The images in the folder's ``figures/`` (training curves, validation figures).
    validation
        Where validation frames came from: ``videos`` or ``blocks`` (None if not recorded).
    refit
        True if the stage was trained again on every labeled frame after validation.
    """

    stage: str
    model_dir: Path
    val_f1: float | None = None
    best_epoch_val_f1: float | None = None
    test_f1: float | None = None
    figures: list[Path] = field(default_factory=list)
    validation: str | None = None
    refit: bool = False

    @property
    def validation_f1(self) -> float | None:
        """The final validation macro F1, else the best per-epoch one (None if neither)."""
        return self.val_f1 if self.val_f1 is not None else self.best_epoch_val_f1

    def summary(self) -> str:
        """One line: the stage, its folder and its best-known validation (and test) score."""
        line = f"{self.stage}: {self.model_dir}"
        where = {"blocks": " on blocks inside the videos", "videos": " on whole videos"}.get(
            self.validation or "", ""
        )
        if self.val_f1 is not None:
            line += f"  (validation macro F1 {self.val_f1:.3f}{where})"
        elif self.best_epoch_val_f1 is not None:
            line += f"  (best validation macro F1 {self.best_epoch_val_f1:.3f}{where})"
        if self.refit:
            line += "  (refit on every labeled frame)"
        if self.test_f1 is not None:
            line += f"  (test macro F1 {self.test_f1:.3f})"
        return line


@dataclass
class TrainResult:
    """The stages trained by :func:`train_project`, in order."""

    project_root: Path
    stages: list[StageResult] = field(default_factory=list)

    def model_dir(self, stage: str) -> Path | None:
        """The model folder trained for ``stage`` (None if that stage did not run)."""
        found = [s.model_dir for s in self.stages if s.stage == stage]
        return found[-1] if found else None


def stage_result(stage: str, model_dir: str | Path) -> StageResult:
    """The scores of a finished model folder, read from its ``metrics.json``."""
    model_dir = Path(model_dir)
    try:
        metrics = json.loads((model_dir / "metrics.json").read_text())
    except (OSError, json.JSONDecodeError):
        metrics = {}
    epochs = metrics.get("epochs") or []
    scores = [e.get("val_f1_macro") for e in epochs if e.get("val_f1_macro") is not None]
    test = (metrics.get("test") or {}).get("sequence_postprocessed") or {}
    return StageResult(
        stage,
        model_dir,
        val_f1=(metrics.get("val") or {}).get("f1_macro"),  # every validation frame, at the end
        best_epoch_val_f1=max(scores) if scores else None,
        test_f1=test.get("f1_macro"),
        figures=sorted((model_dir / "figures").glob("*.png")),
        validation=(metrics.get("validation") or {}).get("mode"),
        refit="refit" in metrics,
    )


def _flow_model(project, settings) -> Path | None:
    """The MotionNet folder the feature stage should use (None for DIS flow)."""
    if settings.flow.method != "motionnet":
        return None
    if settings.flow.model_dir:
        return Path(settings.flow.model_dir)
    return latest_model_dir(project, "flow", hint=" (or set flow.method=dis)")


def _run_stage(stage, project, settings, resume, feature_dir, progress: bool) -> Path:
    """Run one stage; returns its model folder."""
    if stage == "flow":
        from ethogram.train.flow import train_flow

        return Path(train_flow(project, settings, resume=resume, progress=progress))
    if stage == "features":
        from ethogram.train.features import train_features

        flow_dir = _flow_model(project, settings)
        if flow_dir is not None:
            settings.flow.model_dir = str(flow_dir)
        return Path(train_features(project, settings, resume=resume, progress=progress))
    from ethogram.train.sequence import train_sequence

    return Path(
        train_sequence(
            project, settings, feature_model_dir=feature_dir, resume=resume, progress=progress
        )
    )


def _interrupted_dir(project, stage: str, before: set[Path], resume: Path | None) -> Path | None:
    if resume is not None:
        return resume
    new = [p for p in project.model_dirs(stage) if p not in before]
    for path in reversed(new):
        if (path / "checkpoint.pt").is_file():
            return path
    return None


def _remove_unstarted(model_dirs: list[Path]) -> None:
    """Remove the model folders of a failed stage that hold no checkpoint (nothing to resume)."""
    import shutil

    for path in model_dirs:
        if path.is_dir() and not any(path.glob("*.pt")):
            shutil.rmtree(path, ignore_errors=True)
            logger.info(f"Removed {path}: training stopped before its first checkpoint")


def _resumed_settings(resume: Path, overrides: list[str], settings):
    """The settings of the run ``resume`` was part of (its ``config.yaml``), then ``overrides``.

    Later stages then train as the interrupted run would have. Without a readable
    ``config.yaml`` (not a model folder), ``settings`` are returned as they are.
    """
    from ethogram.config import load_settings, read_settings
    from ethogram.models.folder import CONFIG_NAME

    if not (resume / CONFIG_NAME).is_file():
        return settings
    saved = read_settings(resume / CONFIG_NAME).model_dump(mode="json")
    return load_settings(str(saved.get("preset") or settings.preset), saved, overrides)


def _stages(stage: str | None, resume: Path | None, settings) -> list[str]:
    if resume is not None:
        if not resume.is_dir():
            raise ModelError(f"{resume}: model folder not found")
        resumed_stage = model_stage(resume)
        if stage is not None and stage != resumed_stage:
            raise ConfigError(f"--resume {resume} is a {resumed_stage} model, not {stage}")
        stages = [resumed_stage] if stage else list(STAGES[STAGES.index(resumed_stage) :])
    else:
        stages = [stage] if stage else list(STAGES)
    if stage is None and settings.flow.method != "motionnet" and "flow" in stages:
        stages.remove("flow")
    return stages


def train_project(
    project,
    stage: str | None = None,
    preset: str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    resume: str | Path | None = None,
    device: str | None = None,
    progress: bool = True,
    devices: int | None = None,
    worker_setup: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train one stage of a project, or every stage in order.

    Without ``stage``: flow (only when ``flow.method=motionnet``), features, feature extraction
    for every video, sequence. Each stage writes ``models/<date>_<time>_<stage>_<tag>/``. A stop
    (Ctrl-C, or the process killed) keeps the last finished epoch in that folder's
    ``checkpoint.pt``; ``resume`` continues from it, then runs the later stages (unless ``stage``
    is given) with the settings of the interrupted run (its ``config.yaml``, then
    ``overrides``). A stage that fails before its first checkpoint leaves no model folder.

    Parameters
    ----------
    project
        A :class:`~ethogram.project.Project` or its folder.
    stage
        ``flow``, ``features`` or ``sequence`` (default: every stage).
    preset
        Settings preset (default: the project's).
    overrides
        ``key=value`` settings, applied after the preset and the project's own settings.
    resume
        A model folder to continue from its last checkpoint.
    device
        ``auto``, ``cpu`` or ``cuda`` (default: the settings').
    progress
        Show progress bars and per-epoch lines.
    devices
        Processes training together (``train.devices``; default: the settings'). Above 1, the
        flow and feature networks train with DistributedDataParallel in that many processes on
        this machine, one per GPU (see :mod:`ethogram.train.launch`); feature extraction and
        the sequence model then run in the first process. Under ``torchrun`` the processes are
        torchrun's and this is ignored.
    worker_setup
        With ``devices`` above 1: called with its rank at the start of every new process (e.g.
        to show rank 0's notes on the terminal); a picklable module-level function.

    Returns
    -------
    TrainResult
        The model folder and scores of every stage trained, in order.

    Raises
    ------
    ProjectError
        If the project cannot be trained (see :func:`ethogram.readiness.why_cannot_train`).
    ConfigError, ModelError
        On a bad setting, stage, or model folder to resume.
    DistributedError
        With several devices: the port is in use, or a process failed (named by its rank).
    """
    from ethogram.project import Project

    if not isinstance(project, Project):
        project = Project.open(project)
    if stage is not None and stage not in STAGES:
        raise ConfigError(f"--stage must be one of {', '.join(STAGES)}, got {stage!r}")
    overrides = list(overrides)
    if device is not None:
        overrides.append(f"device={device}")
    if devices is not None:
        overrides.append(f"train.devices={devices}")
    settings = project.settings(preset, overrides)
    resume = Path(resume) if resume is not None else None
    if resume is not None:  # every stage of a resumed run keeps that run's settings
        settings = _resumed_settings(resume, overrides, settings)
    stages = _stages(stage, resume, settings)
    if stages != ["flow"]:
        # a sequence stage alone needs a feature extractor, unless it resumes (its own is kept)
        alone = "sequence" if stages == ["sequence"] and resume is None else None
        reason = why_cannot_train(project, alone)
        if reason is not None:
            raise ProjectError(reason)
    from ethogram.train import distributed, launch

    if not distributed.current().active:
        world = int(os.environ["WORLD_SIZE"]) if launch.under_torchrun() else settings.train.devices
        _check_batches(settings, stages, world)
        if launch.under_torchrun():
            if settings.train.devices not in (1, world) and os.environ["RANK"] == "0":
                logger.warning(f"train.devices={settings.train.devices} is ignored: torchrun "
                               f"started {world} processes")  # fmt: skip
            with launch.torchrun_group(settings.device):
                return _train_stages(project, stages, settings, resume, stage, progress)
        if settings.train.devices > 1 and any(s in DISTRIBUTED_STAGES for s in stages):
            args = (project.root, stage, preset, overrides, resume, progress)
            trained = launch.launch(_train_in_rank, args, devices=settings.train.devices,
                                    device=settings.device, setup=worker_setup)  # fmt: skip
            stages_done = [stage_result(name, model_dir) for name, model_dir in trained]
            return TrainResult(project.root, stages_done)
    return _train_stages(project, stages, settings, resume, stage, progress)


def _check_batches(settings, stages: list[str], world: int) -> None:
    """Every process needs at least one clip of every batch."""
    sizes = {"features": ("train.batch_size", settings.train.batch_size),
             "flow": ("flow.batch_size", settings.flow.batch_size)}  # fmt: skip
    for stage in stages:
        if stage in sizes and sizes[stage][1] < world:
            key, size = sizes[stage]
            raise ConfigError(f"{key}={size} is the total over all devices and must be at least "
                              f"the number of devices ({world})")  # fmt: skip


def _train_in_rank(root, stage, preset, overrides, resume, progress) -> list[tuple[str, str]]:
    """One process of a multi-device run (see :func:`ethogram.train.launch.launch`): the stages
    it trained and their model folders (plain data; the launcher reads their scores)."""
    result = train_project(root, stage, preset, overrides, resume, progress=progress)
    return [(done.stage, str(done.model_dir)) for done in result.stages]


def _train_stages(project, stages, settings, resume, stage, progress) -> TrainResult:
    """Train ``stages`` in order (in this process; as one rank of several, if distributed)."""
    from ethogram.train import distributed

    dist = distributed.current()
    together = [s for s in stages if s in DISTRIBUTED_STAGES] if dist.active else []
    if not dist.is_main:  # the other ranks help train the networks, then end
        progress = False
        stages = together
        logging.getLogger("ethogram").setLevel(logging.ERROR)  # rank 0 tells what happens
    result = TrainResult(project.root)
    feature_dir = None
    for current in stages:
        if current == "sequence" and stage is None and feature_dir is not None:
            from ethogram.infer.extract import extract_project

            logger.info("Extracting features of every video")
            extract_project(project, model_dir=feature_dir, progress=progress)
        before = set(project.model_dirs(current))
        made = len(project.created_model_dirs)
        this_resume = resume if resume is not None and current == stages[0] else None
        logger.info(f"Training stage {current}" + (f" (resuming {resume})" if this_resume else ""))
        try:
            model_dir = _run_stage(current, project, settings, this_resume, feature_dir, progress)
        except BaseException as exc:
            _remove_unstarted(project.created_model_dirs[made:])
            if not isinstance(exc, KeyboardInterrupt):
                raise
            where = _interrupted_dir(project, current, before, this_resume)
            if where is not None:
                logger.warning(
                    f"Training stopped. The last finished epoch is saved in {where}; continue "
                    f"with:\n  ethogram train {project.root} --resume {where}"
                )
            raise
        done = stage_result(current, model_dir)
        result.stages.append(done)
        logger.info(done.summary())
        if current == "features":
            feature_dir = model_dir
        if current == "flow":
            settings.flow.model_dir = str(model_dir)
        if together and current == together[-1]:
            distributed.leave()  # rank 0 goes on alone
    return result
