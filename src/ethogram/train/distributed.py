"""What one training process needs to know when several train together (PyTorch DDP).

Several processes (ranks) train one network with :class:`torch.nn.parallel.DistributedDataParallel`:
every rank draws the same global batches (same seed), takes its share of each batch
(:meth:`Distributed.shard`), and DDP averages the gradients, so every rank holds the same weights
after every step. Only rank 0 validates, chooses thresholds and writes files; what the other
ranks must know (the model folder, the split, whether to stop early) it sends them
(:meth:`Distributed.broadcast`).

:func:`current` reads the process group set up by :mod:`ethogram.train.launch` (or by
``torchrun``); without one it is a single process of rank 0, and every method does nothing
special, so the training code reads the same either way.

>>> dist = current()
>>> dist.world_size, dist.is_main, dist.shard([0, 1, 2, 3])
(1, True, [0, 1, 2, 3])
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as torch_dist

__all__ = ["Distributed", "current", "leave"]

T = TypeVar("T")


@dataclass(frozen=True)
class Distributed:
    """This process's place among the training processes.

    Attributes
    ----------
    rank
        0 .. ``world_size - 1``; rank 0 validates and writes files.
    world_size
        Number of processes training together (1: no distribution).
    local_rank
        Rank on this machine (which GPU it uses).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        """True when several processes train together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on rank 0 (the process that validates, logs and writes files)."""
        return self.rank == 0

    def shard(self, items: T) -> T:
        """This rank's share of a global batch: items ``rank, rank + world_size, ...``."""
        return items[self.rank :: self.world_size] if self.active else items

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (any picklable object)."""
        if not self.active:
            return value
        box = [value if self.is_main else None]
        torch_dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.active:
            return [value]
        out: list[Any] = [None] * self.world_size
        torch_dist.all_gather_object(out, value)
        return out

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of ``values`` over every rank (float64)."""
        if not self.active:
            return [float(v) for v in values]
        tensor = torch.tensor(values, dtype=torch.float64, device=self._device())
        torch_dist.all_reduce(tensor)
        return [float(v) for v in tensor.cpu()]

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self.active:
            torch_dist.barrier()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Run the block on rank 0 first, then on the others (e.g. to fill a cache once)."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    def wrap(
        self, model: torch.nn.Module, device: torch.device, find_unused: bool = False
    ) -> torch.nn.Module:
        """``model`` inside DistributedDataParallel (itself when not distributed).

        Call again whenever the set of trainable parameters changes (DDP synchronizes the
        parameters that require gradients when it is built). With ``find_unused``, trainable
        parameters that the loss does not reach (e.g. fusion weights while one stream trains)
        are allowed, at the cost of a pass over the graph every step.
        """
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index if device.index is not None else self.local_rank]
        return DistributedDataParallel(
            model,
            device_ids=ids if device.type == "cuda" else None,
            find_unused_parameters=find_unused,
        )

    def _device(self) -> torch.device:
        if torch_dist.get_backend() == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")


def current() -> Distributed:
    """This process's :class:`Distributed` (rank 0 of 1 without a process group)."""
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return Distributed()
    import os

    rank, world = torch_dist.get_rank(), torch_dist.get_world_size()
    return Distributed(rank, world, int(os.environ.get("LOCAL_RANK", rank)))


def leave() -> None:
    """End this process's part in the process group, once every rank gets here.

    After it, :func:`current` is a single process again: rank 0 goes on alone (feature
    extraction, the sequence model) while the other processes end.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
