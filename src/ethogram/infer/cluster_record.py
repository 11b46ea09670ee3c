"""The bookkeeping of cluster prediction runs: small JSON files under ``PROJECT/.ethogram/jobs``.

One folder per run (``<timestamp>``): ``run.json`` (written by the submitting command only),
``videos/<i>.json`` (what became of video ``i``, written by the job that predicted it) and
``workers/<attempt>-<k>.json`` (job ``k`` of an attempt: host, process, ``running`` or
``ended``). Every file is written atomically, so a reader never sees half of one, and no file is
written by two processes. Reading needs neither torch nor submitit (``ethogram status``).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ethogram.errors import ClusterError
from ethogram.infer.targets import VideoTarget
from ethogram.io.atomic import atomic_write_text

JOBS_DIR = Path(".ethogram") / "jobs"
MAX_ATTEMPTS = 2
RUN_FILE = "run.json"

__all__ = [
    "JOBS_DIR",
    "MAX_ATTEMPTS",
    "RunStatus",
    "list_runs",
    "new_run",
    "read_run",
    "run_status",
]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=1))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ClusterError(f"{path}: cannot read the job record ({exc})") from None
    if not isinstance(data, dict):
        raise ClusterError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def new_run(project_root: str | Path, data: dict[str, Any]) -> Path:
    """Create a run folder ``PROJECT/.ethogram/jobs/<timestamp>`` with its ``run.json``."""
    base = Path(project_root) / JOBS_DIR
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    for n in range(1000):
        run_dir = base / (stamp if n == 0 else f"{stamp}_{n}")
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    else:
        raise ClusterError(f"{base}: cannot make a new run folder for {stamp}")
    run = {**data, "created": time.time(), "attempts": [], "finished": False}
    _write_json(run_dir / RUN_FILE, run)
    return run_dir


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """The ``run.json`` of a run folder."""
    return _read_json(Path(run_dir) / RUN_FILE)


def _update_run(run_dir: Path, change: Callable[[dict[str, Any]], None]) -> None:
    run = read_run(run_dir)
    change(run)
    _write_json(run_dir / RUN_FILE, run)


def add_attempt(run_dir: str | Path, attempt: int, jobs: list[dict[str, Any]]) -> None:
    """Record the jobs of an attempt: ``[{"job_id", "worker", "videos"}, ...]``."""
    _update_run(
        Path(run_dir),
        lambda run: run["attempts"].append(
            {"attempt": attempt, "submitted": time.time(), "jobs": jobs}
        ),
    )


def mark_finished(run_dir: str | Path) -> None:
    """Record that the submitting command saw every job end."""
    _update_run(Path(run_dir), lambda run: run.update(finished=True))


def latest_attempt(run_dir: str | Path) -> int:
    """The number of the latest attempt submitted (0: none)."""
    attempts = read_run(run_dir)["attempts"]
    return max((a["attempt"] for a in attempts), default=0)


def target_of(run: dict[str, Any], index: int) -> VideoTarget:
    """The video ``index`` of a run and its output folder."""
    item = run["videos"][index]
    return VideoTarget(Path(item["video"]), Path(item["out_dir"]), item["stem"])


def _job_id() -> str:
    for name in ("SLURM_ARRAY_JOB_ID", "SLURM_JOB_ID", "SUBMITIT_LOCAL_JOB_ID"):
        value = os.environ.get(name)
        if value and name == "SLURM_ARRAY_JOB_ID":
            return f"{value}_{os.environ.get('SLURM_ARRAY_TASK_ID', '')}"
        if value:
            return value
    return ""


def write_worker(run_dir: Path, worker: str, state: str, videos: list[int], attempt: int) -> None:
    """Record that this process (job ``worker``) is ``running`` or has ``ended``."""
    _write_json(
        Path(run_dir) / "workers" / f"{worker}.json",
        {
            "state": state,
            "attempt": attempt,
            "videos": list(videos),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "job_id": _job_id(),
            "time": time.time(),
        },
    )


def write_video(run_dir: Path, index: int, result, attempt: int) -> None:
    """Record what became of video ``index`` (a :class:`~ethogram.infer.predictor.VideoResult`)."""
    _write_json(
        Path(run_dir) / "videos" / f"{index}.json",
        {
            "video": str(result.target.video),
            "status": result.status,
            "reason": result.reason,
            "n_frames": result.n_frames,
            "attempt": attempt,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "time": time.time(),
        },
    )


def write_video_lost(run_dir: Path, index: int, attempt: int) -> None:
    """Record that video ``index`` failed because its job ended before finishing it."""
    run = read_run(run_dir)
    _write_json(
        Path(run_dir) / "videos" / f"{index}.json",
        {
            "video": run["videos"][index]["video"],
            "status": "failed",
            "reason": _LOST.format(logs=Path(run_dir) / "submitit"),
            "n_frames": 0,
            "attempt": max(attempt, MAX_ATTEMPTS),
            "time": time.time(),
        },
    )


_LOST = "its job ended before finishing it (killed, out of time or memory; job logs in {logs})"


def video_states(run_dir: str | Path) -> dict[int, dict[str, Any]]:
    """What the jobs recorded about each video, by index (videos not reached are absent)."""
    folder = Path(run_dir) / "videos"
    states: dict[int, dict[str, Any]] = {}
    if folder.is_dir():
        for path in folder.glob("*.json"):
            if path.stem.isdigit():
                states[int(path.stem)] = _read_json(path)
    return states


def is_final(state: dict[str, Any] | None) -> bool:
    """True if a video's state will not change: done, skipped, or failed at the last attempt."""
    if state is None:
        return False
    if state.get("status") in ("done", "skipped"):
        return True
    return state.get("status") == "failed" and int(state.get("attempt", 0)) >= MAX_ATTEMPTS


