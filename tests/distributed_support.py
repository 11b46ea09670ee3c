"""Functions that tests run in every process of a multi-process training (they must be importable
by module name: :func:`ethogram.train.launch.launch` starts fresh processes)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def parameters_digest(model) -> str:
    """A digest of every parameter's bytes: equal digests mean bit-identical weights."""
    digest = hashlib.sha256()
    for name, parameter in model.named_parameters():
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def train_features_gathering_digests(root: str, overrides: list[str]) -> dict:
    """Train the feature stage; after every optimizer step, gather every rank's weight digest.

    Returns (on rank 0) the model folder and, per step, the digests of the ranks in rank order.
    """
    from ethogram.project import Project
    from ethogram.train import features
    from ethogram.train.distributed import current

    steps: list[list[str]] = []
    original_init = features._FeatureTrainer.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        step = self.optimizer.step

        def checked_step(*a, **k):
            out = step(*a, **k)
            steps.append(current().gather(parameters_digest(self.model)))
            return out

        self.optimizer.step = checked_step

    features._FeatureTrainer.__init__ = init
    project = Project.open(root)
    settings = project.settings("fast", overrides)
    model_dir = features.train_features(project, settings, progress=False)
    return {"model_dir": Path(model_dir), "steps": steps, "world": current().world_size}


def train_features_in_rank(root: str, overrides: list[str]) -> Path:
    """Train the feature stage of the project at ``root``; the model folder."""
    from ethogram.project import Project
    from ethogram.train.features import train_features

    project = Project.open(root)
    return Path(train_features(project, project.settings("fast", overrides), progress=False))


def fail_on_rank(rank: int, message: str) -> str:
    """Raise on ``rank`` (after the others reached a collective step), return elsewhere."""
    from ethogram.errors import LabelError
    from ethogram.train.distributed import current

    dist = current()
    if dist.rank == rank:
        raise LabelError(message)
    dist.barrier()  # the failing rank never gets here: the launcher must stop this one
    return "done"
