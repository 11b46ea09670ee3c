"""Batch normalization over the whole batch of every training process, on any backend.

With several processes (:mod:`ethogram.train.distributed`) each one sees only its share of a
batch; plain batch norm would normalize with that share's statistics, so training would differ
from one process's. :class:`SyncedBatchNorm` sums the statistics of every process (two
differentiable all-reduces) and normalizes with those of the whole batch, which makes a step of
N processes that of one process with the whole batch (up to rounding). Unlike
:class:`torch.nn.SyncBatchNorm` it also runs on CPU (``gloo``), where the tests check it.

It synchronizes only while training with gradients in a process group of more than one; in eval
mode, under ``torch.no_grad()`` (validation, per-video statistics) or alone it is plain batch
norm, and its state dict is batch norm's, so saved weights load into the ordinary network.
"""

from __future__ import annotations

import torch
import torch.distributed as torch_dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["SyncedBatchNorm", "synchronize_batchnorm"]


class _SumOverRanks(torch.autograd.Function):
    """Sum a tensor over every process; the gradient is summed likewise."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        torch_dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        torch_dist.all_reduce(total)
        return total


def _syncing() -> bool:
    return (
        torch_dist.is_available()
        and torch_dist.is_initialized()
        and (torch_dist.get_world_size() > 1)
    )


class SyncedBatchNorm(_BatchNorm):
    """Batch norm (any number of dimensions) with statistics summed over every process."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input, got {input.dim()}D")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and torch.is_grad_enabled() and _syncing()):
            return super().forward(input)
        all_reduce = _SumOverRanks.apply
        self._check_input_dim(input)
        dims = [0, *range(2, input.dim())]
        shape = [1, -1] + [1] * (input.dim() - 2)
        count = input.new_tensor([input.numel() / input.size(1)])
        sums = all_reduce(torch.cat([input.sum(dims), count]))
        total = sums[-1]
        mean = sums[:-1] / total
        centered = input - mean.view(shape)
        var = all_reduce((centered * centered).sum(dims)) / total  # biased, as batch norm's
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum
                if momentum is None:
                    momentum = 1.0 / float(self.num_batches_tracked)
                unbiased = var * (total / torch.clamp(total - 1, min=1))
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(unbiased.detach(), momentum)
        out = centered * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def synchronize_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every batch-norm layer of ``model`` by a :class:`SyncedBatchNorm`, in place.

    The new layers hold the same parameter objects (an optimizer built before still works, and
    frozen layers stay frozen) and the same statistics. Returns ``model``.
    """
    for name, child in model.named_children():
        if isinstance(child, _BatchNorm) and not isinstance(child, SyncedBatchNorm):
            synced = SyncedBatchNorm(
                child.num_features, child.eps, child.momentum, child.affine,
                child.track_running_stats,
            )  # fmt: skip
            if child.affine:
                synced.weight, synced.bias = child.weight, child.bias
            if child.track_running_stats:
                synced.running_mean = child.running_mean
                synced.running_var = child.running_var
                synced.num_batches_tracked = child.num_batches_tracked
            synced.train(child.training)
            setattr(model, name, synced)
        else:
            synchronize_batchnorm(child)
    return model
