"""Exponential moving average of a network's weights, for validation and the saved model.

With few training videos the weights after any one epoch are noisy: validation F1 of the fused
feature extractor moved by up to 0.1 from one epoch to the next. An average of the weights over
the last few hundred steps is smoother and usually generalizes better (Polyak averaging, as
timm's ``ModelEmaV2``); batch-norm buffers are averaged too.

>>> from torch import nn
>>> net = nn.Linear(1, 1, bias=False)
>>> _ = nn.init.zeros_(net.weight)
>>> average = WeightAverage(decay=0.5)
>>> average.reset(net)
>>> with torch.no_grad():
...     _ = net.weight.fill_(2.0)
>>> average.update(net)
>>> with average.applied(net):  # halfway between the old weight and the new one
...     float(net.weight.detach())
1.0
>>> float(net.weight.detach())
2.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["WeightAverage"]


class WeightAverage:
    """Running average ``avg = decay * avg + (1 - decay) * weights`` of a model's state.

    Parameters
    ----------
    decay
        Weight of the past at each update, in [0, 1); about ``1 / (1 - decay)`` steps are averaged.
    """

    def __init__(self, decay: float) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"weight average decay: expected a value in [0, 1), got {decay}")
        self.decay = float(decay)
        self.state: dict[str, torch.Tensor] | None = None

    @property
    def started(self) -> bool:
        """True once :meth:`reset` (or :meth:`load_state_dict`) gave it weights to average."""
        return self.state is not None

    def reset(self, model: nn.Module) -> None:
        """Start averaging from the model's current weights."""
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the model's current weights into the average (after an optimizer step)."""
        if self.state is None:
            self.reset(model)
            return
        for key, value in model.state_dict().items():
            average = self.state[key]
            if average.is_floating_point():
                average.lerp_(value.detach(), 1.0 - self.decay)
            else:  # counters such as num_batches_tracked
                average.copy_(value)

    @contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """Run the block with the averaged weights in ``model``; its own are put back after."""
        if self.state is None:
            yield
            return
        own = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.state)
        try:
            yield
        finally:
            model.load_state_dict(own)

    def state_dict(self) -> dict[str, torch.Tensor] | None:
        """The averaged weights (None before the first :meth:`reset`), for checkpoints."""
        return self.state

    def load_state_dict(self, state: Mapping[str, torch.Tensor] | None) -> None:
        """Restore averaged weights saved by :meth:`state_dict`."""
        self.state = None if state is None else {k: v.clone() for k, v in state.items()}
