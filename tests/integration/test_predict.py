"""Predicting project videos: CSV formats, bouts, skipping, failures, the Classifier facade.

The project's videos are real (tiny) files whose outputs already hold features, so these tests
exercise the sequence model, post-processing and files without running the feature extractor
(the end-to-end test runs the whole chain from pixels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ethogram.errors import EthogramError
from ethogram.infer.predict import collect_targets, predict, summary_line
from ethogram.io.atomic import _host_tag
from ethogram.io.labels import read_labels
from ethogram.io.outputs import read_outputs
from ethogram.io.video import write_video
from ethogram.train.sequence import train_sequence
from tests.conftest import dead_pid
from tests.integration.test_train_sequence import NAMES, _settings, make_feature_project

N_FRAMES = 90


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project of 3 real tiny videos with features, and a trained sequence model."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("predict") / "proj"
    project = make_feature_project(root, n_videos=3, n_frames=N_FRAMES)
    rng = np.random.default_rng(0)
    for record in project.videos:
        record.video_path.unlink()
        frames = rng.integers(0, 255, (N_FRAMES, 32, 32, 3), dtype=np.uint8)
        write_video(record.folder / f"{record.stem}.mp4", frames, fps=15)
    model_dir = train_sequence(project, _settings("sequence.epochs=2"), progress=False)
    torch.set_num_threads(threads)
    return project, model_dir


def test_project_videos_get_predictions_bouts_and_probabilities(trained):
    project, model_dir = trained
    results = predict(project, overwrite=True, progress=False)
    assert [r.status for r in results] == ["done"] * 3, [r.reason for r in results]
    for record in project.videos:
        csv = record.predictions_path
        header = csv.read_text().splitlines()[0]
        assert header == "," + ",".join(NAMES)  # unnamed index column, background first
        table = read_labels(csv, n_frames=N_FRAMES)
        assert table.behaviors == NAMES
        assert set(np.unique(table.values)) <= {0, 1}
        # background is 1 exactly when no other behavior is
        np.testing.assert_array_equal(table.values[:, 0], table.values[:, 1:].max(axis=1) == 0)
        bouts = pd.read_csv(record.folder / f"{record.stem}_bouts.csv")
        assert list(bouts.columns) == [
            "behavior",
            "start_frame",
            "end_frame",
            "duration_frames",
            "start_s",
            "end_s",
            "duration_s",
        ]
        assert set(bouts["behavior"]) <= {"groom", "rear"}
        np.testing.assert_allclose(bouts["duration_s"], bouts["duration_frames"] / 15, atol=1e-6)
        groom = table.values[:, 1] == 1
        assert bouts.loc[bouts.behavior == "groom", "duration_frames"].sum() == groom.sum()
        out = read_outputs(record.outputs_path, "tgmj")
        assert out["P"].shape == (N_FRAMES, 3)
        assert out["attrs"]["model_dir"] == str(model_dir)


def test_second_run_skips_finished_videos_and_overwrite_redoes_them(trained):
    project, _ = trained
    predict(project, progress=False)
    before = project.videos[0].predictions_path.stat().st_mtime_ns
    results = predict(project, progress=False)
    assert [r.status for r in results] == ["skipped"] * 3
    assert project.videos[0].predictions_path.stat().st_mtime_ns == before
    assert summary_line(results).startswith("0 predicted (0 frames), 3 skipped")
    project.videos[1].predictions_path.unlink()
    assert [r.status for r in predict(project, progress=False)] == ["skipped", "done", "skipped"]


def test_a_corrupt_video_is_reported_and_the_others_finish(trained, tmp_path):
    project, _ = trained
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    stems = [r.stem for r in project.videos]
    results = predict(project, [stems[0], str(bad), stems[1]], overwrite=True, progress=False)
    assert [r.status for r in results] == ["done", "failed", "done"]
    assert "broken.mp4" in results[1].reason
    assert not (tmp_path / "broken_predictions.csv").exists()
    assert summary_line(results).endswith("1 failed: broken.mp4")


def test_predictions_go_to_the_out_folder_and_clashing_names_are_refused(trained, tmp_path):
    project, _ = trained
    stem = project.videos[0].stem
    targets = collect_targets(project, [stem], out=tmp_path / "out")
    assert targets[0].predictions_path == tmp_path / "out" / f"{stem}_predictions.csv"
    a, b = tmp_path / "a" / "x.mp4", tmp_path / "b" / "x.mp4"
    for path in (a, b):
        path.parent.mkdir()
        path.write_bytes(b"")
    with pytest.raises(EthogramError, match="would both write"):
        collect_targets(project, [a, b], out=tmp_path / "out")
    with pytest.raises(EthogramError, match="no such video"):
        collect_targets(project, ["not_a_video_name"])


def test_classifier_predicts_a_dataframe_per_frame(trained):
    from ethogram import Classifier

    project, model_dir = trained
    clf = Classifier.from_project(project.root)
    assert clf.model_dir == model_dir and clf.behaviors == NAMES
    record = project.videos[0]
    proba = clf.predict_proba(record.video_path, outputs=record.outputs_path)
    frame = clf.predict(record.video_path, outputs=record.outputs_path)
    assert proba.shape == frame.shape == (N_FRAMES, 3)
    assert list(frame.columns) == NAMES
    assert set(np.unique(frame.to_numpy())) <= {0, 1}
    np.testing.assert_allclose(proba.to_numpy(), read_outputs(record.outputs_path, "tgmj")["P"])
    assert Classifier.from_dir(model_dir).thresholds == clf.thresholds


def test_a_feature_model_predicts_alone_with_min_bouts_from_the_labels(trained, tmp_path):
    from ethogram.infer.predictor import Predictor, project_labels

    project, _ = trained
    feature_dir = project.latest_model("features")
    predictor = Predictor(feature_dir, label_arrays=project_labels(project))
    assert predictor.stage == "features"
    from ethogram.infer.postprocess import resolve_min_bout

    labels = [project.read_labels(r.stem).values for r in project.labeled_videos()]
    # 'auto': half the 5th percentile of the project's labeled bout lengths
    assert predictor.min_bout_frames == resolve_min_bout("auto", project.behaviors, labels)
    assert max(predictor.min_bout_frames.values()) > 1
    stem = project.videos[0].stem
    results = predict(project, [stem], model=feature_dir.name, progress=False)
    assert results[0].status == "done", results[0].reason
    record = project.videos[0]
    feature_p = read_outputs(record.outputs_path, "resnet18")["P"]
    expected = predictor.ethogram(feature_p)
    np.testing.assert_array_equal(read_labels(record.predictions_path).values, expected)
    # the CSVs now come from the feature model: the sequence model predicts this video again
    statuses = [r.status for r in predict(project, progress=False)]
    assert statuses == ["done", "skipped", "skipped"]


def test_a_feature_model_whose_training_did_not_finish_is_refused_with_how_to_finish_it(
    trained, tmp_path
):
    import json
    import shutil

    from ethogram.errors import ModelError
    from ethogram.infer.predictor import Predictor

    project, _ = trained
    unfinished = tmp_path / project.latest_model("features").name
    shutil.copytree(project.latest_model("features"), unfinished)
    metrics = json.loads((unfinished / "metrics.json").read_text())
    metrics.pop("thresholds", None)  # killed after best.pt, before the final metrics
    (unfinished / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(ModelError, match="did not finish.*--resume"):
        Predictor(unfinished)


class Killed(BaseException):
    """Stands for ``kill -9``: nothing after it runs, and ``predict`` does not catch it."""


def _kill(*args, **kwargs):
    raise Killed


def _assert_whole(project, stem, model_dir):
    """The CSVs of ``stem`` are the sequence model's prediction, and its bouts are theirs."""
    from ethogram.infer.predictor import Predictor
    from ethogram.summarize import bouts_table

    record = project.video(stem)
    predictor = Predictor(model_dir)
    expected = predictor.ethogram(read_outputs(record.outputs_path, "tgmj")["P"])
    values = read_labels(record.predictions_path).values
    np.testing.assert_array_equal(values, expected)
    bouts = pd.read_csv(record.folder / f"{stem}_bouts.csv")
    pd.testing.assert_frame_equal(bouts, bouts_table(values, NAMES, 15.0), check_dtype=False)


