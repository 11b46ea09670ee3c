"""The torch device for a ``device`` setting (``auto``, ``cpu`` or ``cuda``)."""

from __future__ import annotations

import torch

from ethogram.errors import ConfigError

__all__ = ["choose_device"]


def choose_device(device: str = "auto") -> torch.device:
    """Return the torch device for a ``device`` setting.

    Parameters
    ----------
    device
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    torch.device

    Raises
    ------
    ConfigError
        If ``device`` is another value, or ``cuda`` is asked for without a CUDA GPU.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but no CUDA GPU is available; use cpu/auto")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    return torch.device(device)
