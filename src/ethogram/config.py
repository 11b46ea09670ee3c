"""Typed settings for every stage, presets, YAML load/save and ``key=value`` overrides.

Settings are resolved in this order: the preset (``fast``, ``medium``, ``slow``; DeepEthogram's
names ``deg_f``, ``deg_m``, ``deg_s`` are aliases), then a project's ``project_config.yaml``
overrides, then ``key=value`` arguments in OmegaConf dotlist syntax::

    settings = load_settings("fast", overrides=["train.epochs=3", "features.arch=resnet18"])

Every model forbids unknown fields, so a typo is an error naming the key and suggesting the
closest valid one. The models (:class:`Settings` and its sections) are defined in
:mod:`ethogram.settings` and importable from here.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ethogram.errors import ConfigError

# the settings models, re-exported: code imports them from here with the functions below
from ethogram.settings import ClusterSettings as ClusterSettings
from ethogram.settings import FeatureSettings as FeatureSettings
from ethogram.settings import FlowSettings as FlowSettings
from ethogram.settings import PostprocessSettings as PostprocessSettings
from ethogram.settings import SequenceSettings as SequenceSettings
from ethogram.settings import Settings as Settings
from ethogram.settings import TrainSettings as TrainSettings

PRESET_ALIASES = {"deg_f": "fast", "deg_m": "medium", "deg_s": "slow"}

# Each preset is a set of overrides on the defaults (which are the `fast` preset).
PRESETS: dict[str, dict[str, Any]] = {
    "fast": {},
    "medium": {
        "flow": {"size": 112, "dis_preset": "fast"},
        "features": {
            "arch": "resnet18",
            "flow_arch": "resnet18",
            "input_size": 112,
            "n_rgb": 1,
            "mirror_average": "both",
        },
        "train": {"epochs": 15, "steps_per_epoch": 300},
        "sequence": {"epochs": 50},
    },
    "slow": {
        "flow": {"size": 160, "dis_preset": "medium"},
        "features": {
            "arch": "resnet3d18",
            "flow_arch": "resnet18",
            "input_size": 160,
            "n_rgb": 11,
            "pretrained": False,
            "mirror_average": "both",
        },
        "train": {"epochs": 25, "steps_per_epoch": 400, "batch_size": 16},
        "sequence": {"epochs": 80, "hidden": 128},
    },
}


def preset_names() -> list[str]:
    """Return the names of the presets, aliases included."""
    return list(PRESETS) + list(PRESET_ALIASES)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _valid_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_valid_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def _setting_key(loc: tuple, valid: list[str]) -> str:
    """The setting an error location names, without pydantic's union member tags.

    For a union such as ``Literal["auto"] | bool`` pydantic reports one error per member, at
    ``(..., "exclusive", "literal['auto']")`` and ``(..., "exclusive", "bool")``.
    """
    parts = [str(p) for p in loc]
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in valid:
            return ".".join(parts[:end])
    return ".".join(parts)


def _error_from_validation(exc: ValidationError, source: str) -> ConfigError:
    valid = _valid_keys()
    messages: dict[str, list[str]] = {}  # setting -> problems (one per union member)
    inputs: dict[str, Any] = {}
    for err in exc.errors():
        key = _setting_key(err["loc"], valid)
        if err["type"] == "extra_forbidden" and tuple(key.split(".")) in REMOVED_SETTINGS:
            messages[f"setting '{key}' was removed (see docs/dev/experiments.md)"] = []
        elif err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            messages[f"unknown setting '{key}'{hint}"] = []
        else:
            messages.setdefault(f"setting '{key}'", []).append(
                str(err["msg"]).removeprefix("Value error, ")
            )
            inputs[f"setting '{key}'"] = err.get("input")
    lines = [
        f"{head}: {' or '.join(problems)} (got {inputs[head]!r})" if problems else head
        for head, problems in messages.items()
    ]
    return ConfigError(f"{source}: " + "; ".join(lines))


def parse_overrides(overrides: list[str] | None) -> dict[str, Any]:
    """Parse ``key=value`` arguments (OmegaConf dotlist syntax) into a nested dict.

    Parameters
    ----------
    overrides
        Strings such as ``"train.epochs=3"``.

    Returns
    -------
    dict
        Nested dictionary, e.g. ``{"train": {"epochs": 3}}``.
    """
    if not overrides:
        return {}
    from omegaconf import OmegaConf

    for item in overrides:
        if "=" not in item:
            raise ConfigError(
                f"override '{item}' is not of the form key=value (e.g. train.epochs=3)"
            )
    try:
        conf = OmegaConf.from_dotlist(list(overrides))
    except Exception as exc:  # omegaconf raises many grammar error types
        raise ConfigError(f"cannot parse overrides {overrides}: {exc}") from exc
    return OmegaConf.to_container(conf, resolve=True)  # type: ignore[return-value]


def resolve_preset(name: str) -> str:
    """Return the canonical preset name for ``name`` (aliases resolved)."""
    canonical = PRESET_ALIASES.get(name, name)
    if canonical not in PRESETS:
        close = difflib.get_close_matches(name, preset_names(), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown preset '{name}', expected one of {preset_names()}{hint}")
    return canonical


def load_settings(
    preset: str = "fast",
    project_overrides: dict[str, Any] | None = None,
    overrides: list[str] | None = None,
) -> Settings:
    """Build settings from a preset, project overrides and ``key=value`` arguments.

    Parameters
    ----------
    preset
        ``fast``, ``medium``, ``slow`` or an alias (``deg_f``, ``deg_m``, ``deg_s``).
    project_overrides
        Nested dict of settings from a project's config (applied after the preset).
    overrides
        ``key=value`` strings applied last.

    Returns
    -------
    Settings
        Validated settings.
    """
    project_overrides = dict(project_overrides or {})
    # a project may name its preset; an explicit preset argument still wins if not default
    name = resolve_preset(project_overrides.pop("preset", None) or preset)
    cli = parse_overrides(overrides)
    if "preset" in cli:
        name = resolve_preset(str(cli.pop("preset")))
    data = _deep_merge(PRESETS[name], project_overrides)
    data = _deep_merge(data, cli)
    data["preset"] = name
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _error_from_validation(exc, "settings") from None


def settings_from_dict(data: dict[str, Any], source: str = "settings") -> Settings:
    """Validate a full settings dict (as written by :func:`save_settings`)."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _error_from_validation(exc, source) from None


