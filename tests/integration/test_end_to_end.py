"""The whole chain from generated videos, as a user runs it: sample, new, add, train, predict.

Tiny everything (64 px videos of 120 frames, narrow networks, a few steps), so the models are
poor; the test checks that every stage runs and writes files in the right formats, not accuracy.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from ethogram.cli.main import app
from ethogram.io.labels import read_labels
from ethogram.io.outputs import list_groups, read_outputs
from ethogram.project import Project
from tests.conftest import run_cli

N_FRAMES = 120
BEHAVIORS = ["background", "locomotion", "grooming", "turning", "rearing"]
TINY = [
    "features.arch=resnet18",
    "train.epochs=1",
    "train.stream_epochs=0",
    "train.steps_per_epoch=2",
    "train.batch_size=4",
    "features.pretrained=false",
    "features.width=0.25",
    "features.input_size=32",
    "features.n_flows=2",
    "flow.size=32",
    "sequence.epochs=2",
    "sequence.window=32",
    "sequence.hidden=8",
    "sequence.n_filters=4",
    "sequence.steps_per_epoch=2",
]


def invoke(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Sample videos; a project with three of them, trained through every stage."""
    from ethogram.sample import make_sample

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("e2e")
    samples = make_sample(root / "sample", n_videos=4, n_frames=N_FRAMES, size=64, seed=1)
    project_dir = root / "project"
    assert invoke("new", project_dir, "--behaviors", ",".join(BEHAVIORS[1:])).exit_code == 0
    result = invoke("add", project_dir, *[s.video_path for s in samples[:3]])
    assert result.exit_code == 0, result.output
    result = invoke("train", project_dir, "--device", "cpu", *TINY)
    assert result.exit_code == 0, result.output
    torch.set_num_threads(threads)
    return Project.open(project_dir), samples, root


def _check_prediction_files(folder, stem, n_frames):
    csv = folder / f"{stem}_predictions.csv"
    lines = csv.read_text().splitlines()
    assert lines[0] == "," + ",".join(BEHAVIORS)  # unnamed index column, background first
    assert len(lines) == n_frames + 1  # one row per frame
    frame = pd.read_csv(csv, index_col=0)
    assert list(frame.index) == list(range(n_frames))
    values = read_labels(csv, behaviors=BEHAVIORS).values
    assert set(np.unique(values)) <= {0, 1}
    np.testing.assert_array_equal(values[:, 0], (values[:, 1:] == 0).all(axis=1))
    bouts = pd.read_csv(folder / f"{stem}_bouts.csv")
    assert list(bouts.columns[:4]) == ["behavior", "start_frame", "end_frame", "duration_frames"]
    assert {"start_s", "end_s", "duration_s"} <= set(bouts.columns)
    for name in BEHAVIORS[1:]:
        rows = bouts[bouts.behavior == name]
        assert rows.duration_frames.sum() == values[:, BEHAVIORS.index(name)].sum()
    groups = list_groups(folder / f"{stem}_outputs.h5")
    assert groups == ["resnet18", "tgmj"]
    seq = read_outputs(folder / f"{stem}_outputs.h5", "tgmj")
    assert seq["P"].shape == (n_frames, len(BEHAVIORS)) and seq["class_names"] == BEHAVIORS
    feats = read_outputs(folder / f"{stem}_outputs.h5", "resnet18", ["spatial_features"])
    assert feats["spatial_features"].shape[0] == n_frames


def test_training_writes_every_stage_and_sequence_outputs(trained):
    project, _, _ = trained
    for stage in ("features", "sequence"):
        model_dir = project.latest_model(stage)
        assert model_dir is not None, stage
        for name in ("config.yaml", "best.pt", "checkpoint.pt", "metrics.json"):
            assert (model_dir / name).is_file(), (stage, name)
    assert project.model_dirs("flow") == []  # DIS flow needs no training
    for record in project.videos:
        assert list_groups(record.outputs_path) == ["resnet18", "tgmj"]


