"""``project_config.yaml``: read it and check the parts this tool relies on.

The file holds DeepEthogram's keys (``project.name``, ``project.class_names``, ...) and an
``ethogram:`` section (``preset:``, ``settings:``). Keys this tool does not use are kept as they
are. This module imports neither torch nor Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ethogram.errors import ProjectError

CONFIG_NAME = "project_config.yaml"

__all__ = ["CONFIG_NAME", "read_project_config"]


def _kind(value: Any) -> str:
    return {list: "a list", str: f"the text {value!r}"}.get(type(value), type(value).__name__)


def read_project_config(config_path: Path) -> dict[str, Any]:
    """Read and check ``project_config.yaml``; raise ProjectError naming what is wrong."""
    try:
        config = yaml.safe_load(config_path.read_text())
    except yaml.YAMLError as exc:
        raise ProjectError(f"{config_path}: not valid YAML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{config_path}: cannot be read ({exc})") from None
    if not isinstance(config, dict) or not isinstance(config.get("project"), dict):
        raise ProjectError(f"{config_path}: expected a 'project:' section, found none")
    names = config["project"].get("class_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ProjectError(f"{config_path}: 'project.class_names' must be a list of behaviors")
    if names[0] != "background":
        raise ProjectError(
            f"{config_path}: the first behavior must be 'background', found {names[0]!r}"
        )
    section = config.get("ethogram")
    if section is not None and not isinstance(section, dict):
        raise ProjectError(
            f"{config_path}: 'ethogram:' must be a section with 'preset:' and 'settings:', "
            f"found {_kind(section)}"
        )
    section = section or {}
    if section.get("preset") is not None and not isinstance(section["preset"], str):
        raise ProjectError(
            f"{config_path}: 'ethogram.preset' must be a preset name (fast, medium, slow), "
            f"found {_kind(section['preset'])}"
        )
    settings = section.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise ProjectError(
            f"{config_path}: 'ethogram.settings' must be a section of settings "
            f"(e.g. 'train: {{epochs: 3}}'), found {_kind(settings)}"
        )
    # DeepEthogram stores an absolute project.path from the machine it ran on: the folder
    # is where the file is, so that value is never used.
    return config
