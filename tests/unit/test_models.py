"""The model folder package: file names, metrics.json, stages, lookup, checkpoints, device."""

from __future__ import annotations

import json

import pytest
import torch

from ethogram.errors import ConfigError, ModelError
from ethogram.models.checkpoint import (
    load_training_checkpoint,
    load_weights,
    read_checkpoint,
    save_checkpoint,
)
from ethogram.models.device import choose_device
from ethogram.models.folder import (
    find_model_dir,
    latest_model_dir,
    metrics_or_empty,
    model_stage,
    read_metrics,
)
from ethogram.nn import create_model
from ethogram.project import Project


@pytest.fixture
def project(tmp_path) -> Project:
    return Project.create(tmp_path / "mice", ["background", "groom"])


def _finished(project: Project, stage: str, tag: str = "") -> object:
    folder = project.new_model_dir(stage, tag)
    save_checkpoint(folder / "best.pt", {"model": {}})
    return folder


# ---- device ---------------------------------------------------------------------------------
def test_choose_device_auto_is_cuda_exactly_when_cuda_is_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device("auto") == torch.device("cuda")
    assert choose_device("cuda") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device("auto") == torch.device("cpu")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        choose_device("cuda")


def test_choose_device_rejects_an_unknown_device():
    assert choose_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="'tpu'"):
        choose_device("tpu")


# ---- checkpoints ----------------------------------------------------------------------------
def test_load_weights_reads_a_state_dict_and_a_training_checkpoint(tmp_path):
    source = create_model("resnet18", in_chans=4, num_classes=3, width=0.25)
    torch.save(source.state_dict(), tmp_path / "best.pt")
    save_checkpoint(tmp_path / "checkpoint.pt", {"model": source.state_dict(), "epoch": 2})
    x = torch.randn(2, 4, 32, 32)
    for name in ("best.pt", "checkpoint.pt"):
        target = create_model("resnet18", in_chans=4, num_classes=3, width=0.25)
        load_weights(target, tmp_path / name)
        with torch.no_grad():
            assert torch.equal(target.eval()(x), source.eval()(x))


def test_weights_of_another_shape_raise_model_error_naming_file_and_key(tmp_path):
    path = tmp_path / "best.pt"
    torch.save(create_model("resnet18", in_chans=3, width=0.25).state_dict(), path)
    with pytest.raises(ModelError) as info:
        load_weights(create_model("resnet18", in_chans=20, width=0.25), path)
    message = str(info.value)
    assert str(path) in message and "'conv1.weight'" in message
    assert "(16, 3, 7, 7)" in message and "(16, 20, 7, 7)" in message


def test_weights_of_another_architecture_name_the_missing_and_unexpected_key(tmp_path):
    path = tmp_path / "best.pt"
    torch.save(create_model("resnet18", width=0.25, num_classes=2).state_dict(), path)
    with pytest.raises(ModelError, match=r"best\.pt.*missing key 'conv_stem\.weight'"):
        load_weights(create_model("efficientnet_lite0"), path)
    with pytest.raises(ModelError, match=r"unexpected key 'fc\.weight'"):
        load_weights(create_model("resnet18", width=0.25), path)


def test_missing_and_corrupt_checkpoints_raise_model_error_naming_the_file(tmp_path):
    with pytest.raises(ModelError, match=r"nope\.pt: checkpoint file not found"):
        load_training_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match=r"bad\.pt: not a readable checkpoint"):
        load_training_checkpoint(bad)
    with pytest.raises(ModelError, match=r"bad\.pt: not a readable checkpoint"):
        load_weights(create_model("resnet18", width=0.25), bad)


class _NotAWeight:
    """A pickled object: ``weights_only`` loading must refuse it."""


def test_a_checkpoint_holding_arbitrary_objects_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "unsafe.pt"
    torch.save({"model": {}, "payload": _NotAWeight()}, path)
    with pytest.raises(ModelError, match=r"unsafe\.pt: not a readable checkpoint"):
        read_checkpoint(path)


def test_a_file_without_a_model_entry_is_not_a_training_checkpoint(tmp_path):
    path = tmp_path / "best.pt"
    save_checkpoint(path, {"epoch": 1})
    with pytest.raises(ModelError, match="'model' entry"):
        load_training_checkpoint(path)
    save_checkpoint(path, {"model": {"w": torch.ones(2)}, "epoch": 3})
    assert load_training_checkpoint(path)["epoch"] == 3


# ---- metrics.json and stages ----------------------------------------------------------------
def test_read_metrics_takes_the_folder_or_the_file_and_rejects_bad_json(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"stage": "features"}))
    assert (
        read_metrics(tmp_path) == read_metrics(tmp_path / "metrics.json") == {"stage": "features"}
    )
    (tmp_path / "metrics.json").write_text("[1, 2]")
    with pytest.raises(ModelError, match="expected a JSON object"):
        read_metrics(tmp_path)
    (tmp_path / "metrics.json").write_text("{")
    with pytest.raises(ModelError, match="not valid JSON"):
        read_metrics(tmp_path)
    assert metrics_or_empty(tmp_path / "elsewhere") == {}


def test_model_stage_comes_from_metrics_then_from_the_folder_name(tmp_path):
    named = tmp_path / "250101_120000_sequence_tgmj"
    named.mkdir()
    assert model_stage(named) == "sequence"
    (named / "metrics.json").write_text(json.dumps({"stage": "features"}))
    assert model_stage(named) == "features"  # what the model says of itself wins
    unnamed = tmp_path / "my_model"
    unnamed.mkdir()
    with pytest.raises(ModelError, match="cannot tell which stage"):
        model_stage(unnamed)
    (unnamed / "metrics.json").write_text(json.dumps({"stage": "flow"}))
    assert model_stage(unnamed) == "flow"
    with pytest.raises(ModelError, match="features or sequence"):
        model_stage(unnamed, ("features", "sequence"))


# ---- finding a project's models ---------------------------------------------------------------
def test_find_model_dir_takes_a_path_or_a_name_in_the_models_folder(project, tmp_path):
    folder = project.new_model_dir("features", "resnet18")
    assert find_model_dir(project, folder) == folder
    assert find_model_dir(project, folder.name) == folder
    assert find_model_dir(None, str(folder)) == folder
    with pytest.raises(ModelError, match=f"also looked in {project.models_dir}"):
        find_model_dir(project, "250101_000000_features_gone")


def test_latest_model_dir_takes_the_first_stage_with_a_finished_model(project):
    features = _finished(project, "features")
    project.new_model_dir("sequence")  # unfinished: no best.pt
    assert latest_model_dir(project, ("sequence", "features")) == features
    sequence = _finished(project, "sequence")
    assert latest_model_dir(project, ("sequence", "features")) == sequence


def test_latest_model_dir_without_a_model_says_how_to_train_one(project):
    assert latest_model_dir(project, "features", required=False) is None
    with pytest.raises(ModelError) as info:
        latest_model_dir(project, "features", hint=" (or give --model DIR)")
    message = str(info.value)
    assert "no trained feature extractor" in message
    assert f"`ethogram train {project.root} --stage features`" in message
    assert message.endswith("(or give --model DIR)")