@pytest.mark.parametrize("killed_before", ["bouts CSV", "outputs record"])
def test_predict_killed_between_its_writes_is_redone_by_the_next_run(
    trained, monkeypatch, killed_before
):
    import ethogram.infer.predictor as predictor_module
    import ethogram.io.outputs as outputs_module

    project, model_dir = trained
    stem = project.videos[0].stem
    feature_dir = project.latest_model("features")
    old = predict(project, [stem], model=feature_dir.name, overwrite=True, progress=False)
    assert old[0].status == "done"  # the files hold another model's prediction
    if killed_before == "bouts CSV":
        monkeypatch.setattr(predictor_module, "write_bouts", _kill)
    else:
        monkeypatch.setattr(predictor_module, "write_group", _kill)
        monkeypatch.setattr(outputs_module, "set_file_attrs", _kill)
    with pytest.raises(Killed):  # the sequence model, computing its probabilities again
        predict(project, [stem], overwrite=True, progress=False)
    monkeypatch.undo()
    folder = project.video(stem).folder  # what kill -9 during the outputs write leaves
    left = folder / f".{stem}_outputs.h5.{_host_tag()}-{dead_pid()}.k3j_a9x2.tmp.h5"
    left.write_bytes(b"half an HDF5 file")
    results = predict(project, [stem], progress=False)
    assert results[0].status == "done", results[0].reason
    _assert_whole(project, stem, model_dir)
    assert not [p.name for p in folder.iterdir() if ".tmp" in p.name]
    assert predict(project, [stem], progress=False)[0].status == "skipped"


def test_a_predictions_csv_cut_short_is_predicted_again(trained):
    project, model_dir = trained
    stem = project.videos[1].stem
    predict(project, [stem], progress=False)
    path = project.video(stem).predictions_path
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: N_FRAMES // 2]))
    results = predict(project, [stem], progress=False)
    assert results[0].status == "done", results[0].reason
    assert read_labels(path).n_frames == N_FRAMES
    _assert_whole(project, stem, model_dir)
