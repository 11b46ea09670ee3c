"""Out-of-fold logits: what the feature extractor says about videos it has not seen.

The sequence model learns from the feature extractor's outputs on its training videos, where
the extractor is nearly always right; on new videos it is not. A sequence model trained on those
clean outputs learns to trust them (TGMJ mixes the extractor's logits into its own) more than it
should. With ``sequence.out_of_fold=N`` the training videos are split into N folds and one more
feature extractor is trained per fold on the other folds' videos (same settings, validation
videos and number of passes over the data); each training video's logits for the sequence model
then come from the extractor that did not see it. The CNN features stay the main extractor's
(their columns mean nothing across extractors); logits mean the same in all of them.

Fold models live in the main feature model's folder, ``out_of_fold/fold<k>/``, each with the
``<stem>_outputs.h5`` of its held-out videos. Finished folds are reused; an interrupted fold
resumes.

>>> fold_groups(["a", "b", "c", "d", "e"], 2)
[['a', 'c', 'e'], ['b', 'd']]
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ethogram.errors import ModelError

__all__ = ["OUT_OF_FOLD_DIR", "fold_groups", "out_of_fold_logits"]

OUT_OF_FOLD_DIR = "out_of_fold"


def fold_groups(stems: Sequence[str], folds: int) -> list[list[str]]:
    """Split videos into ``folds`` groups, round robin over their sorted names.

    Parameters
    ----------
    stems
        Training videos.
    folds
        Number of groups; fewer if there are fewer videos (one video per group then).

    Returns
    -------
    list of list of str
        Non-empty groups, each the videos one fold model does not train on.
    """
    stems = sorted(stems)
    n = min(int(folds), len(stems))
    return [stems[k::n] for k in range(n)] if n else []


def _finished(fold_dir: Path) -> bool:
    from ethogram.models.folder import read_metrics

    if not (fold_dir / "best.pt").is_file() or not (fold_dir / "metrics.json").is_file():
        return False
    return "thresholds" in read_metrics(fold_dir)


def _train_fold(project, main_settings, split: dict, fold_dir: Path, scale: float, progress):
    """Train (or resume) one fold's feature extractor in ``fold_dir``."""
    from ethogram.config import save_settings
    from ethogram.data.clips import load_split, save_split
    from ethogram.train.features import train_features

    prepared = (fold_dir / "split.yaml").is_file() and (fold_dir / "config.yaml").is_file()
    if prepared and load_split(fold_dir / "split.yaml") != split:
        prepared = False  # made for another split: start again
    if not prepared:
        shutil.rmtree(fold_dir, ignore_errors=True)
        fold_dir.mkdir(parents=True)
        settings = main_settings.model_copy(deep=True)
        # as many passes over its videos as the main extractor made over its own
        settings.train.steps_per_epoch = max(1, round(settings.train.steps_per_epoch * scale))
        save_settings(settings, fold_dir / "config.yaml")
        save_split(fold_dir / "split.yaml", split, note="out-of-fold feature extractor")
    # a prepared folder trains as a resumed one: its config.yaml and split.yaml are followed
    train_features(project, main_settings, resume=fold_dir, progress=progress)


def out_of_fold_logits(
    project,
    feature_model_dir: str | Path,
    folds: int,
    train_stems: Sequence[str],
    device: str | None = None,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Logits of each training video from a feature extractor that did not train on it.

    Parameters
    ----------
    project
        The open :class:`ethogram.project.Project`.
    feature_model_dir
        The main feature extractor (its ``config.yaml`` and ``split.yaml`` are followed).
    folds
        Number of folds (``sequence.out_of_fold``); below 2, or with fewer than 2 training
        videos, nothing is done.
    train_stems
        The sequence model's training videos.
    device
        Device setting for training and extraction (default: the main model's).
    progress
        Progress bars and messages on stderr.

    Returns
    -------
    dict
        Video name -> float32 (T, K) logits. Empty when out-of-fold logits are off.

    Raises
    ------
    ModelError
        If the main model's folder lacks its settings or split.
    """
    from ethogram.config import read_settings
    from ethogram.data.clips import load_split
    from ethogram.infer.extract import extract_video, is_extracted, load_feature_model
    from ethogram.io.outputs import read_outputs

    feature_model_dir = Path(feature_model_dir)
    groups = fold_groups(train_stems, folds)
    if len(groups) < 2:
        return {}
    for name in ("config.yaml", "split.yaml"):
        if not (feature_model_dir / name).is_file():
            raise ModelError(f"{feature_model_dir}: no {name}; cannot train out-of-fold models")
    settings = read_settings(feature_model_dir / "config.yaml")
    if device is not None:
        settings.device = device
    main_split = load_split(feature_model_dir / "split.yaml")
    train = sorted(train_stems)
    out: dict[str, np.ndarray] = {}
    for k, held in enumerate(groups):
        fold_dir = feature_model_dir / OUT_OF_FOLD_DIR / f"fold{k}"
        rest = [s for s in train if s not in held]
        split = {"train": rest, "val": list(main_split["val"]), "test": []}
        finished = _finished(fold_dir)
        if progress:
            print(
                f"out-of-fold {k + 1}/{len(groups)}: feature extractor on {len(rest)} videos "
                f"({'trained before, reused' if finished else 'training'}), "
                f"logits for {', '.join(held)}",
                file=sys.stderr,
                flush=True,
            )
        if not finished:
            _train_fold(project, settings, split, fold_dir, len(rest) / len(train), progress)
        model = load_feature_model(fold_dir, settings.device)
        for stem in held:
            path = fold_dir / f"{stem}_outputs.h5"
            if not is_extracted(path, model):
                extract_video(project.video(stem).video_path, model, path, progress=progress)
            logits = read_outputs(path, model.name, ["logits"])["logits"]
            out[stem] = np.asarray(logits, dtype=np.float32)
    return out