def test_predicting_a_held_out_video_writes_csv_bouts_and_outputs(trained, tmp_path):
    project, samples, _ = trained
    held_out = samples[3].video_path
    result = invoke("predict", project.root, held_out, "--out", tmp_path / "preds")
    assert result.exit_code == 0, result.output
    assert "1 predicted (120 frames), 0 skipped" in result.output
    _check_prediction_files(tmp_path / "preds", held_out.stem, N_FRAMES)
    again = invoke("predict", project.root, held_out, "--out", tmp_path / "preds")
    assert "0 predicted (0 frames), 1 skipped" in again.output


def test_project_videos_are_predicted_into_their_folders(trained):
    project, _, _ = trained
    result = invoke("predict", project.root)
    assert result.exit_code == 0, result.output
    for record in project.videos:
        _check_prediction_files(record.folder, record.stem, N_FRAMES)


def test_the_windows_predict_task_reports_done_and_skipped_videos(trained):
    from ethogram.gui import tasks  # the function a GUI job runs in its child process

    project, _, _ = trained
    stem = project.videos[0].stem
    first = tasks.predict(str(project.root), [stem], overwrite=True)
    assert first["done"] == [stem] and first["skipped"] == [] and first["failed"] == {}
    assert first["summary"].startswith("1 predicted (120 frames), 0 skipped")
    _check_prediction_files(project.videos[0].folder, stem, N_FRAMES)
    again = tasks.predict(str(project.root), [stem], overwrite=False)
    assert again["done"] == [] and again["skipped"] == [stem]


def test_a_corrupt_video_among_good_ones_is_reported_and_the_others_finish(trained, tmp_path):
    project, samples, _ = trained
    good = samples[3].video_path
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:3000])  # a recording cut short
    out = tmp_path / "out"
    result = run_cli("predict", project.root, broken, good, "--out", out)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "failed: broken.mp4:" in result.stderr
    assert "1 predicted (120 frames), 0 skipped (already done), 1 failed: broken.mp4" in (
        result.stdout
    )
    assert (out / f"{good.stem}_predictions.csv").is_file()
    assert not (out / "broken_predictions.csv").exists()


def test_classifier_in_three_lines(trained):
    from ethogram import Classifier

    project, samples, _ = trained
    clf = Classifier.from_project(project.root)
    frame = clf.predict(samples[3].video_path)
    assert frame.shape == (N_FRAMES, len(BEHAVIORS)) and list(frame.columns) == BEHAVIORS
    assert clf.behaviors == BEHAVIORS
    # nothing is written beside the video
    assert not list(samples[3].video_path.parent.glob("*_outputs.h5"))