def save_settings(settings: Settings, path: str | Path) -> None:
    """Write settings to a YAML file (atomically)."""
    from ethogram.io.atomic import atomic_write_text

    text = yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False)
    atomic_write_text(Path(path), text)


# Settings that existed once and were removed (docs/dev/experiments.md says why). A saved model's
# config.yaml that still holds one loads without it when its value is one that the current code
# reproduces (None: any value; the setting changed only how training ran, not the saved network).
REMOVED_SETTINGS: dict[tuple[str, str], Any] = {
    ("train", "weight_average"): None,
    ("train", "num_workers"): None,
    ("sequence", "out_of_fold"): None,
    ("sequence", "logits_dropout"): None,
    ("sequence", "inputs"): "features",
}


# Settings added since models were first saved whose default is not what older code did: a saved
# model's config.yaml without the key loads with the value the model was trained and run with.
ADDED_SETTINGS: dict[tuple[str, str], Any] = {
    ("features", "crop_motion"): False,
}


def _fill_added_settings(data: dict[str, Any]) -> None:
    """Give ``data`` (in place) the older behaviour of :data:`ADDED_SETTINGS` it lacks."""
    for (section, key), before in ADDED_SETTINGS.items():
        values = data.get(section)
        if isinstance(values, dict) and key not in values:
            values[key] = before


def _drop_removed_settings(data: dict[str, Any], source: str) -> None:
    """Remove :data:`REMOVED_SETTINGS` from ``data`` (in place); refuse a value that mattered."""
    for (section, key), kept in REMOVED_SETTINGS.items():
        values = data.get(section)
        if not isinstance(values, dict) or key not in values:
            continue
        value = values.pop(key)
        if kept is not None and value != kept:
            raise ConfigError(
                f"{source}: {section}.{key}={value} is no longer supported (only {kept!r} is; "
                f"see docs/dev/experiments.md); train this stage again"
            )


def read_settings(path: str | Path) -> Settings:
    """Read settings from a YAML file written by :func:`save_settings` (a model's config.yaml).

    Settings removed since the file was written (:data:`REMOVED_SETTINGS`) are ignored, unless
    their value changed the saved network (then a :class:`ConfigError` says so); settings added
    since (:data:`ADDED_SETTINGS`) take the value the older code used.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: settings file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    _drop_removed_settings(data, str(path))
    _fill_added_settings(data)
    return settings_from_dict(data, str(path))
