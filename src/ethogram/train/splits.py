"""Which labeled frames train and which validate: whole videos, or blocks inside every video.

``train.validation`` decides:

- ``videos``: DeepEthogram's split by video (``train.split``, 0.6 / 0.2 / 0.2 by default): frames
  of one video are never in two splits, and test videos give scores on videos no model has seen.
  Right when many videos are labeled (6 or more): each split still holds several videos.
- ``blocks``: every labeled video trains; validation is ``train.block_fraction`` of each video's
  frames, held out as a few blocks of about ``train.block_frames`` frames
  (:mod:`ethogram.data.blocks`). Right when few videos are labeled: a 4-video project trains on
  all 4 instead of 2, and thresholds are chosen on bouts of every video instead of one. There are
  no test videos; judge the models on videos labeled outside the project.
- ``auto``: ``blocks`` with fewer than :data:`AUTO_BLOCKS_BELOW` labeled videos, else
  ``videos``.

The default is ``auto``.

The choice and its reason are written to the model folder's ``split.yaml`` (with the blocks) and
``metrics.json`` (``validation``), and printed when training starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from ethogram.config import Settings
from ethogram.data.blocks import (
    choose_blocks,
    clip_reach,
    training_labels,
    validation_labels,
)
from ethogram.data.clips import (
    LabeledVideo,
    load_split,
    read_deepethogram_split,
    save_split,
    split_videos,
)
from ethogram.io.atomic import atomic_write_text

__all__ = [
    "AUTO_BLOCKS_BELOW",
    "TrainingSplit",
    "choose_training_split",
    "load_training_split",
]

AUTO_BLOCKS_BELOW = 6


@dataclass
class TrainingSplit:
    """The videos of each split and, for ``blocks``, the validation blocks of each video.

    Attributes
    ----------
    mode
        ``videos`` or ``blocks``.
    videos
        ``{"train": [...], "val": [...], "test": [...]}``; with blocks, every video is in
        ``train`` and those with blocks also in ``val``.
    blocks
        Video -> ``[(start, end), ...]`` validation blocks (frames ``start <= t < end``).
    reason
        Why this split, for the user.
    """

    mode: str
    videos: dict[str, list[str]]
    blocks: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    reason: str = ""

    def summary(self) -> dict:
        """What ``metrics.json`` records under ``validation``."""
        out = {"mode": self.mode, "reason": self.reason}
        if self.mode == "blocks":
            out["blocks"] = {
                stem: [list(b) for b in blocks] for stem, blocks in self.blocks.items()
            }
        return out

    def save(self, path: str | Path) -> None:
        """Write ``split.yaml`` (train / val / test, the note, and the blocks)."""
        path = Path(path)
        save_split(path, self.videos, self.reason)
        if self.mode == "blocks":
            data = yaml.safe_load(path.read_text())
            data["validation"] = "blocks"
            data["val_blocks"] = {
                s: [[int(a), int(b)] for a, b in v] for s, v in self.blocks.items()
            }
            atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))

    def feature_videos(self, videos: list[LabeledVideo], n_rgb: int, n_flows: int) -> dict:
        """The feature stage's train / val / test videos (label copies masked for blocks)."""
        by_stem = {v.stem: v for v in videos}
        if self.mode != "blocks":
            return {part: [by_stem[s] for s in stems] for part, stems in self.videos.items()}
        reach = clip_reach(n_rgb, n_flows)
        train, val = [], []
        for v in videos:
            blocks = self.blocks.get(v.stem, [])
            train.append(LabeledVideo(v.stem, v.arrays, training_labels(v.labels, blocks, reach)))
            if blocks:
                val.append(LabeledVideo(v.stem, v.arrays, validation_labels(v.labels, blocks)))
        return {"train": train, "val": val, "test": []}

    def stems(self, part: str) -> list[str]:
        """The videos of ``train``, ``val`` or ``test``."""
        return list(self.videos.get(part, []))


def load_training_split(path: str | Path) -> TrainingSplit:
    """Read a model folder's ``split.yaml`` (by video, or with ``val_blocks``)."""
    path = Path(path)
    videos = load_split(path)
    data = yaml.safe_load(path.read_text()) or {}
    note = (data.get("metadata") or {}).get("note", "") if isinstance(data, dict) else ""
    if isinstance(data, dict) and data.get("validation") == "blocks":
        blocks = {
            str(s): [(int(a), int(b)) for a, b in v]
            for s, v in (data.get("val_blocks") or {}).items()
        }
        return TrainingSplit("blocks", videos, blocks, note)
    return TrainingSplit("videos", videos, {}, note)


def _by_video(project, stems: list[str], settings: Settings, why: str) -> TrainingSplit:
    deg_split = project.data_dir / "split.yaml"
    notes = [why] if why else []
    if deg_split.is_file():
        split, reason = read_deepethogram_split(deg_split, stems)
        notes.append(reason)
        if split is not None:
            return TrainingSplit("videos", split, {}, "; ".join(notes))
    split, note = split_videos(stems, settings.train.split, settings.seed)
    counts = "/".join(str(len(split[p])) for p in ("train", "val", "test"))
    notes.append(f"split by video (train.split): {counts} train/val/test videos")
    if note:
        notes.append(note)
    return TrainingSplit("videos", split, {}, "; ".join(notes))


def choose_training_split(
    project, stems: list[str], labels: dict[str, np.ndarray], settings: Settings
) -> TrainingSplit:
    """The split of a new training run (see the module's docstring).

    Parameters
    ----------
    project
        The :class:`~ethogram.project.Project` (its ``DATA/split.yaml`` is honored for a split
        by video).
    stems
        The trainable videos.
    labels
        Their label arrays.
    settings
        ``train.validation``, ``train.split``, ``train.block_fraction``, ``train.block_frames``,
        ``seed`` and the clip's stack sizes.
    """
    tr = settings.train
    mode = tr.validation
    n = len(stems)
    if mode == "auto":
        if n >= AUTO_BLOCKS_BELOW:
            why = f"{n} labeled videos (train.validation=auto; {AUTO_BLOCKS_BELOW} or more)"
            return _by_video(project, stems, settings, f"validation on whole videos: {why}")
        mode = "blocks"
    if mode == "videos":
        return _by_video(
            project, stems, settings, "validation on whole videos (train.validation=videos)"
        )
    reach = clip_reach(settings.features.n_rgb, settings.features.n_flows)
    blocks = choose_blocks({s: labels[s] for s in stems}, tr.block_fraction, tr.block_frames,
                           reach, settings.seed)  # fmt: skip
    with_blocks = sorted(s for s in stems if blocks.get(s))
    if not with_blocks:
        return _by_video(project, stems, settings, "the videos' labeled parts are too short "
                         "for validation blocks inside them")  # fmt: skip
    why = (
        f"only {n} labeled video{'s' if n != 1 else ''}: a split by video would train on "
        f"{len(split_videos(stems, tr.split, settings.seed)[0]['train'])} of them"
        if tr.validation == "auto"
        else "train.validation=blocks"
    )
    reason = (
        f"validation on blocks inside every labeled video ({why}): "
        f"{len(with_blocks)} video{'s hold' if len(with_blocks) != 1 else ' holds'} out "
        f"{tr.block_fraction:.0%} of the labeled frames "
        f"({sum(len(b) for b in blocks.values())} blocks), all {n} train on the rest; "
        "no test videos (train.validation=videos splits by video)"
    )
    split = {"train": sorted(stems), "val": with_blocks, "test": []}
    return TrainingSplit("blocks", split, {s: blocks[s] for s in with_blocks}, reason)
