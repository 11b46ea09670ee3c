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


@pytest.mark.parametrize(
    ("section", "key", "default", "saved", "older"),
    [
        # trained and validated without per-video statistics: not the new default "flow"
        ("features", "video_norm", "flow", "flow", "none"),
        # trained on whole frames: not the new default "auto"
        ("features", "crop", "auto", "animal", "none"),
        # feature models predicted with DeepEthogram's whole-percentile minimum bouts
        ("postprocess", "min_bout_fraction", 0.5, 0.25, 1.0),
        # trained without a weight average, or as one sequence model
        ("train", "weight_average", 0.0, 0.9, 0.0),
        ("sequence", "members", 3, 2, 1),
        # sequence models saved before the choice read the CNN features; feature models
        # saved before train.keep were kept at the best epoch
        ("sequence", "inputs", "features", "logits", "features"),
        ("train", "keep", "last", "last", "best"),
        # sequence models saved before the setting weighed spatial and flow features alike
        ("sequence", "spatial_weight", 0.25, 0.5, 1.0),
    ],
)
def test_a_model_saved_before_a_setting_existed_keeps_its_old_behavior(
    tmp_path: Path, section: str, key: str, default, saved, older
):
    """Older config.yaml files lack newer keys: they get the behavior they were trained with,
    not the current default."""
    assert getattr(getattr(load_settings("fast"), section), key) == default
    settings = load_settings("fast", overrides=[f"{section}.{key}={saved}"])
    path = tmp_path / "config.yaml"
    save_settings(settings, path)
    assert getattr(getattr(read_settings(path), section), key) == saved
    data = yaml.safe_load(path.read_text())
    del data[section][key]
    path.write_text(yaml.safe_dump(data))
    assert getattr(getattr(read_settings(path), section), key) == older


def test_reading_settings_with_a_typo_names_file_and_key(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("train:\n  epohcs: 3\n")
    with pytest.raises(ConfigError, match=r"config.yaml.*'train.epohcs'.*'train.epochs'"):
        read_settings(path)


def test_defaults_are_the_fast_preset():
    assert Settings() == load_settings("fast").model_copy(update={"preset": "fast"})


def test_a_bad_value_for_a_union_setting_is_one_line_naming_the_setting():
    with pytest.raises(ConfigError) as info:
        load_settings("fast", overrides=["postprocess.exclusive=sometimes"])
    message = str(info.value)
    assert message.count("setting 'postprocess.exclusive'") == 1
    assert "literal" not in message and "'sometimes'" in message
