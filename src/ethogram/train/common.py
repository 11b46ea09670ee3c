"""Training machinery shared by every stage: seeding, resume, early stopping, writing
``metrics.json``, the training-curve figure and the epoch loop.

A stage builds its model, optimizer and two callbacks, then hands the epoch loop to :func:`fit`::

    device = choose_device(settings.device)              # ethogram.models.device
    seed_everything(settings.seed)
    result = fit(
        model_dir, model, optimizer,
        epochs=settings.train.epochs,
        train_epoch=lambda epoch: {"train_loss": ...},      # one epoch of training
        validate=lambda epoch: {"val_loss": ..., "val_f1_macro": ...},
        monitor="val_f1_macro", patience=settings.train.patience,
        metrics_header={"stage": "sequence", "class_names": names},
        resume=True,                                        # continue from checkpoint.pt if present
    )

The files of the model folder (``checkpoint.pt``, ``best.pt``, ``metrics.json``) and how they are
read are :mod:`ethogram.models`; ``figures/training_curves.png`` shows losses and the monitored
metric per epoch.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from ethogram.errors import ConfigError, ModelError
from ethogram.io.atomic import atomic_path, atomic_write_text
from ethogram.models.checkpoint import load_training_checkpoint, save_checkpoint
from ethogram.models.folder import BEST_NAME, CHECKPOINT_NAME, CURVES_NAME, METRICS_NAME
from ethogram.train.distributed import current

logger = logging.getLogger(__name__)

__all__ = [
    "EarlyStopping",
    "FitResult",
    "epoch_seed",
    "fit",
    "plot_training_curves",
    "seed_everything",
    "to_jsonable",
    "write_metrics",
]

T = TypeVar("T")


# ---- seeds -------------------------------------------------------------------------------------
def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so that CPU runs are reproducible."""
    seed = int(seed) % (2**32)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed used for ``epoch``: runs resumed at any epoch draw the same samples."""
    return (int(seed) * 100_003 + int(epoch) * 7_919 + 1) % (2**32)


# ---- json ---------------------------------------------------------------------------------------
def to_jsonable(value: Any) -> Any:
    """Convert numpy/torch values (nested in dicts/lists) to JSON values; NaN becomes None."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return to_jsonable(value.detach().cpu().tolist())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_metrics(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write ``metrics.json`` atomically (numpy values converted, NaN written as null)."""
    atomic_write_text(Path(path), json.dumps(to_jsonable(data), indent=2) + "\n")


# ---- early stopping -----------------------------------------------------------------------------
@dataclass
class EarlyStopping:
    """Stop when the monitored value has not improved for ``patience`` epochs.

    Parameters
    ----------
    patience
        Epochs without improvement before stopping.
    mode
        ``"max"`` (higher is better, e.g. F1) or ``"min"`` (e.g. a loss).
    min_delta
        Smallest change that counts as an improvement.
    """

    patience: int
    mode: str = "max"
    min_delta: float = 0.0
    best: float | None = None
    best_epoch: int = -1
    bad_epochs: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ("max", "min"):
            raise ConfigError(f"early stopping mode must be 'max' or 'min', got {self.mode!r}")

    def is_better(self, value: float) -> bool:
        """True if ``value`` improves on the best value seen so far."""
        if value is None or math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def step(self, value: float | None, epoch: int) -> bool:
        """Record ``value`` for ``epoch``; return True if it is a new best."""
        if self.is_better(value):
            self.best, self.best_epoch, self.bad_epochs = float(value), int(epoch), 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs in a row brought no improvement."""
        return self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, Any]:
        """Plain-value state for checkpoints."""
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the state saved by :meth:`state_dict`."""
        self.best = state.get("best")
        self.best_epoch = int(state.get("best_epoch", -1))
        self.bad_epochs = int(state.get("bad_epochs", 0))


