"""Training the sequence model on features in outputs files: learns, resumes, writes outputs.

The project here has real files: label CSVs, outputs files with features that carry the labels
under heavy per-frame noise (so temporal context helps), a feature model folder with its split.
The videos are placeholders: the sequence stage never decodes a video when features exist.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
import yaml

from ethogram.config import load_settings, save_settings
from ethogram.infer.sequence import (
    load_sequence_model,
    sequence_logits,
    sigmoid,
    write_sequence_outputs,
)
from ethogram.io.labels import write_labels
from ethogram.io.outputs import list_groups, read_outputs, write_group
from ethogram.models.checkpoint import save_checkpoint
from ethogram.project import Project
from ethogram.train.sequence import train_sequence

NAMES = ["background", "groom", "rear"]
FEATURE_DIR = "240101_000000_features"


def _labels(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    values = np.zeros((n_frames, 3), np.int8)
    t = 0
    while t < n_frames:
        length = int(rng.integers(15, 40))
        values[t : t + length, int(rng.integers(0, 3))] = 1
        t += length
    return values


def make_feature_project(root, n_videos=5, n_frames=240, noise=1.6, seed=0) -> Project:
    """A project whose outputs files hold noisy features of known labels."""
    rng = np.random.default_rng(seed)
    project = Project.create(root, NAMES)
    model_dir = project.models_dir / FEATURE_DIR
    model_dir.mkdir()
    basis = rng.normal(size=(3, 16)).astype(np.float32)
    stems = [f"v{i}" for i in range(n_videos)]
    for stem in stems:
        folder = project.data_dir / stem
        folder.mkdir()
        (folder / f"{stem}.mp4").write_bytes(b"placeholder")
        labels = _labels(n_frames, rng)
        write_labels(folder / f"{stem}_labels.csv", labels, NAMES, backup=False)
        clean = labels.astype(np.float32) @ basis
        spatial = clean[:, :8] + noise * rng.normal(size=(n_frames, 8)).astype(np.float32)
        flow = clean[:, 8:] + noise * rng.normal(size=(n_frames, 8)).astype(np.float32)
        logits = (labels * 2.0 - 1.0) + noise * rng.normal(size=labels.shape)
        write_group(
            folder / f"{stem}_outputs.h5",
            "resnet18",
            {
                "P": (1 / (1 + np.exp(-logits))).astype(np.float32),
                "logits": logits.astype(np.float32),
                "spatial_features": spatial,
                "flow_features": flow,
                "thresholds": np.full(3, 0.5, np.float32),
                "class_names": NAMES,
            },
            attrs={"model_dir": str(model_dir)},
        )
    split = {"train": stems[:-2], "val": [stems[-2]], "test": [stems[-1]]}
    (model_dir / "split.yaml").write_text(yaml.safe_dump(split))
    save_checkpoint(model_dir / "best.pt", {"model": {}})
    save_settings(load_settings("fast"), model_dir / "config.yaml")
    metrics = {"stage": "features", "class_names": NAMES, "thresholds": [0.5, 0.5, 0.5]}
    (model_dir / "metrics.json").write_text(json.dumps(metrics))
    return project


def _settings(*extra: str):
    overrides = [
        "device=cpu",
        "sequence.window=48",
        "sequence.hidden=16",
        "sequence.n_filters=4",
        "sequence.filter_length=9",
        "sequence.num_layers=2",
        "sequence.batch_size=4",
        "sequence.steps_per_epoch=2",
        "sequence.lr=0.01",
        "sequence.dropout=0.1",
        "postprocess.min_bout=3",
        *extra,
    ]
    return load_settings("fast", overrides=overrides)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_sequence_training_reduces_loss_and_writes_the_model_folder(tmp_path):
    project = make_feature_project(tmp_path / "proj")
    model_dir = train_sequence(project, _settings("sequence.epochs=6"), progress=False)
    assert model_dir.parent == project.models_dir and "_sequence_tgmj" in model_dir.name
    for name in ("config.yaml", "checkpoint.pt", "best.pt", "figures/training_curves.png"):
        assert (model_dir / name).is_file(), name
    metrics = json.loads((model_dir / "metrics.json").read_text())
    epochs = metrics["epochs"]
    assert len(epochs) == 6
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert metrics["stage"] == "sequence" and metrics["class_names"] == NAMES
    assert metrics["split"]["test"] == ["v4"]
    assert len(metrics["thresholds"]) == 3
    best = torch.load(model_dir / "best.pt", weights_only=True)
    outputs = read_outputs(project.videos[0].outputs_path, "resnet18")
    # by default it reads both streams' CNN features (DeepEthogram's input), not the K logits
    width = outputs["spatial_features"].shape[1] + outputs["flow_features"].shape[1]
    assert best["extra"]["in_features"] == width
    assert metrics["min_bout_frames"] == {"groom": 3, "rear": 3}
    from ethogram.train.validation_support import thin_behaviors

    val_labels = [project.read_labels(s).values for s in metrics["split"]["val"]]
    assert metrics["thin_validation_behaviors"] == thin_behaviors(val_labels, NAMES)
    test = metrics["test"]
    assert test["videos"] == ["v4"]
    assert test["sequence"]["f1_macro"] > test["features"]["f1_macro"]
    # every video got the sequence model's group, beside the feature extractor's
    for record in project.videos:
        assert list_groups(record.outputs_path) == ["resnet18", "tgmj"]
        out = read_outputs(record.outputs_path, "tgmj")
        assert out["P"].shape == (240, 3) and out["class_names"] == NAMES
        assert 0 <= out["P"].min() and out["P"].max() <= 1
        np.testing.assert_allclose(out["thresholds"], metrics["thresholds"], rtol=1e-6)
        assert out["attrs"]["model_dir"] == str(model_dir)


def test_spatial_weight_scales_the_spatial_inputs_in_training_and_prediction(tmp_path):
    project = make_feature_project(tmp_path / "proj", n_videos=4, n_frames=120)
    settings = _settings("sequence.epochs=1", "sequence.spatial_weight=1")
    plain_dir = train_sequence(project, settings, progress=False)
    plain = load_sequence_model(plain_dir)
    settings = _settings("sequence.epochs=1", "sequence.spatial_weight=0.25")
    model_dir = train_sequence(project, settings, progress=False)
    assert model_dir != plain_dir
    weighted = load_sequence_model(model_dir)
    assert weighted.settings.sequence.spatial_weight == 0.25
    record = project.videos[0]
    inputs = weighted.load_inputs(record.outputs_path, "resnet18")
    assert inputs.spatial_columns == 8  # make_feature_project: 8 spatial, then 8 flow columns
    x = torch.from_numpy(inputs.features)
    a, b = plain.model._normalized(x), weighted.model._normalized(x)
    torch.testing.assert_close(b[:, :8], 0.25 * a[:, :8])  # the spatial block, scaled
    torch.testing.assert_close(b[:, 8:], a[:, 8:])  # the flow block, as it was
    # the stored probabilities are the saved model's (the weight travels with it)
    stored = read_outputs(record.outputs_path, "tgmj")["P"]
    np.testing.assert_allclose(stored, sigmoid(sequence_logits(weighted.model, inputs)), atol=1e-5)


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    project = make_feature_project(tmp_path / "proj", n_videos=3, n_frames=120)
    model_dir = train_sequence(project, _settings("sequence.epochs=2"), progress=False)
    # as if interrupted after 2 of 3 epochs: raise the epoch budget in the saved config
    config = yaml.safe_load((model_dir / "config.yaml").read_text())
    config["sequence"]["epochs"] = 3
    (model_dir / "config.yaml").write_text(yaml.safe_dump(config))
    again = train_sequence(project, resume=model_dir, progress=False)
    assert again == model_dir
    epochs = json.loads((model_dir / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1, 2]
    assert len(project.model_dirs("sequence")) == 1


def test_chunked_inference_equals_one_pass_and_outputs_can_be_rewritten(tmp_path):
    project = make_feature_project(tmp_path / "proj", n_videos=3, n_frames=150)
    model_dir = train_sequence(project, _settings("sequence.epochs=1"), progress=False)
    loaded = load_sequence_model(model_dir)
    assert loaded.arch == "tgmj" and loaded.class_names == NAMES
    assert loaded.min_bout_frames == {"groom": 3, "rear": 3}
    record = project.videos[0]
    inputs = loaded.load_inputs(record.outputs_path, "resnet18")
    with pytest.raises(ValueError, match="inputs per frame"):  # another extractor's features
        sequence_logits(loaded.model, replace(inputs, features=inputs.features[:, :5]))
    inputs = loaded.load_inputs(record.outputs_path, "resnet18")
    whole = sequence_logits(loaded.model, inputs, chunk=10_000)
    chunked = sequence_logits(loaded.model, inputs, chunk=32)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    written = write_sequence_outputs(project, model_dir, progress=False, stems=[record.stem])
    assert written == [record.outputs_path]
    np.testing.assert_allclose(
        read_outputs(record.outputs_path, "tgmj")["logits"], whole, atol=1e-5
    )


def test_no_labeled_videos_or_no_feature_model_is_a_clear_error(tmp_path):
    from ethogram.errors import EthogramError

    empty = Project.create(tmp_path / "empty", NAMES)
    with pytest.raises(EthogramError, match="no trained feature extractor"):
        train_sequence(empty, _settings(), progress=False)
    project = make_feature_project(tmp_path / "proj", n_videos=2, n_frames=60)
    for record in project.videos:
        record.labels_path.unlink()
    with pytest.raises(EthogramError, match="no labeled videos"):
        train_sequence(project, _settings(), progress=False)


def test_train_command_reports_a_missing_stage_prerequisite_in_one_line(tmp_path):
    from tests.conftest import run_cli

    project = make_feature_project(tmp_path / "proj", n_videos=2, n_frames=60)
    for path in project.models_dir.iterdir():
        (path / "best.pt").unlink()  # the feature model never finished
    result = run_cli("train", project.root, "--stage", "sequence")
    assert result.returncode == 2
    assert "no trained feature extractor" in result.stderr
    assert "Traceback" not in result.stderr
    wrong = run_cli("train", project.root, "--stage", "sequence", "--resume", project.models_dir)
    assert wrong.returncode == 2 and "cannot tell which stage" in wrong.stderr


def test_blocks_validation_and_refit_reproduce_with_the_same_seed(tmp_path):
    project = make_feature_project(tmp_path / "p", n_videos=2, n_frames=240)
    feature_dir = project.models_dir / FEATURE_DIR
    blocks = {"v0": [[40, 88]], "v1": [[150, 198]]}
    split = {"train": ["v0", "v1"], "val": ["v0", "v1"], "test": [], "validation": "blocks",
             "val_blocks": blocks}  # fmt: skip
    (feature_dir / "split.yaml").write_text(yaml.safe_dump(split))
    settings = _settings("sequence.epochs=3", "sequence.refit=true", "sequence.members=1")
    a = train_sequence(project, settings, feature_dir, progress=False)
    b = train_sequence(project, settings, feature_dir, progress=False)
    metrics = json.loads((a / "metrics.json").read_text())
    assert metrics["validation"]["mode"] == "blocks"
    assert metrics["refit"]["videos"] == ["v0", "v1"]
    refit_a = torch.load(a / "best.pt", weights_only=True)
    refit_b = torch.load(b / "best.pt", weights_only=True)
    fitted = torch.load(a / "validation_fit.pt", weights_only=True)
    assert refit_a["extra"]["thresholds"] == fitted["extra"]["thresholds"]
    assert all(torch.equal(refit_a["model"][k], refit_b["model"][k]) for k in refit_a["model"])
    assert not all(torch.equal(refit_a["model"][k], fitted["model"][k]) for k in fitted["model"])
