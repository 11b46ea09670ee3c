"""Small functions that GUI jobs run in a child process (importable by a spawned child)."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

from ethogram.errors import ProjectError
from ethogram.progress import progress_bar


def count(n: int, pause_s: float = 0.0) -> dict:
    """Count to ``n`` with a progress bar and a status per step; log and print a line."""
    with progress_bar(n, "counting") as bar:
        for i in range(n):
            bar.status(f"item {i}")
            time.sleep(pause_s)
            bar()
    logging.getLogger("ethogram.test").info("counted %d", n)
    print("a printed line")
    return {"counted": n, "pid": os.getpid()}


def fail_with_ethogram_error(path: str) -> None:
    raise ProjectError(f"{path}: no labeled videos; label frames first")


def fail_with_bug() -> None:
    raise ValueError("bad value 3")


def unpicklable_result():
    return lambda: 0


def run_until_killed(pid_file: str, ignore_terminate: bool = False) -> None:
    """Write this process's id to ``pid_file``, then advance a bar of unknown length forever."""
    if ignore_terminate:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Path(pid_file).write_text(str(os.getpid()))
    with progress_bar(None, "waiting") as bar:
        while True:
            time.sleep(0.02)
            bar()


def _note_after_cancel(kwargs: dict, started_at: float | None) -> str:
    return f"resume from {kwargs['pid_file']} (started {started_at is not None})"


run_until_killed.after_cancel = _note_after_cancel


def nested(n_videos: int, n_frames: int) -> None:
    """An outer bar over videos (status: the video) around an inner bar over frames."""
    with progress_bar(n_videos, "videos") as outer:
        for v in range(n_videos):
            outer.status(f"v{v}")
            with progress_bar(n_frames, "frames") as inner:
                for _ in range(n_frames):
                    inner()
            outer()


def two_ranks_counting(n: int) -> int:
    """Two training processes (gloo), each with a progress bar and a log line, as
    ``ethogram train`` with ``train.devices=2`` starts them; rank 0's result."""
    from ethogram.train.launch import launch
    from tests import distributed_support

    return launch(distributed_support.count_with_a_bar_and_log, (n,), devices=2, device="cpu")
