"""Feature extraction into <stem>_outputs.h5: layout, skipping, other groups, interruption."""

from __future__ import annotations

import dataclasses
import shutil
import warnings

import h5py
import numpy as np
import pytest

from ethogram.data.preprocess import flow_to_tensor, prepare_video
from ethogram.errors import ModelError
from ethogram.infer import extract as extract_module
from ethogram.infer.extract import (
    extract_project,
    extract_video,
    is_extracted,
    load_feature_model,
)
from ethogram.io.outputs import read_outputs, write_group
from ethogram.nn.video_norm import STATISTICS_BATCH, statistics_frames, video_statistics
from ethogram.sample import SAMPLE_BEHAVIORS
from ethogram.train.features import train_features
from tests.conftest import run_cli, snapshot
from tests.integration.test_train_features import TINY, make_tiny_project

K = len(SAMPLE_BEHAVIORS)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    project = make_tiny_project(tmp_path_factory.mktemp("extract"), n_videos=2, n_frames=60)
    # the motion stream sees coarser inputs than the spatial stream (features.flow_input_size)
    extra = ["train.stream_epochs=0", "train.epochs=1", "features.flow_input_size=16"]
    settings = project.settings("fast", TINY + extra)
    model_dir = train_features(project, settings, progress=False)
    return project, model_dir


def test_extraction_writes_deepethogram_layout_with_model_id(trained, tmp_path):
    project, model_dir = trained
    model = load_feature_model(model_dir, device="cpu")
    record = project.videos[0]
    out = extract_video(record.video_path, model, tmp_path / "vid_outputs.h5", progress=False)
    data = read_outputs(out, "resnet18")
    t, f = 60, model.model.spatial.num_features
    assert data["P"].shape == (t, K) and data["P"].dtype == np.float32
    assert data["logits"].shape == (t, K)
    assert data["spatial_features"].shape == (t, f)
    assert data["flow_features"].shape == (t, model.model.motion.num_features)
    assert data["thresholds"].shape == (K,)
    assert data["class_names"] == SAMPLE_BEHAVIORS
    np.testing.assert_allclose(data["P"], 1 / (1 + np.exp(-data["logits"])), rtol=1e-5)
    assert data["attrs"]["model_id"] == model_dir.name
    assert data["attrs"]["model_dir"] == str(model_dir.resolve())


def _adapted_probabilities(model, arrays, rgb, flow):
    """Probabilities with the motion stream's statistics measured as training's validation does."""
    n_flows = model.settings.features.n_flows
    order = statistics_frames(arrays.n_frames)
    statistics = [
        (None, flow_to_tensor(arrays.stacks(order[i : i + STATISTICS_BATCH], 1, n_flows)[1]))
        for i in range(0, len(order), STATISTICS_BATCH)
    ]
    with video_statistics(model.model, "flow", statistics):
        return extract_module._run_batch(model, rgb, flow)[0]


def test_extraction_sees_the_same_inputs_as_training(trained, tmp_path):
    project, model_dir = trained
    model = load_feature_model(model_dir, device="cpu")
    record = project.videos[1]
    out = extract_video(record.video_path, model, tmp_path / "o.h5", progress=False)
    arrays = prepare_video(record.video_path, model.settings, progress=False)  # training's cache
    feat = model.settings.features
    rgb, flow = arrays.stacks(np.arange(arrays.n_frames), feat.n_rgb, feat.n_flows)
    assert rgb.shape[2:4] == (32, 32) and flow.shape[-2:] == (16, 16)
    # the statistics pass sees the frames training's validation does (features.video_norm)
    assert feat.video_norm == "flow"
    probs = _adapted_probabilities(model, arrays, rgb, flow)
    np.testing.assert_allclose(read_outputs(out, "resnet18")["P"], probs, atol=1e-5)
    unadapted = extract_module._run_batch(model, rgb, flow)[0]
    assert np.abs(unadapted - probs).max() > 1e-3  # the statistics were put back afterwards


@pytest.mark.parametrize("crop_motion", [False, True])
def test_extraction_crops_around_the_animal_as_training_does(trained, tmp_path, crop_motion):
    """features.crop=animal: extraction finds the background and crops as the cache does.

    With features.crop_motion the statistics pass and extraction compute the flow inside the
    window too, as training's cache does.
    """
    project, model_dir = trained
    model = load_feature_model(model_dir, device="cpu")
    features = model.settings.features.model_copy(
        update={"crop": "animal", "crop_size": 0.5, "crop_motion": crop_motion}
    )
    model = dataclasses.replace(
        model, settings=model.settings.model_copy(update={"features": features})
    )
    record = project.videos[1]
    # the tiny video's mouse barely moves: extraction crops as asked but says so
    with pytest.warns(UserWarning, match="vid1.mp4: an animal was found in only"):
        out = extract_video(record.video_path, model, tmp_path / "o.h5", progress=False)
    with pytest.warns(UserWarning, match="vid1.mp4"):
        arrays = prepare_video(record.video_path, model.settings, progress=False)
    plain = prepare_video(record.video_path, load_feature_model(model_dir).settings, progress=False)
    assert not np.array_equal(np.asarray(arrays.rgb), np.asarray(plain.rgb))
    assert np.array_equal(np.asarray(arrays.flow), np.asarray(plain.flow)) != crop_motion
    feat = model.settings.features
    rgb, flow = arrays.stacks(np.arange(arrays.n_frames), feat.n_rgb, feat.n_flows)
    probs = _adapted_probabilities(model, arrays, rgb, flow)
    np.testing.assert_allclose(read_outputs(out, "resnet18")["P"], probs, atol=1e-5)


