from pathlib import Path

import pytest
import yaml

from ethogram.config import (
    Settings,
    load_settings,
    parse_overrides,
    read_settings,
    resolve_preset,
    save_settings,
)
from ethogram.errors import ConfigError


def test_presets_differ_and_aliases_resolve():
    fast, medium, slow = (load_settings(p) for p in ("fast", "medium", "slow"))
    assert fast.features.input_size < medium.features.input_size < slow.features.input_size
    assert load_settings("deg_f") == fast
    assert load_settings("deg_m") == medium
    assert load_settings("deg_s").preset == "slow"


def test_overrides_apply_in_order_project_then_cli():
    settings = load_settings(
        "fast",
        project_overrides={"train": {"epochs": 9, "lr": 0.01}},
        overrides=["train.epochs=3", "features.arch=resnet34"],
    )
    assert settings.train.epochs == 3  # key=value wins over the project
    assert settings.train.lr == 0.01  # the project wins over the preset
    assert settings.features.arch == "resnet34"


def test_unknown_key_is_named_with_closest_suggestion():
    with pytest.raises(ConfigError, match=r"unknown setting 'train.epoch'.*'train.epochs'"):
        load_settings("fast", overrides=["train.epoch=3"])


def test_unknown_section_is_named():
    with pytest.raises(ConfigError, match="unknown setting 'trian'"):
        load_settings("fast", overrides=["trian.epochs=3"])


def test_wrong_type_names_key_and_value():
    with pytest.raises(ConfigError, match=r"train.epochs.*'abc'"):
        load_settings("fast", overrides=["train.epochs=abc"])


def test_out_of_range_value_is_rejected():
    with pytest.raises(ConfigError, match="features.flow_weight"):
        load_settings("fast", overrides=["features.flow_weight=2"])


def test_spatial_weight_must_be_in_zero_one():
    for value in ("0", "1.5"):
        with pytest.raises(ConfigError, match="sequence.spatial_weight"):
            load_settings("fast", overrides=[f"sequence.spatial_weight={value}"])


def test_override_without_equals_is_explained():
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["train.epochs"])


def test_unknown_preset_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'fast'"):
        resolve_preset("fats")


def test_settings_round_trip_through_yaml(tmp_path: Path):
    settings = load_settings("medium", overrides=["sequence.window=90", "postprocess.min_bout=4"])
    path = tmp_path / "config.yaml"
    save_settings(settings, path)
    assert read_settings(path) == settings


def _saved_with(tmp_path: Path, section: str, values: dict) -> Path:
    """A saved config.yaml with ``values`` added to ``section`` (as an older version wrote)."""
    path = tmp_path / "config.yaml"
    save_settings(load_settings("fast"), path)
    data = yaml.safe_load(path.read_text())
    data[section].update(values)
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_saved_model_config_with_removed_settings_still_loads(tmp_path: Path):
    path = _saved_with(tmp_path, "train", {"weight_average": 0.995, "num_workers": 2})
    data = yaml.safe_load(path.read_text())
    data["sequence"].update(out_of_fold=2, logits_dropout=0.5, inputs="features")
    path.write_text(yaml.safe_dump(data))
    assert read_settings(path) == load_settings("fast")


def test_a_saved_model_config_older_than_crop_motion_runs_with_whole_frame_flow(tmp_path: Path):
    path = tmp_path / "config.yaml"
    save_settings(load_settings("fast", overrides=["features.crop_motion=true"]), path)
    data = yaml.safe_load(path.read_text())
    assert read_settings(path).features.crop_motion is True  # written by this version: kept
    del data["features"]["crop_motion"]  # as a model saved before the setting existed
    path.write_text(yaml.safe_dump(data))
    assert read_settings(path).features.crop_motion is False


def test_a_saved_model_that_read_removed_sequence_inputs_is_refused_with_the_reason(
    tmp_path: Path,
):
    path = _saved_with(tmp_path, "sequence", {"inputs": "mixed"})
    with pytest.raises(ConfigError) as info:
        read_settings(path)
    message = str(info.value)
    assert str(path) in message and "sequence.inputs=mixed is no longer supported" in message
    assert "train this stage again" in message


def test_a_removed_setting_given_as_an_override_is_named_as_removed():
    with pytest.raises(ConfigError, match="setting 'sequence.out_of_fold' was removed"):
        load_settings("fast", overrides=["sequence.out_of_fold=2"])
    with pytest.raises(ConfigError, match="setting 'train.num_workers' was removed"):
        load_settings("fast", project_overrides={"train": {"num_workers": 4}})


def test_reading_settings_with_a_typo_names_file_and_key(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("train:\n  epohcs: 3\n")
    with pytest.raises(ConfigError, match=r"config.yaml.*'train.epohcs'.*'train.epochs'"):
        read_settings(path)


def test_the_defaults_are_the_documented_laptop_preset_fast():
    fast = load_settings("fast")
    assert Settings() == fast  # no preset given: the fast preset
    feat = fast.features
    assert (feat.arch, feat.flow_arch, feat.input_size) == ("efficientnet_lite0", "resnet18", 64)
    assert (fast.flow.method, fast.flow.size, fast.flow.dis_preset) == ("dis", 64, "ultrafast")
    medium = load_settings("medium")
    assert (medium.features.arch, medium.features.input_size) == ("resnet18", 112)


def test_a_bad_value_for_a_union_setting_is_one_line_naming_the_setting():
    with pytest.raises(ConfigError) as info:
        load_settings("fast", overrides=["postprocess.exclusive=sometimes"])
    message = str(info.value)
    assert message.count("setting 'postprocess.exclusive'") == 1
    assert "literal" not in message and "'sometimes'" in message
