"""Functions that tests run in every process of a multi-process training (they must be importable
by module name: :func:`ethogram.train.launch.launch` starts fresh processes). What they return
is plain data, as ``launch`` requires: model folders as str, tensors as nested lists.

Those that patch a class (to watch every step) leave it patched: run them only in the processes
``launch`` starts, except :func:`first_step_gradients`, which restores what it patched.
"""

from __future__ import annotations

import hashlib


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
    from ethogram.train import feature_trainer, features
    from ethogram.train.distributed import current

    steps: list[list[str]] = []
    original_init = feature_trainer.FeatureTrainer.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        step = self.optimizer.step

        def checked_step(*a, **k):
            out = step(*a, **k)
            steps.append(current().gather(parameters_digest(self.model)))
            return out

        self.optimizer.step = checked_step

    feature_trainer.FeatureTrainer.__init__ = init
    project = Project.open(root)
    settings = project.settings("fast", overrides)
    model_dir = features.train_features(project, settings, progress=False)
    return {"model_dir": str(model_dir), "steps": steps, "world": current().world_size}


def train_flow_gathering_digests(root: str, overrides: list[str]) -> dict:
    """Train a MotionNet; after every optimizer step, gather every rank's weight digest."""
    import torch

    from ethogram.project import Project
    from ethogram.train.distributed import current
    from ethogram.train.flow import train_flow

    steps: list[list[str]] = []
    original_step = torch.optim.Adam.step

    def checked_step(self, *args, **kwargs):
        out = original_step(self, *args, **kwargs)
        weights = torch.nn.ParameterList([p for g in self.param_groups for p in g["params"]])
        steps.append(current().gather(parameters_digest(weights)))
        return out

    torch.optim.Adam.step = checked_step
    project = Project.open(root)
    model_dir = train_flow(project, project.settings("fast", overrides), progress=False)
    return {"model_dir": str(model_dir), "steps": steps}


class _FirstStepDone(Exception):
    pass


def first_step_gradients(root: str, overrides: list[str]) -> dict[str, list]:
    """The gradients of the feature stage's first optimizer step (after DDP averaged them), as
    nested lists."""
    from ethogram.project import Project
    from ethogram.train import feature_trainer, features

    grads: dict[str, list] = {}
    original_init = feature_trainer.FeatureTrainer.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)

        def capture(*a, **k):
            grads.update({n: p.grad.tolist() for n, p in self.model.named_parameters()
                          if p.grad is not None})  # fmt: skip
            raise _FirstStepDone

        self.optimizer.step = capture

    feature_trainer.FeatureTrainer.__init__ = init
    try:
        project = Project.open(root)
        features.train_features(project, project.settings("fast", overrides), progress=False)
    except _FirstStepDone:
        pass
    finally:
        feature_trainer.FeatureTrainer.__init__ = original_init
    return grads


def train_features_with_falling_validation(root: str, overrides: list[str]) -> dict:
    """Train the feature stage while rank 0's validation F1 only falls (early stopping must end
    every rank together); the model folder and the epochs each rank trained."""
    from ethogram.project import Project
    from ethogram.train import feature_trainer, features
    from ethogram.train.distributed import current

    trained: list[int] = []
    original_train, original_validate = (
        feature_trainer.FeatureTrainer.train_epoch,
        feature_trainer.FeatureTrainer.validate,
    )

    def train_epoch(self, epoch):
        trained.append(epoch)
        return original_train(self, epoch)

    def validate(self, epoch):
        return {**original_validate(self, epoch), "val_f1_macro": 1.0 - 0.1 * epoch}

    feature_trainer.FeatureTrainer.train_epoch = train_epoch
    feature_trainer.FeatureTrainer.validate = validate
    project = Project.open(root)
    model_dir = features.train_features(
        project, project.settings("fast", overrides), progress=False
    )
    return {"model_dir": str(model_dir), "trained": current().gather(trained)}


def train_features_in_rank(root: str, overrides: list[str]) -> str:
    """Train the feature stage of the project at ``root``; the model folder."""
    from ethogram.project import Project
    from ethogram.train.features import train_features

    project = Project.open(root)
    return str(train_features(project, project.settings("fast", overrides), progress=False))


def count_with_a_bar_and_log(n_steps: int) -> int:
    """Every rank: a progress bar of ``n_steps`` steps and one log line naming the rank."""
    import logging

    from ethogram.progress import progress_bar
    from ethogram.train.distributed import current

    rank = current().rank
    with progress_bar(n_steps, f"steps of rank {rank}", True) as advance:
        for _ in range(n_steps):
            advance(1)
    logging.getLogger("ethogram.train").info(f"rank {rank} counted {n_steps} steps")
    current().barrier()
    return rank


def fail_on_rank(rank: int, message: str) -> str:
    """Raise on ``rank`` (after the others reached a collective step), return elsewhere."""
    from ethogram.errors import LabelError
    from ethogram.train.distributed import current

    dist = current()
    if dist.rank == rank:
        raise LabelError(message)
    dist.barrier()  # the failing rank never gets here: the launcher must stop this one
    return "done"


def synced_batchnorm_on_a_share(seed: int = 0) -> dict:
    """Run a :class:`SyncedBatchNorm` on this rank's share of a fixed batch (train mode, with
    gradients); return the output rows, the input gradient rows and the running statistics
    (every rank's, on rank 0)."""
    import torch

    from ethogram.train.batchnorm_sync import SyncedBatchNorm
    from ethogram.train.distributed import current

    dist = current()
    batch = torch.randn(7, 3, 4, 4, generator=torch.Generator().manual_seed(seed)) * 2 + 1
    share = dist.shard(batch).clone().requires_grad_(True)
    layer = SyncedBatchNorm(3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, 0.5, 2.0]))
    out = layer(share)
    weights = dist.shard(torch.arange(batch.numel()).view_as(batch).float())
    (out * weights).sum().backward()
    return dist.gather(
        {
            "out": out.detach().tolist(),
            "grad": share.grad.tolist(),
            "mean": layer.running_mean.tolist(),
            "var": layer.running_var.tolist(),
        }  # fmt: skip
    )


def model_folder_as_path() -> dict:
    """A result that is not plain data: a model folder as a :class:`~pathlib.Path`."""
    from pathlib import Path

    return {"model_dir": Path("models/250101_120000_features_resnet18")}
