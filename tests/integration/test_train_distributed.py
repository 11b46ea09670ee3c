"""Training with several processes (DistributedDataParallel): 2 CPU processes on gloo.

The ranks are real processes started by :func:`ethogram.train.launch.launch`; what they run is in
``tests/distributed_support.py``.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from ethogram.errors import ConfigError, DistributedError
from ethogram.models.checkpoint import load_training_checkpoint
from ethogram.progress import reporting_to
from ethogram.train.launch import backend_for, choose_port, launch
from tests import distributed_support
from tests.integration.test_train_features import TINY, make_tiny_project

# Validation blocks in every video (every behavior is validated), no augmentation and no dropout
# (their random draws differ by rank); train.batch_size is the total of the two processes' shares.
# A moderate learning rate: with 0.003, rounding differences (sums in another order) grow through
# Adam's steps into validation F1 differences of up to 0.03 between any two runs that differ only
# in rounding (e.g. thread counts); with 0.001 the two-process F1 stayed within 0.001 of the
# one-process F1 for each of 5 seeds.
COMPARED = TINY + [
    "features.dropout=0",
    "train.lr=0.001",
    "train.validation=blocks",
    "train.stream_epochs=1",
    "train.epochs=3",
    "train.steps_per_epoch=6",
    "train.batch_size=32",
    "train.augment=false",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    # 158 frames, 150 labeled: each video holds a 30-frame validation block
    return make_tiny_project(tmp_path_factory.mktemp("ddp"), n_videos=4, n_frames=158)


@pytest.fixture(scope="module")
def two_ranks(project):
    """The feature stage trained by 2 processes, every rank's weight digest after every step."""
    args = (str(project.root), COMPARED)
    return launch(distributed_support.train_features_gathering_digests, args, devices=2,
                  device="cpu")  # fmt: skip


def test_both_ranks_hold_the_same_weights_after_every_step(two_ranks):
    steps = two_ranks["steps"]
    # 1 spatial + 1 flow + 3 fused epochs of 6 steps
    assert two_ranks["world"] == 2 and len(steps) == 5 * 6
    assert all(len(digests) == 2 and digests[0] == digests[1] for digests in steps)
    assert len({digests[0] for digests in steps}) == len(steps)  # the weights did change


def test_two_ranks_validate_as_one_process_trained_on_the_same_batches(project, two_ranks):
    # the one-process run in a fresh process too: the same threads and state as the ranks
    args = (str(project.root), COMPARED)
    one_dir = launch(distributed_support.train_features_in_rank, args, devices=1, device="cpu")
    one = json.loads((Path(one_dir) / "metrics.json").read_text())
    two = json.loads((Path(two_ranks["model_dir"]) / "metrics.json").read_text())
    assert one["split"] == two["split"]
    assert len(two["epochs"]) == 5 and all("val_f1_macro" in e for e in two["epochs"])
    assert two["epochs"][-1]["train_loss"] < two["epochs"][0]["train_loss"]  # it learned
    assert abs(two["val"]["f1_macro"] - one["val"]["f1_macro"]) <= 0.02
    first = [e["train_loss"] for e in one["epochs"]]
    np.testing.assert_allclose([e["train_loss"] for e in two["epochs"]], first, rtol=0.05)


def test_a_step_of_two_ranks_is_the_step_of_one_process_on_the_whole_batch(project):
    args = (str(project.root), COMPARED)
    one = distributed_support.first_step_gradients(*args)
    two = launch(distributed_support.first_step_gradients, args, devices=2, device="cpu")
    assert one.keys() == two.keys() and any(name.startswith("spatial.") for name in one)
    for name, values in one.items():  # batch norm over both shares, each share's loss weighed
        grad = torch.tensor(values)
        # rounding only: sums in another order (per-share batch norm differs by about 1e-2)
        torch.testing.assert_close(
            torch.tensor(two[name]), grad, rtol=1e-3, atol=1e-4 * grad.abs().max()
        )


