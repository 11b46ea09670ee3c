"""Checkpoints of a model folder: written atomically, read safely.

``checkpoint.pt`` (written after every epoch, for resume) holds ``{"model", "optimizer",
"scheduler", "epoch", "best_metric", "best_epoch", "early_stopping", "history", "extra"}``;
``best.pt`` holds ``{"model", "epoch", "best_metric", "extra"}`` of the weights kept. Every file is
read with ``torch.load(weights_only=True)`` onto the CPU: checkpoints hold only tensors and plain
Python values, and a file that holds anything else is refused rather than unpickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ethogram.errors import ModelError
from ethogram.io.atomic import atomic_path

__all__ = ["load_training_checkpoint", "load_weights", "read_checkpoint", "save_checkpoint"]


def save_checkpoint(path: str | Path, state: Mapping[str, Any]) -> None:
    """Save a checkpoint dict with ``torch.save``, atomically (a crash never leaves half a file)."""
    with atomic_path(path) as tmp:
        torch.save(dict(state), tmp)


def read_checkpoint(path: str | Path) -> Any:
    """Load a ``.pt`` file with ``torch.load(weights_only=True)`` onto the CPU.

    Raises
    ------
    ModelError
        If the file is missing, truncated, corrupt, or holds more than tensors and plain values.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: checkpoint file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, corrupt or unsafe files all end here
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a readable checkpoint ({detail})") from exc


def load_training_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (a dict with a ``"model"`` entry).

    Raises
    ------
    ModelError
        If the file is missing or unreadable, or is not a training checkpoint.
    """
    state = read_checkpoint(path)
    if not isinstance(state, dict) or "model" not in state:
        raise ModelError(f"{path}: expected a training checkpoint with a 'model' entry")
    return state


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _state_dict_from(obj: object, path: Path) -> Mapping[str, torch.Tensor]:
    """Find the state dict in a loaded file: the dict itself or its "model" entry."""
    if isinstance(obj, Mapping):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
        for key in ("model", "state_dict"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and all(
                isinstance(v, torch.Tensor) for v in inner.values()
            ):
                return inner
    raise ModelError(
        f"{path}: expected a state dict of tensors (or a checkpoint with a 'model' entry), "
        f"found {type(obj).__name__}"
        + (f" with keys {sorted(map(str, obj))[:5]}" if isinstance(obj, Mapping) else "")
    )


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load weights from ``path`` into ``model`` (in place) and return the model.

    Parameters
    ----------
    model
        The network to fill; its architecture must match the file exactly.
    path
        A ``.pt`` file holding a bare state dict or a training checkpoint ``{"model": ...}``.

    Returns
    -------
    torch.nn.Module
        ``model``, with the loaded weights.

    Raises
    ------
    ModelError
        If the file is missing or unreadable, or if a key is missing, unexpected or has another
        shape (the message names the file, the first such key, and expected vs found shapes).
    """
    path = Path(path)
    state = _state_dict_from(read_checkpoint(path), path)
    expected = model.state_dict()
    arch = type(model).__name__
    problems: list[str] = []
    for key, tensor in expected.items():
        if key not in state:
            problems.append(f"missing key '{key}' (expected shape {_shape(tensor)})")
        elif state[key].shape != tensor.shape:
            problems.append(
                f"key '{key}' has shape {_shape(state[key])}, expected {_shape(tensor)}"
            )
    problems += [
        f"unexpected key '{key}' (shape {_shape(state[key])})"
        for key in state
        if key not in expected
    ]
    if problems:
        more = f" (and {len(problems) - 1} more mismatches)" if len(problems) > 1 else ""
        raise ModelError(f"{path}: checkpoint does not fit this {arch}: {problems[0]}{more}")
    model.load_state_dict(state)
    return model
