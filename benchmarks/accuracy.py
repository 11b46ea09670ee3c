"""Held-out accuracy of the whole chain, per sample style, for configurations side by side.

For each style of ``ethogram sample`` (``--styles``) one sample is written: ``--train-videos``
labeled videos for the project (4 by default), then ``--heldout`` more that no model ever sees.
For each configuration (a name and ``key=value`` overrides on a preset) a fresh project is
trained on the style's labeled videos exactly as ``ethogram train`` does it (feature extractor,
feature extraction, sequence model), then every held-out video is predicted twice: by the
feature extractor alone and by the whole chain (sequence model + post-processing). Both are
scored against the exact labels with :func:`ethogram.evaluate.metrics.evaluate_sequences`.

Styles have a role (``ethogram.sample.BENCHMARK_STYLES``): settings are chosen on the
**choosing** styles (``default``, ``far-dim``, ``bedding-webcam``, ``big-animal``); the
**held-out** styles (``white-rat``, ``infrared-far``, ``compressed-uneven``) are never used to
choose settings, only to report how they carry over to videos that look different.
``--styles choosing`` or ``--styles held_out`` runs one group; ``--styles a,b`` any styles
(``random-N`` too).

``--sequence NAME=key=value,...`` (repeatable) also trains, on each configuration's features,
sequence models with those overrides, and scores their chains beside the configuration's own.

Prints one JSON object (and writes it to ``--out`` after every trained configuration, so a
stopped run keeps what it finished): per style and configuration, the macro F1 without
background (features alone and the whole chain), per-behavior F1, segmental F1@50, edit score,
the rarest behavior's F1, the split the training used and its labeled bouts per behavior, and
the wall-clock time of each training stage; then per configuration a summary over the held-out
and the choosing styles.

    python benchmarks/accuracy.py                        # every benchmark style, fast preset
    python benchmarks/accuracy.py --styles held_out --out runs/heldout.json
    python benchmarks/accuracy.py --styles default --config base= --config v=train.split=[0.6,0.4,0]
    python benchmarks/accuracy.py --styles default --train-videos 6   # the benchmark until 2026-12

``--styles default --train-videos 6`` is the earlier benchmark (6 labeled videos of the default
look, 4 unseen ones), whose figures are in docs/dev/history.md.

Targets (issue 28, on the held-out styles, 4 labeled videos, fast preset, training at most 15
minutes on 2 cores): whole chain macro F1 >= 0.90, the rarest behavior >= 0.80, segmental
F1@50 >= 0.85; no loss on the default style.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/config_runs.py (run as a script: its folder is on sys.path)
from config_runs import add_run_arguments, configs, parse_config, results_header, write_results

TARGETS = {"chain_f1": 0.90, "rarest_f1": 0.80, "segmental_f1@50": 0.85}


def _styles(text: str) -> list[tuple[str, str]]:
    """``--styles`` -> [(style, role)]: group names expand, other names are roles by lookup."""
    from ethogram.sample import BENCHMARK_STYLES

    roles = {name: role for role, names in BENCHMARK_STYLES.items() for name in names}
    out = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        if part in BENCHMARK_STYLES:
            out += [(name, part) for name in BENCHMARK_STYLES[part]]
        else:
            out.append((part, roles.get(part, "other")))
    return out


def _score(predictor, videos, labels, names, outputs_dir: Path, fps: float, rarest: str) -> dict:
    from ethogram.evaluate.metrics import SequencePair, evaluate_sequences

    pairs = []
    for video, label in zip(videos, labels, strict=True):
        probs = predictor.probabilities(video, outputs_dir / f"{video.stem}_outputs.h5")
        pairs.append(SequencePair(video.stem, label, predictor.ethogram(probs), probs, fps))
    result = evaluate_sequences(pairs, names)
    overall = result["overall"]
    f1 = {row["name"]: row["f1"] for row in result["per_class"]}
    return {
        "f1_macro_no_background": overall["f1_macro_no_background"],
        "f1": f1,
        "rarest_f1": f1[rarest],
        "segmental_f1@0.50": overall["segmental_f1"]["0.50"],
        "edit": overall["edit"],
        "ap_macro": overall["ap_macro"],
    }


def _targets(features_f1: float, chain: dict) -> dict[str, bool]:
    return {
        "chain_f1>=0.90": chain["f1_macro_no_background"] >= TARGETS["chain_f1"],
        "rarest_f1>=0.80": (chain["rarest_f1"] or 0) >= TARGETS["rarest_f1"],
        "segmental_f1@50>=0.85": chain["segmental_f1@0.50"] >= TARGETS["segmental_f1@50"],
        "chain_beats_features": chain["f1_macro_no_background"] > features_f1,
    }


def _split_info(model_dir: Path) -> dict:
    """What the feature stage's metrics.json says about its split, labeled bouts and refit."""
    from ethogram.models.folder import metrics_or_empty

    metrics = metrics_or_empty(model_dir)
    keys = ("split", "split_note", "validation", "labeled_bouts", "refit")
    return {key: metrics[key] for key in keys if key in metrics}


