"""Keyboard shortcuts: the actions, their default keys, and the user's remapping (a YAML file).

The remapping lives in ``~/.config/ethogram/shortcuts.yaml`` (or ``$ETHOGRAM_CONFIG_DIR``), one
``action: key`` line per changed action, e.g. ``play: P``. Keys are written as Qt writes them
(``Ctrl+Shift+Z``, ``Right``, ``Space``). Behavior keys are the digits: ``0`` is background,
``1``-``9`` the project's behaviors in order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ethogram.errors import ConfigError
from ethogram.io.atomic import atomic_write_text


@dataclass(frozen=True)
class ActionSpec:
    """One shortcut-able action: its id, what it does, its default keys and its help group."""

    name: str
    text: str
    keys: tuple[str, ...]
    group: str


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("play", "Play / pause", ("Space",), "Video"),
    ActionSpec("step_forward", "Next frame", ("Right",), "Video"),
    ActionSpec("step_back", "Previous frame", ("Left",), "Video"),
    ActionSpec("jump_forward", "Jump forward N frames", ("Ctrl+Right",), "Video"),
    ActionSpec("jump_back", "Jump back N frames", ("Ctrl+Left",), "Video"),
    ActionSpec("first_frame", "First frame", ("Home",), "Video"),
    ActionSpec("last_frame", "Last frame", ("End",), "Video"),
    ActionSpec("faster", "Play faster (0.25x to 8x)", ("]",), "Video"),
    ActionSpec("slower", "Play slower", ("[",), "Video"),
    ActionSpec("go_to", "Go to frame or time", ("Ctrl+G",), "Video"),
    ActionSpec("next_video", "Next video", ("PgDown",), "Video"),
    ActionSpec("previous_video", "Previous video", ("PgUp",), "Video"),
    ActionSpec("zoom_in", "Zoom the ethogram in", ("=", "+"), "Video"),
    ActionSpec("zoom_out", "Zoom the ethogram out", ("-",), "Video"),
    ActionSpec("fit_video", "Fit the whole frame in the video view", ("F",), "Video"),
    ActionSpec(
        "end_keys", "Stop labeling with keys (turn every behavior key off)", ("Esc",), "Labels"
    ),
    ActionSpec("undo", "Undo", ("Ctrl+Z",), "Labels"),
    ActionSpec("redo", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Labels"),
    ActionSpec("save", "Save labels now (they also save by themselves)", ("Ctrl+S",), "Labels"),
    ActionSpec("exclusive", "Mutually exclusive behaviors on/off", ("Ctrl+E",), "Labels"),
    ActionSpec("mark_in", "Selection starts at this frame", ("I",), "Labels"),
    ActionSpec("mark_out", "Selection ends at this frame", ("O",), "Labels"),
    ActionSpec("clear_selection", "Clear the selection", ("Ctrl+D",), "Labels"),
    ActionSpec(
        "mark_background",
        "Mark unlabeled frames of the selection as background",
        ("B",),
        "Labels",
    ),
    ActionSpec("clear_labels", "Unlabel the selection (back to -1)", ("Ctrl+Backspace",), "Labels"),
    ActionSpec("next_uncertain", "Next uncertain stretch (selects it)", ("U",), "Review"),
    ActionSpec("previous_uncertain", "Previous uncertain stretch", ("Shift+U",), "Review"),
    ActionSpec("next_disagreement", "Next disagreement with predictions", ("D",), "Review"),
    ActionSpec("previous_disagreement", "Previous disagreement", ("Shift+D",), "Review"),
    ActionSpec("accept", "Accept predictions in the selection (overwrite)", ("A",), "Review"),
    ActionSpec(
        "accept_unlabeled",
        "Accept predictions in the selection, only unlabeled frames",
        ("Shift+A",),
        "Review",
    ),
    ActionSpec("help", "Show the shortcuts", ("F1", "?"), "Help"),
)
ACTION_NAMES = tuple(a.name for a in ACTIONS)


def behavior_key(index: int) -> str | None:
    """The key that toggles behavior ``index`` (0 = background), or None past 9."""
    return str(index) if index <= 9 else None


def config_dir() -> Path:
    """Where the user's GUI settings live."""
    env = os.environ.get("ETHOGRAM_CONFIG_DIR")
    return Path(env) if env else Path.home() / ".config" / "ethogram"


def shortcuts_path() -> Path:
    """The user's shortcut file."""
    return config_dir() / "shortcuts.yaml"


def load_keymap(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Every action's keys: the defaults, then the user's file.

    Raises
    ------
    ConfigError
        The file is not a mapping of known action names to key strings.
    """
    keymap = {a.name: a.keys for a in ACTIONS}
    path = path or shortcuts_path()
    if not path.is_file():
        return keymap
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected 'action: key' lines, found {type(data).__name__}")
    for name, keys in data.items():
        if name not in keymap:
            raise ConfigError(f"{path}: unknown action {name!r}; actions are {list(keymap)}")
        if isinstance(keys, str):
            keys = [keys]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(f"{path}: keys of {name!r} must be a string or a list of strings")
        keymap[name] = tuple(keys)
    return keymap


def save_keymap(keymap: dict[str, tuple[str, ...]], path: Path | None = None) -> Path:
    """Write the actions whose keys differ from the defaults; returns the file."""
    path = path or shortcuts_path()
    changed: dict[str, str | list[str]] = {}
    for spec in ACTIONS:
        keys = tuple(keymap.get(spec.name, spec.keys))
        if keys != spec.keys:
            changed[spec.name] = keys[0] if len(keys) == 1 else list(keys)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, yaml.safe_dump(changed, sort_keys=False))
    return path


def conflicts(keymap: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Keys bound to more than one action (digits are reserved for behaviors)."""
    users: dict[str, list[str]] = {}
    for name, keys in keymap.items():
        for key in keys:
            users.setdefault(key, []).append(name)
    for digit in "0123456789":
        if digit in users:
            users[digit].append("behavior key")
    return {k: v for k, v in users.items() if len(v) > 1}