def test_a_two_rank_model_holds_plain_weights_and_thresholds(two_ranks):
    best = load_training_checkpoint(Path(two_ranks["model_dir"]) / "best.pt")
    assert not any(key.startswith("module.") for key in best["model"])  # not DDP's names
    assert len(best["extra"]["thresholds"]) == len(best["extra"]["class_names"])


def test_both_ranks_hold_the_same_motionnet_weights_after_every_step(project):
    motionnet = ["flow.method=motionnet", "flow.arch=TinyMotionNet", "flow.size=32",
                 "flow.stack_frames=3", "flow.epochs=2", "flow.steps_per_epoch=3",
                 "flow.batch_size=4", "device=cpu"]  # fmt: skip
    args = (str(project.root), motionnet)
    done = launch(distributed_support.train_flow_gathering_digests, args, devices=2, device="cpu")
    steps = done["steps"]
    assert len(steps) == 2 * 3 and all(digests[0] == digests[1] for digests in steps)
    assert len({digests[0] for digests in steps}) == len(steps)
    model_dir = Path(done["model_dir"])
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [0, 1] and metrics["epochs"][1]["val_loss"]
    assert (model_dir / "figures" / "flow_examples.png").is_file()


def test_early_stopping_on_rank_0_ends_every_rank_at_the_same_epoch(project):
    settings = [*TINY, "train.stream_epochs=0", "train.epochs=6", "train.steps_per_epoch=2",
                "train.keep=best", "train.patience=2"]  # fmt: skip
    args = (str(project.root), settings)
    done = launch(distributed_support.train_features_with_falling_validation, args, devices=2,
                  device="cpu")  # fmt: skip
    assert done["trained"] == [[0, 1, 2], [0, 1, 2]]  # best at epoch 0, then 2 without gain
    metrics = json.loads((Path(done["model_dir"]) / "metrics.json").read_text())
    assert metrics["stopped_early"] and metrics["best_epoch"] == 0


def test_a_batch_smaller_than_the_devices_is_refused_before_starting(project):
    from ethogram.train.pipeline import train_project

    before = project.model_dirs("features")
    with pytest.raises(ConfigError, match=r"train.batch_size=1 is the total over all devices"):
        train_project(project, stage="features", overrides=[*TINY, "train.batch_size=1"],
                      devices=2, progress=False)  # fmt: skip
    assert project.model_dirs("features") == before