# ---- figure -------------------------------------------------------------------------------------
def plot_training_curves(
    epochs: list[Mapping[str, Any]], path: str | Path, monitor: str = "val_f1_macro"
) -> Path | None:
    """Plot train/val loss and the monitored metric per epoch to ``path`` (PNG, atomic).

    Returns the path, or None when there is nothing to plot.
    """
    if not epochs:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    x = [int(e.get("epoch", i)) for i, e in enumerate(epochs)]

    def series(key: str) -> list[float]:
        return [float(e[key]) if e.get(key) is not None else float("nan") for e in epochs]

    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key, style in (("train_loss", "-o"), ("val_loss", "-s")):
        if any(key in e for e in epochs):
            ax_loss.plot(x, series(key), style, label=key.replace("_", " "), markersize=3)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(frameon=False)
    if any(monitor in e for e in epochs):
        ax_metric.plot(x, series(monitor), "-o", color="tab:green", markersize=3)
    ax_metric.set_xlabel("epoch")
    ax_metric.set_ylabel(monitor.replace("_", " "))
    phases = [e.get("phase") for e in epochs]
    starts = [i for i in range(len(phases)) if i == 0 or phases[i] != phases[i - 1]]
    for i in starts:
        for ax in (ax_loss, ax_metric):
            if i > 0:
                ax.axvline(x[i] - 0.5, color="0.7", linestyle=":", linewidth=1)
            if phases[i] and len(starts) > 1:  # name each phase (spatial, flow, fused)
                ax.text(x[i] - 0.4, 1.0, str(phases[i]), transform=ax.get_xaxis_transform(),
                        fontsize=8, color="0.4", va="bottom")  # fmt: skip
    for ax in (ax_loss, ax_metric):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return path