def run_config(
    name: str,
    overrides: list[str],
    preset: str,
    sample,
    n_train: int,
    root: Path,
    fps: float,
    rarest: str,
    sequence_variants: list[tuple[str, list[str]]] = (),
) -> dict:
    """Train one configuration on the first ``n_train`` sample videos; score the rest.

    Each of ``sequence_variants`` (name, overrides added to ``overrides``) is a further sequence
    model trained on the same features and scored the same way.
    """
    from ethogram.infer.extract import extract_project
    from ethogram.infer.predictor import Predictor, project_labels
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
    seconds["training_total"] = sum(seconds.values())

    heldout = [v.video_path for v in sample[n_train:]]
    labels = [read_labels(v.labels_path).values for v in sample[n_train:]]
    outputs_dir = root / f"{name}_outputs"
    outputs_dir.mkdir()
    names = list(SAMPLE_BEHAVIORS)
    out = {"overrides": overrides, "seconds": seconds, "training": _split_info(feature_dir)}
    for stage, model_dir in (("features", feature_dir), ("sequence", sequence_dir)):
        predictor = Predictor(model_dir, label_arrays=project_labels(project))
        start = time.perf_counter()
        out[stage] = _score(predictor, heldout, labels, names, outputs_dir, fps, rarest)
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
        chain = _score(predictor, heldout, labels, names, outputs_dir, fps, rarest)
        out["sequence_variants"][variant] = {
            "overrides": extra,
            "seconds": {"train_sequence": trained},
            "sequence": chain,
            "targets_met": _targets(features_f1, chain),
        }
        print(f"{name} / {variant}: done", file=sys.stderr, flush=True)
    return out


def _rarest(sample, names: list[str]) -> str:
    """The behavior (background left out) with the fewest frames in the sample's videos."""
    import numpy as np

    from ethogram.io.labels import read_labels

    counts = sum((read_labels(v.labels_path).values == 1).sum(axis=0) for v in sample)
    return names[1 + int(np.argmin(counts[1:]))]


def summarize(styles: dict, configs: list[str]) -> dict:
    """Per configuration and role: mean chain macro F1, mean segmental F1@50, worst rarest F1."""
    out = {}
    for config in configs:
        out[config] = {}
        roles = sorted({s["role"] for s in styles.values()})
        for role in roles:
            runs = [s["configs"][config] for s in styles.values()
                    if s["role"] == role and config in s["configs"]]  # fmt: skip
            if not runs:
                continue
            chain = [r["sequence"] for r in runs]
            out[config][role] = {
                "styles": [
                    n for n, s in styles.items() if s["role"] == role and config in s["configs"]
                ],  # fmt: skip
                "chain_f1_mean": sum(c["f1_macro_no_background"] for c in chain) / len(chain),
                "chain_f1_min": min(c["f1_macro_no_background"] for c in chain),
                "features_f1_mean": sum(r["features"]["f1_macro_no_background"] for r in runs)
                / len(runs),
                "rarest_f1_min": min((c["rarest_f1"] or 0) for c in chain),
                "segmental_f1@0.50_mean": sum(c["segmental_f1@0.50"] for c in chain) / len(chain),
                "training_seconds_max": max(r["seconds"]["training_total"] for r in runs),
                "all_targets_met": all(
                    r["targets_met"][k]
                    for r in runs
                    for k in ("chain_f1>=0.90", "rarest_f1>=0.80", "segmental_f1@50>=0.85")
                ),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(
        parser, "NAME=key=value,key=value (repeatable); default: one run of the preset as it is"
    )
    parser.add_argument(
        "--styles",
        default="choosing,held_out",
        help="comma-separated styles of `ethogram sample`, or the groups choosing / held_out "
        "(default: both groups)",
    )
    parser.add_argument(
        "--sequence",
        action="append",
        default=[],
        help="NAME=key=value,... (repeatable): a further sequence model on each configuration's "
        "features, scored beside it",
    )
    parser.add_argument("--train-videos", type=int, default=4, help="labeled project videos")
    parser.add_argument("--heldout", type=int, default=4, help="unseen videos per style")
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from ethogram.sample import SAMPLE_BEHAVIORS, get_style, make_sample

    runs = configs(args)
    variants = [parse_config(c) for c in args.sequence]
    styles = _styles(args.styles)
    sample_fields = {
        "train_videos": args.train_videos,
        "heldout_videos": args.heldout,
        "frames": args.frames,
        "size": args.size,
        "seed": args.seed,
    }
    results = {**results_header(args, sample=sample_fields), "styles": {}}
    with tempfile.TemporaryDirectory(prefix="ethogram_accuracy_") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for style_name, role in styles:
            style = get_style(style_name, args.seed)
            style_root = root / style_name
            start = time.perf_counter()
            sample = make_sample(
                style_root / "sample",
                n_videos=args.train_videos + args.heldout,
                n_frames=args.frames,
                seed=args.seed,
                size=args.size,
                style=style,
                overwrite=True,
            )
            fps = float(style.fps or 30.0)
            rarest = _rarest(sample, list(SAMPLE_BEHAVIORS))
            entry = {
                "role": role,
                "fps": fps,
                "rarest_behavior": rarest,
                "sample_seconds": time.perf_counter() - start,
                "configs": {},
            }
            results["styles"][style_name] = entry
            for name, overrides in runs:
                entry["configs"][name] = run_config(
                    name, overrides, args.preset, sample, args.train_videos, style_root, fps,
                    rarest, variants,
                )  # fmt: skip
                entry["load_average_after"] = os.getloadavg()
                results["summary"] = summarize(results["styles"], [c for c, _ in runs])
                write_results(args.out, results)
                print(f"{style_name} / {name}: done", file=sys.stderr, flush=True)
        results["load_average_after"] = os.getloadavg()
    write_results(args.out, results)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