def test_synced_batchnorm_on_two_shares_equals_batchnorm_on_the_whole_batch():
    ranks = launch(distributed_support.synced_batchnorm_on_a_share, devices=2, device="cpu")
    batch = torch.randn(7, 3, 4, 4, generator=torch.Generator().manual_seed(0)) * 2 + 1
    batch.requires_grad_(True)
    layer = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, 0.5, 2.0]))
    out = layer(batch)
    (out * torch.arange(batch.numel()).view_as(batch).float()).sum().backward()
    for rank, lists in enumerate(ranks):  # rank r holds rows r, r + 2, ...
        got = {key: torch.tensor(values) for key, values in lists.items()}
        torch.testing.assert_close(got["out"], out.detach()[rank::2], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(got["grad"], batch.grad[rank::2], atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(got["mean"], layer.running_mean, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(got["var"], layer.running_var, atol=1e-6, rtol=1e-5)


def test_a_failing_rank_stops_the_others_and_is_named_with_its_message():
    with pytest.raises(DistributedError, match=r"^rank 1 of 2 failed: no labels in vid3\.csv"):
        launch(distributed_support.fail_on_rank, (1, "no labels in vid3.csv"), devices=2,
               device="cpu")  # fmt: skip


def test_rank_0_progress_and_logs_reach_the_launchers_reporter(caplog):
    # the window's jobs install a reporter: rank 0's bars and log lines come back to it
    events = []
    with caplog.at_level(logging.INFO, logger="ethogram.train"), reporting_to(events.append):
        assert launch(distributed_support.count_with_a_bar_and_log, (7,), devices=2,
                      device="cpu") == 0  # fmt: skip
    assert {e.description for e in events} == {"steps of rank 0"}
    assert [e.kind for e in events][0] == "start" and events[-1].kind == "end"
    assert max(e.completed for e in events) == 7 and events[-1].total == 7
    said = [r.getMessage() for r in caplog.records if r.name == "ethogram.train"]
    assert said == ["rank 0 counted 7 steps"]


def test_a_rank_0_result_that_is_not_plain_data_is_refused_naming_where():
    with pytest.raises(DistributedError, match=r"found \w*Path at result\['model_dir'\]"):
        launch(distributed_support.model_folder_as_path, devices=1, device="cpu")


def test_a_port_in_use_is_refused_in_one_line(monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("MASTER_PORT", str(busy.getsockname()[1]))
        with pytest.raises(DistributedError, match="is in use"):
            choose_port("127.0.0.1")


def test_without_master_port_a_free_port_is_chosen(monkeypatch):
    monkeypatch.delenv("MASTER_PORT", raising=False)
    port = choose_port("127.0.0.1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # free


def test_more_devices_than_gpus_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(ConfigError, match="asks for 4 GPUs but this machine has 2"):
        backend_for(4, "auto")
    assert backend_for(2, "auto") == "nccl"


def test_processes_on_cpu_use_gloo():
    assert backend_for(2, "cpu") == "gloo"


def test_train_with_two_devices_writes_one_model_per_stage_that_predicts(tmp_path):
    from typer.testing import CliRunner

    from ethogram.cli.main import app
    from ethogram.project import Project
    from ethogram.sample import make_sample
    from tests.integration.test_end_to_end import BEHAVIORS, N_FRAMES
    from tests.integration.test_end_to_end import TINY as E2E

    def invoke(*args):
        result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    samples = make_sample(tmp_path / "sample", n_videos=3, n_frames=N_FRAMES, size=64, seed=1)
    root = tmp_path / "project"
    invoke("new", root, "--behaviors", ",".join(BEHAVIORS[1:]))
    invoke("add", root, *[s.video_path for s in samples[:2]])
    # MotionNet flow too: both stages that train with several processes
    motionnet = ["flow.method=motionnet", "flow.arch=TinyMotionNet", "flow.stack_frames=3",
                 "flow.epochs=1", "flow.steps_per_epoch=2", "flow.batch_size=4"]  # fmt: skip
    result = invoke("train", root, "--device", "cpu", "--devices", "2", *E2E, *motionnet)
    assert result.output.rstrip().endswith(f"Done. Next: ethogram predict {root}")
    project = Project.open(root)
    for stage in ("flow", "features", "sequence"):
        assert len(project.model_dirs(stage)) == 1, stage
        assert (project.latest_model(stage) / "best.pt").is_file(), stage
    held_out = samples[2].video_path
    invoke("predict", root, held_out, "--out", tmp_path / "preds")
    predictions = (tmp_path / "preds" / f"{held_out.stem}_predictions.csv").read_text()
    assert len(predictions.splitlines()) == N_FRAMES + 1


def test_under_torchrun_the_ranks_train_together_and_rank_0_alone_speaks(project):
    import os
    import subprocess
    import sys

    before = set(project.model_dirs("features"))
    quick = TINY + ["train.stream_epochs=0", "train.epochs=1", "train.steps_per_epoch=2"]
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    env.pop("MASTER_PORT", None)
    port = choose_port("127.0.0.1")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_port", port, "-m", "ethogram", "train", project.root,
               "--stage", "features", *quick]  # fmt: skip
    done = subprocess.run(
        list(map(str, command)), capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Done. Next: ethogram predict") == 1
    assert done.stderr.count("Training stage features") == 0  # on stdout, once
    assert done.stdout.count("Training stage features") == 1
    [made] = set(project.model_dirs("features")) - before
    assert (made / "best.pt").is_file()
