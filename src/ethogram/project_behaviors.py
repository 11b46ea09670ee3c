"""Editing a project's behaviors: add, rename, remove, and rewrite every label file to match.

A mixin of :class:`~ethogram.project.Project`: each change takes the project lock, checks every
label file, then replaces the files and the configuration through the project journal, so a
change killed midway is finished when the project is next opened. Imports neither torch nor Qt.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import yaml

from ethogram.errors import ProjectError
from ethogram.io.atomic import atomic_write_text
from ethogram.io.labels import fill_background, read_labels, write_labels
from ethogram.project_journal import replace_files

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


def check_behavior_name(name: str) -> str:
    """``name`` stripped; a ProjectError unless it is letters, digits, '_' or '-'."""
    name = name.strip()
    if not _NAME_RE.match(name):
        raise ProjectError(
            f"behavior name {name!r} is not valid: use letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class BehaviorEditing:
    """Behavior changes of :class:`~ethogram.project.Project` (which supplies ``root``,
    ``config``, ``config_path``, ``behaviors``, ``labeled_videos``, ``_changing`` and
    ``_backup_label_file``)."""

    def _rewrite_all_labels(self, transform, new_behaviors: list[str]) -> None:
        """Validate every label file, transform all, then write them (with backups).

        Called with the lock held and the configuration just re-read.
        """
        tables = []
        for record in self.labeled_videos():
            tables.append((record, read_labels(record.labels_path, behaviors=self.behaviors)))
        writes = []
        for record, table in tables:
            values = transform(table.values)

            def write(path: Path, values: np.ndarray = values) -> None:
                write_labels(path, values, new_behaviors, backup=False)

            writes.append((record.labels_path, write))
        config = dict(self.config, project=dict(self.config["project"], class_names=new_behaviors))
        config_text = yaml.safe_dump(config, sort_keys=False)
        writes.append((self.config_path, lambda path: atomic_write_text(path, config_text)))
        replace_files(self.root, writes, backup=self._backup_label_file)  # all land, even if killed
        self.config = config

    def add_behavior(self, name: str, absent: bool = False) -> None:
        """Add a behavior. Existing labels get a new column of -1 (not yet labeled).

        With ``absent``, frames already labeled get 0 instead (you assert the behavior does not
        occur in them).
        """
        name = check_behavior_name(name)

        def transform(values: np.ndarray) -> np.ndarray:
            column = np.full((len(values), 1), -1, dtype=np.int8)
            if absent:
                column[(values >= 0).all(axis=1)] = 0
            return np.concatenate([values, column], axis=1)

        with self._changing("add_behavior"):
            if name in self.behaviors:
                raise ProjectError(f"{self.root}: behavior {name!r} already exists")
            self._rewrite_all_labels(transform, self.behaviors + [name])

    def _check_editable(self, name: str, done: str) -> None:
        """Refuse a behavior the project lacks, and background (it means 'no other behavior')."""
        if name not in self.behaviors:
            raise ProjectError(f"{self.root}: no behavior {name!r}; behaviors are {self.behaviors}")
        if name == "background":
            raise ProjectError(f"'background' cannot be {done}: it means 'no other behavior'")

    def rename_behavior(self, old: str, new: str) -> None:
        """Rename a behavior in the project and in every label file."""
        new = check_behavior_name(new)
        with self._changing("rename_behavior"):
            self._check_editable(old, "renamed")
            if new in self.behaviors:
                raise ProjectError(f"{self.root}: behavior {new!r} already exists")
            names = [new if b == old else b for b in self.behaviors]
            self._rewrite_all_labels(lambda v: v, names)

    def remove_behavior(self, name: str) -> None:
        """Remove a behavior and its label column; background is recomputed where needed."""
        with self._changing("remove_behavior"):
            self._check_editable(name, "removed")
            if len(self.behaviors) <= 2:
                raise ProjectError(f"cannot remove {name!r}: a project needs at least one behavior")
            index = self.behaviors.index(name)

            def transform(values: np.ndarray) -> np.ndarray:
                kept = np.delete(values, index, axis=1)
                labeled = (kept >= 0).all(axis=1)
                filled = fill_background(kept)
                kept[labeled, 0] = filled[labeled, 0]
                return kept

            self._rewrite_all_labels(transform, [b for b in self.behaviors if b != name])
