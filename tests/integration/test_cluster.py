"""``ethogram predict --executor local``: a submitit job array on this machine, and its status.

The jobs are real processes started by submitit's local executor (the same code path as SLURM's
job arrays); the project's videos already hold features, so each job runs the sequence model,
post-processing and file writing of the whole chain.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
import torch

from ethogram.infer.cluster_record import MAX_ATTEMPTS, list_runs, run_status, video_states
from ethogram.infer.predict import predict
from ethogram.io.atomic import _host_tag
from ethogram.io.outputs import read_outputs
from ethogram.io.video import write_video
from ethogram.train.sequence import train_sequence
from tests.conftest import REPO, dead_pid, run_cli
from tests.integration.test_train_sequence import _settings, make_feature_project

pytest.importorskip("submitit")

N_FRAMES = 60
N_VIDEOS = 4


@pytest.fixture(autouse=True)
def _jobs_find_the_package(monkeypatch):
    """Job processes import ethogram from this checkout, whatever the current folder."""
    paths = [str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project of real tiny videos with stored features, a trained sequence model, and each
    video's predictions by a plain local ``predict`` (the reference), then removed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("cluster") / "proj"
    project = make_feature_project(root, n_videos=N_VIDEOS, n_frames=N_FRAMES)
    rng = np.random.default_rng(0)
    for record in project.videos:
        record.video_path.unlink()
        frames = rng.integers(0, 255, (N_FRAMES, 32, 32, 3), dtype=np.uint8)
        write_video(record.folder / f"{record.stem}.mp4", frames, fps=15)
    model_dir = train_sequence(project, _settings("sequence.epochs=1"), progress=False)
    results = predict(project, progress=False)
    assert [r.status for r in results] == ["done"] * N_VIDEOS
    reference = {
        r.stem: (
            r.predictions_path.read_text(),
            (r.folder / f"{r.stem}_bouts.csv").read_text(),
            read_outputs(r.outputs_path, "tgmj")["P"],
        )
        for r in project.videos
    }
    torch.set_num_threads(threads)
    return project, model_dir, reference


def _forget_predictions(project) -> None:
    for record in project.videos:
        record.predictions_path.unlink(missing_ok=True)
        (record.folder / f"{record.stem}_bouts.csv").unlink(missing_ok=True)


def _wait_for_worker(project, worker: str) -> dict:
    """The record of job ``worker`` once it runs (polls; the test fails if it never does)."""
    import json

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = list_runs(project.root)
        path = runs[-1] / "workers" / f"{worker}.json" if runs else None
        if path is not None and path.is_file():
            data = json.loads(path.read_text())
            if data["state"] == "running":
                return data
        time.sleep(0.02)
    raise AssertionError(f"job {worker} never started")


def test_a_killed_job_is_retried_and_every_video_ends_complete_and_correct(trained):
    from ethogram.infer.cluster import predict_on_cluster

    project, _, reference = trained
    _forget_predictions(project)
    # what a run killed while writing leaves: a half CSV and a temporary of a dead process
    half = project.videos[0]
    text = reference[half.stem][0]
    half.predictions_path.write_text(text[: len(text) // 2])
    stale = half.folder / f".{half.predictions_path.name}.{_host_tag()}-{dead_pid()}.x.tmp"
    stale.write_text("partial")
    outcome: dict = {}

    def submit_and_wait() -> None:
        outcome["run"] = predict_on_cluster(
            project, executor="local", jobs_at_once=2, progress=False, poll_s=0.1
        )

    thread = threading.Thread(target=submit_and_wait)
    thread.start()
    killed = _wait_for_worker(project, "1-0")  # the first job of the first attempt
    os.kill(killed["pid"], signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive()
    run_dir, results = outcome["run"]

    assert [r.status for r in results] == ["done"] * N_VIDEOS, [r.reason for r in results]
    states = video_states(run_dir)
    assert [states[i]["attempt"] for i in killed["videos"]] == [MAX_ATTEMPTS] * 2
    for record in project.videos:
        predictions, bouts, probs = reference[record.stem]
        assert record.predictions_path.read_text() == predictions
        assert (record.folder / f"{record.stem}_bouts.csv").read_text() == bouts
        got = read_outputs(record.outputs_path, "tgmj")["P"]
        np.testing.assert_allclose(got, probs, atol=1e-5)
        assert not [p.name for p in record.folder.iterdir() if p.name.endswith(".tmp")]
    assert len(run_status(run_dir).done) == N_VIDEOS


def test_status_reports_done_and_failed_videos_with_the_reason(trained, tmp_path):
    project, _, _ = trained
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    stem = project.videos[1].stem
    done = run_cli("predict", project.root, stem, bad, "--executor", "local")
    assert done.returncode == 2, done.stderr
    assert "failed: broken.mp4" in done.stderr
    assert "1 failed: broken.mp4" in done.stdout

    shown = run_cli("status", project.root)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "(local, 2 videos" in lines[0] and "1 done, 0 running, 0 queued, 1 failed" in lines[0]
    assert lines[1].startswith("  failed: broken.mp4: ")
    states = video_states(list_runs(project.root)[-1])
    assert states[1]["attempt"] == MAX_ATTEMPTS  # the broken video was tried twice


def test_executor_without_submitit_says_how_to_install_it(trained, monkeypatch, capsys):
    from ethogram.cli.main import run

    project, _, _ = trained
    runs_before = list_runs(project.root)
    monkeypatch.setitem(__import__("sys").modules, "submitit", None)
    monkeypatch.setattr(
        "sys.argv", ["ethogram", "predict", str(project.root), "--executor", "slurm"]
    )
    with pytest.raises(SystemExit) as exit_info:
        run()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "pip install 'ethogram[cluster]'" in err and len(err.strip().splitlines()) == 1
    assert list_runs(project.root) == runs_before  # nothing submitted, nothing recorded