def result_of(target: VideoTarget, state: dict[str, Any] | None):
    """A :class:`~ethogram.infer.predictor.VideoResult` from a video's recorded state."""
    from ethogram.infer.predictor import VideoResult

    if state is None:
        return VideoResult(target, "failed", "never predicted")
    return VideoResult(
        target, state["status"], state.get("reason", ""), n_frames=int(state.get("n_frames", 0))
    )


def list_runs(project_root: str | Path) -> list[Path]:
    """The run folders of a project, oldest first."""
    base = Path(project_root) / JOBS_DIR
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if (p / RUN_FILE).is_file())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _worker_alive(worker: dict[str, Any]) -> bool:
    """A worker that says ``running``: is its process still there (known on this host only)."""
    if worker.get("host") != socket.gethostname():
        return True  # another node: trust the record
    return _pid_alive(int(worker.get("pid", 0)))


@dataclass
class RunStatus:
    """What became of each video of a run: names by state, and the failures' reasons."""

    run_dir: Path
    executor: str
    created: float
    finished: bool
    done: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of videos in the run."""
        return len(self.done) + len(self.running) + len(self.queued) + len(self.failed)

    def summary(self) -> str:
        """One line: the run, its executor, and how many videos are in each state."""
        when = datetime.fromtimestamp(self.created).strftime("%Y-%m-%d %H:%M")
        line = (
            f"{self.run_dir.name} ({self.executor}, {self.total} videos, {when}): "
            f"{len(self.done)} done, {len(self.running)} running, {len(self.queued)} queued, "
            f"{len(self.failed)} failed"
        )
        return line


def run_status(run_dir: str | Path) -> RunStatus:
    """The state of every video of a run: done, running, queued or failed.

    A video is done when its job recorded it predicted (or already predicted before); failed
    when its last attempt failed, or when the job holding it ended, or its process is gone,
    before finishing it; running while its job runs; queued while its job has not started.
    """
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    states = video_states(run_dir)
    holder: dict[int, str] = {}  # video -> worker of the latest attempt that includes it
    for attempt in run["attempts"]:
        for job in attempt["jobs"]:
            for i in job["videos"]:
                holder[i] = job["worker"]
    workers = {}
    folder = run_dir / "workers"
    if folder.is_dir():
        workers = {p.stem: _read_json(p) for p in folder.glob("*.json")}
    status = RunStatus(run_dir, run.get("executor", "?"), run.get("created", 0), run["finished"])
    for i, item in enumerate(run["videos"]):
        name = Path(item["video"]).name
        state = states.get(i)
        if state is not None and state.get("status") in ("done", "skipped"):
            status.done.append(name)
            continue
        if is_final(state):
            status.failed[name] = state.get("reason", "")
            continue
        worker = workers.get(holder.get(i, ""))
        if run["finished"]:
            status.failed[name] = (state or {}).get("reason") or "never predicted"
        elif worker is None:
            status.queued.append(name)
        elif worker["state"] == "running" and _worker_alive(worker):
            status.running.append(name)
        else:
            reason = (state or {}).get("reason") or _LOST.format(logs=run_dir / "submitit")
            status.failed[name] = reason
    return status