@pytest.mark.parametrize("crop", ["none", "animal", "animal+motion"])
def test_a_video_decoded_once_gets_the_features_it_gets_decoded_twice(
    trained, tmp_path, monkeypatch, crop
):
    """The statistics pass keeps what it prepared (short videos): the second pass reuses it."""
    project, model_dir = trained
    model = load_feature_model(model_dir, device="cpu")
    features = model.settings.features.model_copy(
        update={"crop": crop.split("+")[0], "crop_size": 0.5, "crop_motion": "+" in crop}
    )
    model = dataclasses.replace(
        model, settings=model.settings.model_copy(update={"features": features})
    )
    video = project.videos[1].video_path
    decodes = []
    real_prepared = extract_module._prepared
    monkeypatch.setattr(extract_module, "_prepared",
                        lambda *a: decodes.append(1) or real_prepared(*a))  # fmt: skip
    outputs = {}
    for reuse_bytes in (extract_module.REUSE_BYTES, 0):
        monkeypatch.setattr(extract_module, "REUSE_BYTES", reuse_bytes)
        decodes.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tiny video's mouse barely moves (crops)
            path = extract_video(video, model, tmp_path / f"{reuse_bytes}.h5", progress=False)
        outputs[len(decodes)] = read_outputs(path, "resnet18")
    assert sorted(outputs) == [1, 2]  # decoded once, then twice
    for name in ("P", "logits", "spatial_features", "flow_features"):
        np.testing.assert_array_equal(outputs[1][name], outputs[2][name], err_msg=name)


def test_finished_videos_are_skipped_and_other_groups_kept(trained):
    project, model_dir = trained
    record = project.videos[0]
    other = {"P": np.zeros((60, K), np.float32), "class_names": SAMPLE_BEHAVIORS}
    write_group(record.outputs_path, "tgmj", other, attrs={"model_dir": "elsewhere"})
    paths = extract_project(project, model_dir, progress=False)
    assert paths == [r.outputs_path for r in project.videos]
    with h5py.File(record.outputs_path) as f:
        assert sorted(f.keys()) == ["resnet18", "tgmj"]
    assert is_extracted(record.outputs_path, load_feature_model(model_dir))
    before = {p: p.stat().st_mtime_ns for p in paths}
    extract_project(project, model_dir, progress=False)
    assert {p: p.stat().st_mtime_ns for p in paths} == before  # skipped
    extract_project(project, model_dir, videos=[record.stem], overwrite=True, progress=False)
    assert record.outputs_path.stat().st_mtime_ns != before[record.outputs_path]
    assert read_outputs(record.outputs_path, "tgmj")["attrs"]["model_dir"] == "elsewhere"


def test_interrupted_extraction_leaves_the_old_file_intact(trained, monkeypatch):
    project, model_dir = trained
    record = project.videos[1]
    write_group(record.outputs_path, "tgmj", {"P": np.ones((60, K), np.float32)})
    before = snapshot(record.folder)
    calls = []

    def interrupted(*args):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(extract_module, "_run_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extract_project(project, model_dir, videos=[record.stem], overwrite=True, progress=False)
    assert calls
    assert snapshot(record.folder) == before  # no partial file, no temporary left behind


def test_missing_or_unfinished_model_folder_gives_model_error(trained, tmp_path):
    _, model_dir = trained
    with pytest.raises(ModelError, match="not found"):
        load_feature_model(tmp_path / "nope")
    unfinished = tmp_path / "unfinished"
    shutil.copytree(model_dir, unfinished)
    (unfinished / "best.pt").unlink()
    with pytest.raises(ModelError, match="best.pt"):
        load_feature_model(unfinished)


def test_extract_command_skips_finished_videos(trained):
    project, model_dir = trained
    extract_project(project, model_dir, progress=False)
    result = run_cli("extract", project.root, "--model", model_dir.name)
    assert result.returncode == 0, result.stderr
    assert "already extracted" in result.stderr
    help_text = run_cli("extract", "--help").stdout
    assert "ethogram extract mice_project" in help_text
