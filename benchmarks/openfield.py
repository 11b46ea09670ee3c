"""Locomotion on the real openfield video: train on its first part, score the rest.

The video is ``../shared/data/openfield/m3v1mp4.mp4`` (a mouse in an open field, 2330 frames, from
the DeepLabCut examples; see its README for the license). Its labels,
``benchmarks/data/openfield_m3v1_locomotion_bouts.csv``, were made by eye (see the README beside
them): locomotion where the whole body travels over the floor, everything else background.

A project with that one video is labeled on its first ``--train-fraction`` of frames (the rest
stays unlabeled, as a user who labeled part of a video leaves it), trained with the ``fast``
preset, and scored on the unlabeled rest: frame F1 of locomotion and of background, segmental
F1@50, for the feature extractor alone and the whole chain. One video means validation comes from
blocks inside it (``train.validation=auto`` or ``blocks``). Configurations run side by side::

    python benchmarks/openfield.py --threads 2 --out runs/openfield.json
    python benchmarks/openfield.py --config base=train.validation=blocks \\
        --config balance=train.validation=blocks,train.balance=0.5

Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# benchmarks/config_runs.py (run as a script: its folder is on sys.path)
from config_runs import add_run_arguments, configs, results_header, write_results

HERE = Path(__file__).resolve().parent
VIDEO = HERE.parent.parent / "shared" / "data" / "openfield" / "m3v1mp4.mp4"
LABELS = HERE / "data" / "openfield_m3v1_locomotion_bouts.csv"
BEHAVIORS = ["background", "locomotion"]


def read_bouts(path: Path, n_frames: int) -> np.ndarray:
    """The (T, 2) background / locomotion array of a bouts table (end_frame inclusive)."""
    values = np.zeros((n_frames, 2), dtype=np.int8)
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["behavior"] != "locomotion":
                raise ValueError(f"{path}: unexpected behavior {row['behavior']!r}")
            values[int(row["start_frame"]) : int(row["end_frame"]) + 1, 1] = 1
    values[:, 0] = 1 - values[:, 1]
    return values


def _score(predictor, video: Path, truth: np.ndarray, first: int, out: Path, fps: float) -> dict:
    from ethogram.evaluate.metrics import SequencePair, evaluate_sequences

    probs = predictor.probabilities(video, out)
    predicted = predictor.ethogram(probs)
    pair = SequencePair(video.stem, truth[first:], predicted[first:], probs[first:], fps)
    result = evaluate_sequences([pair], BEHAVIORS, fps=fps)
    f1 = {row["name"]: row["f1"] for row in result["per_class"]}
    return {
        "locomotion_f1": f1["locomotion"],
        "background_f1": f1["background"],
        "segmental_f1@0.50": result["overall"]["segmental_f1"]["0.50"],
        "predicted_locomotion_share": float(predicted[first:, 1].mean()),
    }


def run_config(name: str, overrides: list[str], preset: str, fraction: float, root: Path) -> dict:
    """Train one configuration on the first ``fraction`` of the video; score the rest."""
    from ethogram.infer.predictor import Predictor, project_labels
    from ethogram.project import Project
    from ethogram.train.pipeline import train_project

    project = Project.create(root / name, BEHAVIORS)
    record = project.add_video(root / VIDEO.name)
    n_frames = record.info().n_frames
    fps = float(record.info().fps)
    truth = read_bouts(LABELS, n_frames)
    first = int(round(fraction * n_frames))
    partial = truth.copy()
    partial[first:] = -1
    project.write_labels(record.stem, partial, n_frames=n_frames)
    start = time.perf_counter()
    trained = train_project(project, preset=preset, overrides=overrides, progress=False)
    seconds = {"training_total": time.perf_counter() - start}
    feature_dir, sequence_dir = trained.model_dir("features"), trained.model_dir("sequence")
    out = {"overrides": overrides, "seconds": seconds, "scored_frames": [first, n_frames]}
    outputs = root / f"{name}_outputs"
    outputs.mkdir()
    for stage, model_dir in (("features", feature_dir), ("chain", sequence_dir)):
        predictor = Predictor(model_dir, label_arrays=project_labels(project))
        out[stage] = _score(predictor, record.video_path, truth, first,
                            outputs / f"{stage}_outputs.h5", fps)  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(parser, "NAME=key=value,key=value (repeatable); default: the preset as it is")
    parser.add_argument("--train-fraction", type=float, default=0.6)
    args = parser.parse_args()
    if not VIDEO.exists():
        sys.exit(f"{VIDEO}: the openfield video is not there (../shared/data beside the repo)")

    labels = read_bouts(LABELS, 2330)
    fields = {
        "video": VIDEO.name,
        "train_fraction": args.train_fraction,
        "labeled_locomotion_share": float(labels[:, 1].mean()),
    }
    results = {**results_header(args, **fields), "configs": {}}
    with tempfile.TemporaryDirectory(prefix="ethogram_openfield_") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(VIDEO, root / VIDEO.name)  # never write beside the shared video
        for name, overrides in configs(args):
            results["configs"][name] = run_config(
                name, overrides, args.preset, args.train_fraction, root
            )
            results["load_average_after"] = os.getloadavg()
            write_results(args.out, results)
            print(f"{name}: done", file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