def test_evaluating_a_predict_out_folder_uses_its_probabilities_and_skips_bout_tables(
    trained, tmp_path
):
    import json

    project, samples, _ = trained
    held_out = samples[3]
    preds = tmp_path / "preds"
    assert invoke("predict", project.root, held_out.video_path, "--out", preds).exit_code == 0
    assert (preds / f"{held_out.stem}_bouts.csv").is_file()
    # the sample's labels folder holds labels of the training videos too: one line about them
    result = run_cli(
        "evaluate", "--labels", held_out.labels_path.parent, "--predictions", preds,
        "--out", tmp_path / "ev", "--fps", "30",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning")]
    assert warnings == [
        f"warning: 3 label file(s) in {held_out.labels_path.parent} have no predictions, "
        "skipped: sample_000_labels.csv, sample_001_labels.csv, sample_002_labels.csv"
    ]
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["n_videos"] == 1
    assert metrics["overall"]["ap_macro"] is not None  # probabilities from the outputs file
    # the outputs files name the model: its training curves and settings join the report
    assert (tmp_path / "ev" / "figures" / "training_curves.png").is_file()
    assert "Model settings (config.yaml)" in (tmp_path / "ev" / "report.html").read_text()


def test_onnx_runtime_predicts_what_torch_predicts(trained, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from ethogram.infer.onnx_export import read_export_record, stale_reason

    project, samples, _ = trained
    held_out = samples[3].video_path
    # in child processes, as a user runs it (and torch's state in this process stays as it was)
    result = run_cli("export-model", project.root)
    assert result.returncode == 0, result.stderr
    feature_dir = project.latest_model("features")
    assert (feature_dir / "features.onnx").is_file() and stale_reason(feature_dir) is None
    record = read_export_record(feature_dir)
    assert record["model_id"] == feature_dir.name
    assert record["statistics_inputs"][0].startswith("motion.")  # features.video_norm=flow
    outs = {}
    for runtime in ("torch", "onnx"):
        out = tmp_path / runtime
        result = run_cli("predict", project.root, held_out, "--out", out, "--runtime", runtime)
        assert result.returncode == 0, result.stderr
        outs[runtime] = out
    stem = held_out.stem
    _check_prediction_files(outs["onnx"], stem, N_FRAMES)
    for group, names in (("resnet18", ["P", "spatial_features", "flow_features"]), ("tgmj", ["P"])):
        expected = read_outputs(outs["torch"] / f"{stem}_outputs.h5", group, names)
        found = read_outputs(outs["onnx"] / f"{stem}_outputs.h5", group, names)
        for name in names:
            np.testing.assert_allclose(found[name], expected[name], atol=1e-4, err_msg=name)
    torch_csv, onnx_csv = (read_labels(o / f"{stem}_predictions.csv").values for o in outs.values())
    assert (torch_csv == onnx_csv).all(axis=1).mean() >= 0.995


def test_cluster_jobs_run_the_onnx_runtime_and_predict_what_local_torch_predicts(trained, tmp_path):
    """`predict --executor local --runtime onnx`: submitit jobs extract with onnxruntime."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    pytest.importorskip("submitit")
    project, samples, _ = trained
    held_out = samples[3].video_path
    local, jobs = tmp_path / "local", tmp_path / "jobs"
    result = run_cli("predict", project.root, held_out, "--out", local, "--runtime", "torch")
    assert result.returncode == 0, result.stderr
    result = run_cli("predict", project.root, held_out, "--out", jobs, "--executor", "local",
                     "--runtime", "onnx", "--jobs-at-once", "1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    stem = held_out.stem
    _check_prediction_files(jobs, stem, N_FRAMES)
    for group in ("resnet18", "tgmj"):
        expected = read_outputs(local / f"{stem}_outputs.h5", group, ["P"])["P"]
        found = read_outputs(jobs / f"{stem}_outputs.h5", group, ["P"])["P"]
        np.testing.assert_allclose(found, expected, atol=1e-4, err_msg=group)
    torch_csv, onnx_csv = (read_labels(o / f"{stem}_predictions.csv").values for o in (local, jobs))
    assert (torch_csv == onnx_csv).all(axis=1).mean() >= 0.995
    # the jobs were told to run onnxruntime, whose export was made before submitting
    from ethogram.infer.cluster_record import list_runs, read_run

    assert read_run(list_runs(project.root)[-1])["runtime"] == "onnx"
    assert (project.latest_model("features") / "features.onnx").is_file()


def test_a_stale_onnx_export_is_made_again_before_predicting(trained, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    import shutil

    from ethogram.infer.onnx_export import read_export_record, stale_reason

    project, samples, _ = trained
    feature_dir = tmp_path / "features_copy"
    shutil.copytree(project.latest_model("features"), feature_dir)
    assert run_cli("export-model", project.root, "--model", feature_dir).returncode == 0
    before = read_export_record(feature_dir)
    with open(feature_dir / "config.yaml", "a") as f:
        f.write("# edited\n")  # the settings file is not the one the export came from
    assert "config.yaml changed since the export" in stale_reason(feature_dir)
    result = run_cli("predict", project.root, samples[3].video_path, "--out", tmp_path / "p",
                     "--model", feature_dir, "--runtime", "onnx")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "exporting features_copy to ONNX (" in result.stderr  # said while it does it
    assert stale_reason(feature_dir) is None
    assert read_export_record(feature_dir)["sources"] != before["sources"]


def test_the_onnx_runtime_without_onnxruntime_says_how_to_install_it(trained):
    import os
    import subprocess

    project, _, _ = trained
    block = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'onnxruntime':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"sys.argv = ['ethogram', 'predict', {str(project.root)!r}, '--runtime', 'onnx']\n"
        "from ethogram.cli.main import run\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                            env=dict(os.environ, NO_COLOR="1"), timeout=300)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the ONNX runtime needs the package onnxruntime, which is not installed: "
        "pip install 'ethogram[onnx]'"
    ]
