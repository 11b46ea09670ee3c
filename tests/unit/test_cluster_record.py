"""Run records of cluster prediction: what ``ethogram status`` makes of them."""

from __future__ import annotations

import os
import socket

from ethogram.infer import cluster_record as record
from ethogram.infer.predictor import VideoResult
from tests.conftest import dead_pid


def _run(tmp_path, n_videos: int) -> tuple:
    videos = [
        {"video": str(tmp_path / f"v{i}.mp4"), "out_dir": str(tmp_path), "stem": f"v{i}"}
        for i in range(n_videos)
    ]
    run_dir = record.new_run(tmp_path, {"executor": "local", "videos": videos})
    record.add_attempt(
        run_dir,
        1,
        [
            {"job_id": "1", "worker": "1-0", "videos": [0, 1]},
            {"job_id": "2", "worker": "1-1", "videos": [2]},
            {"job_id": "3", "worker": "1-2", "videos": [3]},
        ],
    )
    return run_dir, record.read_run(run_dir)


def _worker(run_dir, name: str, videos: list[int], pid: int) -> None:
    path = run_dir / "workers" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    data = {
        "state": "running",
        "attempt": 1,
        "videos": videos,
        "host": socket.gethostname(),
        "pid": pid,
    }
    record._write_json(path, data)


def test_status_tells_done_running_queued_and_videos_of_a_dead_job(tmp_path):
    run_dir, run = _run(tmp_path, 4)
    record.write_video(run_dir, 0, VideoResult(record.target_of(run, 0), "done"), 1)
    _worker(run_dir, "1-0", [0, 1], os.getpid())  # still running: video 1 is in progress
    _worker(run_dir, "1-1", [2], dead_pid())  # its process is gone: video 2 will never finish
    status = record.run_status(run_dir)  # job 1-2 has not started: video 3 is queued
    assert (status.done, status.running, status.queued) == (["v0.mp4"], ["v1.mp4"], ["v3.mp4"])
    assert list(status.failed) == ["v2.mp4"]
    assert "its job ended before finishing it" in status.failed["v2.mp4"]
    assert status.summary().endswith("1 done, 1 running, 1 queued, 1 failed")


def test_a_video_failed_at_the_first_attempt_is_not_final_until_the_second():
    assert not record.is_final({"status": "failed", "attempt": 1})
    assert record.is_final({"status": "failed", "attempt": record.MAX_ATTEMPTS})
    assert record.is_final({"status": "skipped", "attempt": 1})
    assert not record.is_final(None)
