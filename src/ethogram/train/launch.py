"""Start several training processes on this machine, as ``torchrun`` would, or join ``torchrun``'s.

:func:`launch` spawns one process per device with the environment ``torchrun`` gives
(``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), sets up the process
group (``nccl`` on CUDA GPUs, ``gloo`` on CPU), runs a function in every process and returns rank
0's result, which must be plain data (sent back as JSON, never as a pickle).
When one process fails, the others are stopped and the error names the rank and its message.
When the launching process sends its progress to a reporter (the window's jobs do, see
:func:`ethogram.progress.set_reporter`), rank 0's progress bars and log records come back to it
and go where its own would.
Under ``torchrun`` (or ``srun`` with the same variables), :func:`torchrun_group` joins the group
the environment describes instead.

>>> launch(train_in_rank, (project_root,), devices=4, device="auto")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import traceback
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from ethogram.errors import ConfigError, DistributedError, EthogramError

__all__ = ["backend_for", "choose_port", "launch", "torchrun_group", "under_torchrun"]

logger = logging.getLogger(__name__)

# Rank 0 alone runs validation and the final scores between collective steps; the others wait.
TIMEOUT = timedelta(hours=2)
INTERRUPT_GRACE_S = 20.0  # after Ctrl-C, time the ranks get to stop cleanly before being killed


def under_torchrun() -> bool:
    """True when the environment describes a process group (``torchrun``, or ``srun`` with
    ``RANK``/``WORLD_SIZE``/``MASTER_ADDR`` set) of more than one process."""
    env = os.environ
    return all(k in env for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")) and (
        int(env["WORLD_SIZE"]) > 1
    )


def backend_for(devices: int, device: str) -> str:
    """The process-group backend for ``devices`` processes on the ``device`` setting.

    ``nccl`` when CUDA GPUs are used (one per process), else ``gloo`` (CPU processes: for tests
    and CPU clusters; on one machine, expect no gain over one process).

    Raises
    ------
    ConfigError
        If more processes than CUDA GPUs are asked for, or ``cuda`` without a GPU.
    """
    import torch

    from ethogram.models.device import choose_device

    if choose_device(device).type == "cuda":
        n_gpus = torch.cuda.device_count()
        if devices > n_gpus:
            raise ConfigError(
                f"--devices {devices} asks for {devices} GPUs but this machine has {n_gpus} "
                f"CUDA GPU(s); use --devices {n_gpus} or fewer (or device=cpu)"
            )
        return "nccl"
    return "gloo"


def _port_in_use(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return True
    return False


def choose_port(address: str = "127.0.0.1") -> int:
    """The rendezvous port: ``MASTER_PORT`` if set (checked to be free), else a free one.

    Raises
    ------
    DistributedError
        If ``MASTER_PORT`` is not a number or its port is in use.
    """
    wanted = os.environ.get("MASTER_PORT")
    if wanted:
        if not wanted.isdigit():
            raise DistributedError(f"MASTER_PORT must be a port number, got {wanted!r}")
        if _port_in_use(address, int(wanted)):
            raise DistributedError(
                f"port {wanted} on {address} (MASTER_PORT) is in use, by another training run? "
                "Set MASTER_PORT to a free port, or unset it to let ethogram pick one"
            )
        return int(wanted)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def _init_group(backend: str, local_rank: int) -> None:
    import torch
    import torch.distributed as dist

    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend, init_method="env://", timeout=TIMEOUT)


@contextlib.contextmanager
def torchrun_group(device: str) -> Iterator[None]:
    """Join the process group the environment describes (``torchrun``), for the block.

    ``nccl`` with CUDA GPUs (``cuda:LOCAL_RANK``), ``gloo`` otherwise.
    """
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"]))
    _init_group(backend_for(local_world, device), local_rank)
    try:
        yield
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _message(exc: BaseException) -> str:
    if isinstance(exc, EthogramError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _plain_json(value: Any) -> str:
    """``value`` as JSON text, if it is plain data: None, bool, int, float, str, and lists,
    tuples and str-keyed dicts of them (tuples come back as lists).

    Raises
    ------
    DistributedError
        Naming what in ``value`` is not plain data.
    """

    def check(item: Any, where: str) -> None:
        if item is None or isinstance(item, (bool, int, float, str)):
            return
        if isinstance(item, (list, tuple)):
            for i, element in enumerate(item):
                check(element, f"{where}[{i}]")
            return
        if isinstance(item, dict):
            for key, element in item.items():
                if not isinstance(key, str):
                    raise DistributedError(
                        f"rank 0's result: expected str keys, found {key!r} in {where}"
                    )
                check(element, f"{where}[{key!r}]")
            return
        raise DistributedError(
            f"rank 0's result: expected plain data (str, numbers, lists, dicts), found "
            f"{type(item).__name__} at {where}"
        )

    check(value, "result")
    return json.dumps(value)


def _end_with_launcher(launcher_pid: int) -> None:
    """Exit this rank when the launching process is gone (killed, e.g. a GUI job stopped)."""
    import time

    while os.getppid() == launcher_pid:
        time.sleep(1.0)
    os._exit(1)


class _RecordsToLauncher(logging.Handler):
    """Rank 0's log records, formatted here, to the launcher's queue."""

    def __init__(self, queue) -> None:
        super().__init__(logging.INFO)
        self._queue = queue

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # plain text: always picklable
        record.exc_info = record.exc_text = record.stack_info = None
        self._queue.put(("log", 0, record))


def _forward_to_launcher(queue) -> None:
    """Rank 0's progress events and log records (INFO and above) to the launcher's queue."""
    from ethogram.progress import set_reporter

    set_reporter(lambda event: queue.put(("progress", 0, event)))
    root = logging.getLogger()
    root.handlers[:] = [_RecordsToLauncher(queue)]
    root.setLevel(logging.INFO)


def _rank_main(rank, world, address, port, backend, fn, args, setup, queue, forward) -> None:
    """One spawned process: the torchrun environment, the process group, ``fn(*args)``."""
    import threading

    threading.Thread(target=_end_with_launcher, args=(os.getppid(),), daemon=True).start()
    if forward and rank == 0:
        _forward_to_launcher(queue)
    os.environ.update(MASTER_ADDR=address, MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      LOCAL_WORLD_SIZE=str(world))  # fmt: skip
    try:
        import torch
        import torch.distributed as dist

        if setup is not None:
            setup(rank)
        if backend == "gloo" and "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        _init_group(backend, rank)
        value = fn(*args)
        result = _plain_json(value) if rank == 0 else None
        if dist.is_initialized():
            dist.barrier()  # no rank tears the group down while another still talks to it
            dist.destroy_process_group()
    except KeyboardInterrupt:
        queue.put(("interrupted", rank, None))
        raise SystemExit(130) from None
    except BaseException as exc:  # reported by the launcher, which stops the other ranks
        queue.put(("error", rank, (_message(exc), traceback.format_exc())))
        raise SystemExit(1) from None
    queue.put(("done", rank, result))


def launch(
    fn: Callable[..., Any],
    args: tuple = (),
    *,
    devices: int,
    device: str = "auto",
    setup: Callable[[int], None] | None = None,
    address: str = "127.0.0.1",
) -> Any:
    """Run ``fn(*args)`` in ``devices`` new processes forming one process group; rank 0's result.

    Parameters
    ----------
    fn, args
        A module-level function and its (picklable) arguments, run in every process after the
        process group is set up (:func:`ethogram.train.distributed.current` then tells the rank).
        On rank 0 it returns plain data: None, bool, int, float, str, and lists, tuples and
        str-keyed dicts of them (e.g. a model folder as a str); the other ranks' results are
        not used.
    devices
        Number of processes: one per CUDA GPU, or CPU processes on the ``gloo`` backend.
    device
        The ``device`` setting (``auto``, ``cpu``, ``cuda``).
    setup
        Called first in every process with its rank (e.g. to show rank 0's notes).
    address
        ``MASTER_ADDR`` (this machine).

    Returns
    -------
    Any
        What ``fn`` returned on rank 0, through JSON (tuples come back as lists).

    Raises
    ------
    DistributedError
        If the port is in use, a process failed (named by rank, with its message; the others
        are stopped), or rank 0 returned something other than plain data.
    KeyboardInterrupt
        After Ctrl-C, once the processes stopped.
    """
    import multiprocessing
    import multiprocessing.connection

    from ethogram.progress import current_reporter

    backend = backend_for(devices, device)
    reporter = current_reporter()  # rank 0's bars and logs come back to it
    if backend == "gloo" and devices > 1:
        logger.warning(f"training in {devices} processes on CPU (gloo): meant for tests and CPU "
                       "clusters; on one machine, expect no gain over one process")  # fmt: skip
    port = choose_port(address)
    context = multiprocessing.get_context("spawn")
    queue = context.SimpleQueue()
    processes = [
        context.Process(
            target=_rank_main,
            args=(
                rank,
                devices,
                address,
                port,
                backend,
                fn,
                args,
                setup,
                queue,
                reporter is not None,
            ),
            name=f"ethogram-rank-{rank}",
        )
        for rank in range(devices)
    ]
    for process in processes:
        process.start()
    messages: list[tuple[str, int, Any]] = []
    failed: list[int] = []

    def receive() -> None:
        while not queue.empty():
            kind, rank, value = queue.get()
            if kind == "progress" and reporter is not None:
                reporter(value)
            elif kind == "log":
                logging.getLogger(value.name).handle(value)
            else:
                messages.append((kind, rank, value))

    try:
        while True:
            receive()
            codes = [p.exitcode for p in processes]
            failed = [rank for rank, code in enumerate(codes) if code not in (None, 0)]
            if failed or all(code == 0 for code in codes):
                break
            multiprocessing.connection.wait(
                [p.sentinel for p in processes if p.exitcode is None], timeout=1.0
            )
    except KeyboardInterrupt:
        _stop(processes, grace_s=INTERRUPT_GRACE_S)
        raise
    finally:
        _stop(processes, grace_s=0.0)
        receive()
    if any(kind == "interrupted" for kind, _, _ in messages):
        raise KeyboardInterrupt
    if failed:
        raise _failure(failed, processes, messages)
    done = [value for kind, rank, value in messages if kind == "done" and rank == 0]
    if not done:
        raise DistributedError("rank 0 ended without a result")
    return json.loads(done[0])


def _stop(processes, grace_s: float) -> None:
    """Let the processes end within ``grace_s`` (Ctrl-C reached them too), then kill them."""
    import signal
    import time

    deadline = time.monotonic() + grace_s
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.exitcode is None:
            if grace_s > 0:
                os.kill(process.pid, signal.SIGINT)
                process.join(5.0)
            if process.exitcode is None:
                process.terminate()
    for process in processes:
        process.join()


def _failure(failed: list[int], processes, messages) -> DistributedError:
    """The error of the rank that failed first (the others' errors are consequences)."""
    errors = {rank: value for kind, rank, value in reversed(messages) if kind == "error"}
    silent = [r for r in failed if r not in errors]  # killed (out of memory?) without a word
    rank = silent[0] if silent else next(r for kind, r, _ in messages if kind == "error")
    world = len(processes)
    if rank in errors:
        message, details = errors[rank]
        error = DistributedError(
            f"rank {rank} of {world} failed: {message} (the other ranks were stopped)"
        )
        error.details = details  # the traceback, for --debug and tests
        return error
    code = processes[rank].exitcode
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return DistributedError(f"rank {rank} of {world} {how} (the other ranks were stopped)")
