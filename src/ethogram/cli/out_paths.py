"""Checks of the paths a command writes to, made before any work is done."""

from __future__ import annotations

from pathlib import Path

from ethogram.errors import ConfigError

__all__ = ["check_output_file", "check_output_folder"]


def _check_ancestors(path: Path, option: str) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"{option} {path}: {parent} is a file, so nothing can be written under it"
                )
            return


def check_output_file(path: Path, option: str = "--out", example: str = "out") -> Path:
    """Raise ConfigError unless ``path`` can be written as a file (it is not a folder).

    Parameters
    ----------
    path
        The file a command will write.
    option
        The command-line option that gave it, named in the message.
    example
        A file name to suggest inside the folder, when ``path`` is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"{option} {path}: is a folder; expected the path of a file to write, e.g. "
            f"{path / example}"
        )
    _check_ancestors(path, option)
    return path


def check_output_folder(path: Path, option: str = "--out") -> Path:
    """Raise ConfigError unless ``path`` is a folder or can be made one (it is not a file)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: is a file; expected a folder to write into")
    _check_ancestors(path, option)
    return path