# ---- the epoch loop -----------------------------------------------------------------------------
@dataclass
class FitResult:
    """What :func:`fit` did.

    Attributes
    ----------
    history
        Per-epoch metric dicts (all epochs, including those before a resume).
    best_epoch
        Epoch of the best monitored value (-1 if none was eligible).
    best_metric
        The best monitored value (None if none).
    stopped_early
        True if early stopping ended training.
    start_epoch
        First epoch run in this call (> 0 after a resume).
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    best_metric: float | None = None
    stopped_early: bool = False
    start_epoch: int = 0


def fit(
    model_dir: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    train_epoch: Callable[[int], Mapping[str, Any]],
    validate: Callable[[int], Mapping[str, Any]],
    monitor: str = "val_f1_macro",
    mode: str = "max",
    patience: int | None = None,
    monitor_from_epoch: int = 0,
    scheduler: Any = None,
    metrics_header: Mapping[str, Any] | None = None,
    extra_state: Callable[[], Mapping[str, Any]] | None = None,
    load_extra_state: Callable[[Mapping[str, Any]], None] | None = None,
    on_epoch_start: Callable[[int], None] | None = None,
    seed: int | None = None,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
) -> FitResult:
    """Run the epoch loop: train, validate, checkpoint, keep the best, stop early, log metrics.

    Parameters
    ----------
    model_dir
        Model directory; receives ``checkpoint.pt``, ``best.pt``, ``metrics.json`` and
        ``figures/training_curves.png``.
    model, optimizer
        The network and its optimizer (their state is saved and restored).
    epochs
        Total number of epochs (0-based epochs ``0 .. epochs-1``), counting resumed ones.
    train_epoch
        ``train_epoch(epoch) -> {"train_loss": ..., ...}``: one epoch of training.
    validate
        ``validate(epoch) -> {"val_loss": ..., monitor: ..., ...}``; values may be scalars or
        lists (e.g. per-class F1). Runs after ``train_epoch``.
    monitor, mode
        Metric deciding the best epoch and early stopping; ``"max"`` or ``"min"``.
    patience
        Early stopping patience in epochs (None: never stop early).
    monitor_from_epoch
        Epochs before this one are not eligible as best and do not count for early stopping
        (e.g. single-stream warm-up epochs).
    scheduler
        Optional learning-rate scheduler, stepped once after every epoch; its state is saved.
    metrics_header
        Keys written at the top of ``metrics.json`` (``stage``, ``class_names``, ``split``, ...).
    extra_state, load_extra_state
        Save/restore additional plain-value state (e.g. thresholds) in the checkpoints.
    on_epoch_start
        Called with the epoch before training it (e.g. to switch which layers train).
    seed
        If given, everything is reseeded with :func:`epoch_seed` at the start of each epoch, so
        a resumed run draws the same batches as an uninterrupted one.
    resume
        Continue from ``model_dir/checkpoint.pt`` if it exists (model, optimizer, scheduler,
        history, early stopping); the next epoch is the one after the saved one.
    log
        Called with a one-line summary after each epoch.

    Notes
    -----
    When several processes train together (:mod:`ethogram.train.distributed`), every rank trains,
    but only rank 0 validates, writes files and logs; its early-stopping decision is sent to the
    others. ``result.history`` is complete only on rank 0.

    Returns
    -------
    FitResult
    """
    model_dir = Path(model_dir)
    dist = current()
    if dist.is_main:
        model_dir.mkdir(parents=True, exist_ok=True)
    else:
        log = None
    stopper = EarlyStopping(patience or 10**9, mode=mode)
    history: list[dict[str, Any]] = []
    start_epoch = 0
    checkpoint_path = model_dir / CHECKPOINT_NAME
    if resume and checkpoint_path.is_file():
        state = load_training_checkpoint(checkpoint_path)
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise ModelError(
                f"{checkpoint_path}: checkpoint does not fit this model/optimizer ({exc})"
            ) from exc
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        stopper.load_state_dict(state.get("early_stopping") or {})
        history = [dict(e) for e in state.get("history") or []]
        if load_extra_state is not None:
            load_extra_state(state.get("extra") or {})
        start_epoch = int(state["epoch"]) + 1
        if log:
            log(f"resuming at epoch {start_epoch} from {checkpoint_path}")

    header = dict(metrics_header or {})
    result = FitResult(history=history, start_epoch=start_epoch)
    result.best_epoch, result.best_metric = stopper.best_epoch, stopper.best
    if patience is not None and stopper.should_stop:
        result.stopped_early = True
        return result

    for epoch in range(start_epoch, epochs):
        if seed is not None:
            seed_everything(epoch_seed(seed, epoch))
        if on_epoch_start is not None:
            on_epoch_start(epoch)
        started = time.perf_counter()
        model.train()
        row: dict[str, Any] = {"epoch": epoch}
        row.update(train_epoch(epoch))
        model.eval()
        if dist.is_main:  # the other ranks hold the same weights
            with torch.no_grad():
                row.update(validate(epoch))
        if scheduler is not None:
            scheduler.step()
        row["lr"] = float(optimizer.param_groups[0]["lr"])
        row["seconds"] = round(time.perf_counter() - started, 3)
        row = to_jsonable(row)
        history.append(row)

        improved = False
        if epoch >= monitor_from_epoch:
            improved = stopper.step(row.get(monitor), epoch)
        stop = patience is not None and epoch >= monitor_from_epoch and stopper.should_stop
        if not dist.is_main:
            if dist.broadcast(None):
                break
            continue
        dist.broadcast(stop)
        extra = dict(extra_state()) if extra_state is not None else {}
        if improved:
            save_checkpoint(
                model_dir / BEST_NAME,
                {
                    "model": model.state_dict(),
                    "epoch": epoch,
                    "best_metric": stopper.best,
                    "monitor": monitor,
                    "extra": extra,
                },
            )
        save_checkpoint(
            checkpoint_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "epoch": epoch,
                "best_metric": stopper.best,
                "best_epoch": stopper.best_epoch,
                "early_stopping": stopper.state_dict(),
                "history": history,
                "extra": extra,
            },
        )
        write_metrics(model_dir / METRICS_NAME, {**header, "monitor": monitor, "epochs": history})
        plot_training_curves(history, model_dir / CURVES_NAME, monitor=monitor)
        if log:
            shown = ", ".join(
                f"{k}={v:.4g}" for k, v in row.items() if isinstance(v, float) and k != "seconds"
            )
            log(f"epoch {epoch}: {shown}" + ("  (best)" if improved else ""))
        result.best_epoch, result.best_metric = stopper.best_epoch, stopper.best
        if stop:
            result.stopped_early = True
            if log:
                log(f"early stopping: no improvement of {monitor} for {patience} epochs")
            break
    if dist.is_main and history and not (model_dir / BEST_NAME).is_file():
        # The monitored score was never defined (e.g. a validation video without a single
        # frame of some behavior, so no F1): keep the last epoch rather than no model at all.
        last = int(history[-1]["epoch"])
        save_checkpoint(
            model_dir / BEST_NAME,
            {
                "model": model.state_dict(),
                "epoch": last,
                "best_metric": None,
                "monitor": monitor,
                "extra": dict(extra_state()) if extra_state is not None else {},
            },
        )
        result.best_epoch = last
        logger.warning(
            "%s was never measured on the validation data, so the last epoch (%d) is kept; "
            "label more of the validation video(s) for a better choice",
            monitor,
            last,
        )
    result.history = history
    return result
