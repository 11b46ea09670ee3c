"""Held-out accuracy of the whole chain, for several configurations side by side.

One synthetic sample is written (``--train-videos`` labeled videos for the project, then
``--heldout`` more that no model ever sees). The default, 6 labeled videos, splits 4 / 1 / 1 by
DeepEthogram's 60/20/20 rule: the feature extractor trains on 4 videos, as in the training-time
target of issue 5; ``--train-videos 4`` (split 2 / 1 / 1) shows what half the training data gives.

For each configuration (a name and ``key=value`` overrides on a preset) a fresh project is
trained exactly as ``ethogram train`` does it (feature extractor, feature extraction, sequence
model), then every held-out video is predicted twice: by the feature extractor alone and by the
whole chain (sequence model + post-processing). Both are scored against the exact labels with
:func:`ethogram.evaluate.metrics.evaluate_sequences`.

``--sequence NAME=key=value,...`` (repeatable) also trains, on each configuration's features,
sequence models with those overrides, and scores their chains beside the configuration's own:
sequence settings compared on the same features, for a minute or two each.

Prints one JSON object: per configuration, the macro F1 without background (features alone and
the whole chain), per-behavior F1, segmental F1@50, edit score, and the wall-clock time of
each training stage; per ``--sequence`` variant, the same for its chain (``sequence_variants``).

    python benchmarks/accuracy.py                               # the fast preset, 6+4 videos
    python benchmarks/accuracy.py --config base= --config flow128=flow.size=128
    python benchmarks/accuracy.py --sequence six=sequence.members=6
    python benchmarks/accuracy.py --frames 600 --train-videos 3 --heldout 2 \
        --config quick=train.epochs=2

Targets (issues 5 and 6): features alone >= 0.85 macro F1; whole chain >= 0.90 and beats the
features alone; segmental F1@50 >= 0.85.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path


def _parse_config(text: str) -> tuple[str, list[str]]:
    """``NAME=k=v,k=v`` -> (NAME, [k=v, ...]); commas inside brackets (lists) do not split."""
    name, _, rest = text.partition("=")
    return name, [item for item in re.split(r",(?![^\[]*\])", rest) if item]


def _score(predictor, videos, labels, names, outputs_dir: Path) -> dict:
    from ethogram.evaluate.metrics import SequencePair, evaluate_sequences

    pairs = []
    for video, label in zip(videos, labels, strict=True):
        probs = predictor.probabilities(video, outputs_dir / f"{video.stem}_outputs.h5")
        pairs.append(SequencePair(video.stem, label, predictor.ethogram(probs), probs, 30.0))
    result = evaluate_sequences(pairs, names)
    overall = result["overall"]
    return {
        "f1_macro_no_background": overall["f1_macro_no_background"],
        "f1": {row["name"]: row["f1"] for row in result["per_class"]},
        "segmental_f1@0.50": overall["segmental_f1"]["0.50"],
        "edit": overall["edit"],
        "ap_macro": overall["ap_macro"],
    }


def _targets(features_f1: float, chain: dict) -> dict[str, bool]:
    return {
        "features_f1>=0.85": features_f1 >= 0.85,
        "sequence_f1>=0.90": chain["f1_macro_no_background"] >= 0.90,
        "sequence_beats_features": chain["f1_macro_no_background"] > features_f1,
        "segmental_f1@50>=0.85": chain["segmental_f1@0.50"] >= 0.85,
    }


def run_config(
    name: str,
    overrides: list[str],
    preset: str,
    sample,
    n_train: int,
    root: Path,
    sequence_variants: list[tuple[str, list[str]]] = (),
):
    """Train one configuration on the first ``n_train`` sample videos; score the rest.

    Each of ``sequence_variants`` (name, overrides added to ``overrides``) is a further sequence
    model trained on the same features and scored the same way.
    """
    from ethogram.infer.extract import extract_project
    from ethogram.infer.predict import Predictor, project_labels
    from ethogram.io.labels import read_labels
    from ethogram.project import Project
    from ethogram.sample import SAMPLE_BEHAVIORS
    from ethogram.train.features import train_features
    from ethogram.train.sequence import train_sequence

    project = Project.create(root / name, SAMPLE_BEHAVIORS)
    for video in sample[:n_train]:
        project.add_video(video.video_path, labels=video.labels_path, link=True)
    settings = project.settings(preset, overrides)
    seconds = {}
    start = time.perf_counter()
    feature_dir = train_features(project, settings, progress=False)
    seconds["train_features"] = time.perf_counter() - start
    start = time.perf_counter()
    extract_project(project, model_dir=feature_dir, progress=False)
    seconds["extract_train_videos"] = time.perf_counter() - start
    start = time.perf_counter()
    sequence_dir = train_sequence(project, settings, feature_model_dir=feature_dir, progress=False)
    seconds["train_sequence"] = time.perf_counter() - start

    heldout = [v.video_path for v in sample[n_train:]]
    labels = [read_labels(v.labels_path).values for v in sample[n_train:]]
    outputs_dir = root / f"{name}_outputs"
    outputs_dir.mkdir()
    out = {"overrides": overrides, "seconds": seconds}
    for stage, model_dir in (("features", feature_dir), ("sequence", sequence_dir)):
        predictor = Predictor(model_dir, label_arrays=project_labels(project))
        start = time.perf_counter()
        out[stage] = _score(predictor, heldout, labels, list(SAMPLE_BEHAVIORS), outputs_dir)
        seconds[f"predict_heldout_{stage}"] = time.perf_counter() - start
    features_f1 = out["features"]["f1_macro_no_background"]
    out["targets_met"] = _targets(features_f1, out["sequence"])
    if sequence_variants:
        out["sequence_variants"] = {}
    for variant, extra in sequence_variants:
        start = time.perf_counter()
        model_dir = train_sequence(
            project,
            project.settings(preset, [*overrides, *extra]),
            feature_model_dir=feature_dir,
            progress=False,
        )
        trained = time.perf_counter() - start
        predictor = Predictor(model_dir, label_arrays=project_labels(project))
        chain = _score(predictor, heldout, labels, list(SAMPLE_BEHAVIORS), outputs_dir)
        out["sequence_variants"][variant] = {
            "overrides": extra,
            "seconds": {"train_sequence": trained},
            "sequence": chain,
            "targets_met": _targets(features_f1, chain),
        }
        print(f"{name} / {variant}: done", file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="fast")
    parser.add_argument(
        "--config",
        action="append",
        default=None,
        help="NAME=key=value,key=value (repeatable); default: one run of the preset as it is",
    )
    parser.add_argument(
        "--sequence",
        action="append",
        default=[],
        help="NAME=key=value,... (repeatable): a further sequence model on each configuration's "
        "features, scored beside it",
    )
    parser.add_argument(
        "--train-videos", type=int, default=6, help="labeled project videos (split 60/20/20)"
    )
    parser.add_argument("--heldout", type=int, default=4)
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the projects in this folder")
    args = parser.parse_args()

    import torch

    from ethogram.sample import make_sample

    if args.threads:
        torch.set_num_threads(args.threads)
    configs = [_parse_config(c) for c in (args.config or ["preset="])]
    variants = [_parse_config(c) for c in args.sequence]
    with tempfile.TemporaryDirectory(prefix="ethogram_accuracy_") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        sample = make_sample(
            root / "sample",
            n_videos=args.train_videos + args.heldout,
            n_frames=args.frames,
            seed=args.seed,
            size=args.size,
        )
        results = {
            "preset": args.preset,
            "sample": {
                "train_videos": args.train_videos,
                "heldout_videos": args.heldout,
                "frames": args.frames,
                "size": args.size,
                "seed": args.seed,
                "seconds": time.perf_counter() - start,
            },
            "threads": torch.get_num_threads(),
            "load_average": os.getloadavg(),
            "configs": {},
        }
        for name, overrides in configs:
            results["configs"][name] = run_config(
                name, overrides, args.preset, sample, args.train_videos, root, variants
            )
            print(f"{name}: done", file=sys.stderr, flush=True)
        results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
