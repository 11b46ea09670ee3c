"""Jobs in a child process: progress, log, result, failure and cancel reach the signals."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ethogram.gui.jobs import Job  # noqa: E402
from tests.conftest import make_video  # noqa: E402

TARGETS = "tests.gui.job_targets"
WAIT_MS = 60_000  # a spawned child on a busy 2-core machine; normally well under a second


class Seen:
    """Every signal of a job, in order."""

    def __init__(self, job: Job) -> None:
        self.progress: list[tuple] = []
        self.status: list[str] = []
        self.log: list[str] = []
        self.outcome: list[tuple] = []
        job.progress.connect(lambda *args: self.progress.append(args))
        job.status.connect(self.status.append)
        job.log.connect(self.log.append)
        job.finished.connect(lambda result: self.outcome.append(("finished", result)))
        job.failed.connect(lambda message: self.outcome.append(("failed", message)))
        job.cancelled.connect(lambda: self.outcome.append(("cancelled",)))


def run_to_end(qtbot, target: str, **kwargs) -> tuple[Job, Seen]:
    job = Job(target, kwargs)
    seen = Seen(job)
    job.start()
    qtbot.waitUntil(lambda: bool(seen.outcome), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not job._process.is_alive(), timeout=WAIT_MS)
    return job, seen


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_job_reports_progress_status_log_and_its_result(qtbot):
    job, seen = run_to_end(qtbot, f"{TARGETS}:count", n=3)
    [(kind, result)] = seen.outcome
    assert kind == "finished" and result["counted"] == 3
    assert result["pid"] == job.pid != os.getpid()  # it ran in the child
    assert seen.progress[0] == ("counting", 0.0, 3)
    assert seen.progress[-1] == ("counting", 3.0, 3)  # the last advance is never dropped
    assert "counting item 2" in seen.status and seen.status[-1] == "finished"
    assert "counted 3" in seen.log and "a printed line" in seen.log
    assert job.state == "finished" and not job.is_running()


def test_a_real_library_function_reports_its_progress_bar(qtbot, tmp_path):
    from ethogram.config import load_settings

    video = make_video(tmp_path / "clip.mp4", n_frames=8)
    settings = load_settings("fast", overrides=["flow.method=dis", "flow.size=32"]).flow
    job, seen = run_to_end(
        qtbot, "ethogram.flow.api:video_flow", video_path=str(video), settings=settings
    )
    [(kind, flow)] = seen.outcome
    assert kind == "finished", seen.outcome
    assert isinstance(flow, np.ndarray) and flow.shape[0] == 7  # one flow per pair of frames
    assert seen.progress[-1] == ("flow clip.mp4", 7.0, 7)


def test_a_job_training_in_two_processes_shows_rank_0s_bar_and_log(qtbot):
    # train.devices=2 from the window: the ranks are the job's children; rank 0 speaks through it
    job, seen = run_to_end(qtbot, f"{TARGETS}:two_ranks_counting", n=7)
    assert seen.outcome == [("finished", 0)], seen.outcome
    assert {p[0] for p in seen.progress} == {"steps of rank 0"}
    assert seen.progress[-1] == ("steps of rank 0", 7.0, 7)
    assert "rank 0 counted 7 steps" in seen.log
    assert not any("rank 1" in line for line in seen.log)


def test_an_ethogram_error_fails_with_its_message_as_is(qtbot):
    _, seen = run_to_end(qtbot, f"{TARGETS}:fail_with_ethogram_error", path="proj")
    assert seen.outcome == [("failed", "proj: no labeled videos; label frames first")]
    assert not any("Traceback" in line for line in seen.log)


def test_another_error_fails_with_its_type_and_logs_the_traceback(qtbot):
    _, seen = run_to_end(qtbot, f"{TARGETS}:fail_with_bug")
    assert seen.outcome == [("failed", "ValueError: bad value 3")]
    assert any(line.startswith("error: Traceback") for line in seen.log)


def test_a_result_that_cannot_be_sent_back_is_a_failure_not_a_hang(qtbot):
    _, seen = run_to_end(qtbot, f"{TARGETS}:unpicklable_result")
    [(kind, message)] = seen.outcome
    assert kind == "failed" and "pickle" in message.lower()


def test_an_unknown_target_is_refused_before_any_process_starts():
    job = Job(f"{TARGETS}:no_such_function")
    with pytest.raises(ValueError, match="has no function 'no_such_function'"):
        job.start()
    assert job.pid is None and job.state == "new"


def _start_waiting_job(qtbot, tmp_path: Path, **kwargs) -> tuple[Job, Seen, int]:
    pid_file = tmp_path / "pid"
    job = Job(f"{TARGETS}:run_until_killed", {"pid_file": str(pid_file), **kwargs})
    seen = Seen(job)
    job.start()
    qtbot.waitUntil(lambda: len(seen.progress) >= 2, timeout=WAIT_MS)  # running and advancing
    return job, seen, int(pid_file.read_text())


def test_cancel_stops_the_child_and_logs_the_targets_note(qtbot, tmp_path):
    job, seen, pid = _start_waiting_job(qtbot, tmp_path)
    assert seen.progress[-1][0] == "waiting" and seen.progress[-1][2] is None  # unknown total
    job.cancel()
    qtbot.waitUntil(lambda: bool(seen.outcome), timeout=WAIT_MS)
    assert seen.outcome == [("cancelled",)]
    assert _gone(pid) and job.state == "cancelled"
    assert f"resume from {tmp_path / 'pid'} (started True)" in seen.log


def test_a_child_that_ignores_terminate_is_killed_after_the_grace_period(qtbot, tmp_path):
    job, seen, pid = _start_waiting_job(qtbot, tmp_path, ignore_terminate=True)
    job.cancel_grace_s = 0.2
    job.cancel()
    qtbot.waitUntil(lambda: bool(seen.outcome), timeout=WAIT_MS)
    assert seen.outcome == [("cancelled",)] and _gone(pid)
    assert job._process.exitcode == -9  # SIGKILL: terminate was ignored


def test_nested_bars_show_the_inner_one_then_return_to_the_outer_one(qtbot):
    _, seen = run_to_end(qtbot, f"{TARGETS}:nested", n_videos=2, n_frames=4)
    assert seen.outcome == [("finished", None)]
    frames_done = seen.progress.index(("frames", 4.0, 4))
    assert seen.progress[frames_done + 1] == ("videos", 0.0, 2)  # back to the outer bar
    assert seen.progress[-1] == ("videos", 2.0, 2)
    assert "videos v1 › frames" in seen.status
