"""Throughput of `ethogram predict` end to end (decode to CSV), per preset and runtime.

For each preset a throwaway project is trained for a few steps on sample videos (throughput does
not depend on how well a model is trained), then a held-out sample video is predicted from scratch
(no stored features): decode, optical flow, features, sequence model, post-processing, CSV files.
Each runtime (torch, and onnx when onnxruntime is installed) predicts it in turn, as
`ethogram predict --runtime R` does; the onnx export is made (and timed) before. The same is
timed stage by stage, and the onnx predictions are compared with torch's: the share of frames
whose predictions (every behavior) are equal, and the largest probability difference. Prints
one JSON object.

    python benchmarks/predict.py                      # fast, medium, slow
    python benchmarks/predict.py --presets fast --frames 900 --size 256
    python benchmarks/predict.py --presets fast --runtimes torch,onnx --repeat 3
    python benchmarks/predict.py --presets fast --mirror both,spatial   # side by side

Targets: issue 6, the `fast` preset at 60 frames/s or more on a 2-core CPU; issue 31, 150
frames/s with the fastest runtime, its predictions equal to torch's on 99.5 % of frames or more.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name  # benchmarks/machine.py (run as a script: its folder is on sys.path)

TARGET_FAST_FASTEST_FPS = 150.0
TARGET_EQUAL_PERCENT = 99.5
TRAIN_FRAMES = 300
TRAIN_OVERRIDES = [
    "device=cpu",
    "train.epochs=1",
    "train.stream_epochs=0",
    "train.steps_per_epoch=2",
    "train.batch_size=4",
    "flow.epochs=1",
    "flow.steps_per_epoch=2",
    "sequence.epochs=1",
]


def _quiet(fn, *args, **kwargs):
    """Call ``fn`` with its progress output (stderr) silenced."""
    devnull = open(os.devnull, "w")  # noqa: SIM115
    saved, sys.stderr = sys.stderr, devnull
    try:
        return fn(*args, **kwargs)
    finally:
        sys.stderr = saved
        devnull.close()


def make_videos(folder: Path, n_videos: int, n_frames: int, size: int) -> list[tuple[Path, Path]]:
    """Sample videos with labels: [(video, labels)]."""
    from ethogram.sample import make_sample

    samples = make_sample(folder, n_videos=n_videos, n_frames=n_frames, size=size, seed=0)
    return [(s.video_path, s.labels_path) for s in samples]


def train_project(root: Path, preset: str, pairs, overrides=()) -> object:
    """A project with the training videos, trained briefly through every stage."""
    from ethogram.infer.extract import extract_project
    from ethogram.project import Project
    from ethogram.sample import SAMPLE_BEHAVIORS
    from ethogram.train.features import train_features
    from ethogram.train.sequence import train_sequence

    project = Project.create(root, SAMPLE_BEHAVIORS, preset=preset)
    for video, labels in pairs:
        project.add_video(video, labels=labels)
    settings = project.settings(overrides=[*TRAIN_OVERRIDES, *overrides])
    if settings.flow.method == "motionnet":
        from ethogram.train.flow import train_flow

        settings.flow.model_dir = str(train_flow(project, settings, progress=False))
    feature_dir = train_features(project, settings, progress=False)
    extract_project(project, model_dir=feature_dir, progress=False)
    train_sequence(project, settings, feature_model_dir=feature_dir, progress=False)
    return project


def time_stages(project, video: Path, out_dir: Path, runtime: str = "torch") -> dict[str, float]:
    """Seconds spent in each stage of predicting ``video`` (features from scratch)."""
    from ethogram.infer.extract import extract_video
    from ethogram.infer.predictor import Predictor, resolve_model_dir, write_bouts
    from ethogram.infer.sequence import sequence_logits, sigmoid
    from ethogram.infer.targets import VideoTarget
    from ethogram.io.labels import write_labels
    from ethogram.io.video import open_video

    predictor = Predictor(resolve_model_dir(project), device="cpu", runtime=runtime)
    target = VideoTarget(video, out_dir)
    target.outputs_path.unlink(missing_ok=True)
    _ = predictor.feature_model  # loading the models is not per-video work
    stages = {}
    started = time.perf_counter()
    with open_video(video) as reader:
        for _start, _frames in reader.iter_chunks(256):
            pass
    stages["decode"] = time.perf_counter() - started
    started = time.perf_counter()
    extract_video(video, predictor.feature_model, target.outputs_path, progress=False)
    stages["flow_and_features"] = time.perf_counter() - started
    started = time.perf_counter()
    group = predictor._feature_group(target.outputs_path)
    inputs = predictor._sequence.load_inputs(target.outputs_path, group)
    logits = sequence_logits(predictor._sequence.model, inputs)
    probs = sigmoid(logits)
    stages["sequence"] = time.perf_counter() - started
    started = time.perf_counter()
    values = predictor.ethogram(probs)
    write_labels(target.predictions_path, values, predictor.class_names, backup=False)
    write_bouts(target.bouts_path, values, predictor.class_names, 30.0)
    stages["postprocess_and_csv"] = time.perf_counter() - started
    return {k: round(v, 3) for k, v in stages.items()}


def _export(project) -> float:
    """Seconds to export the project's feature extractor to ONNX (as `ethogram export-model`)."""
    from ethogram.infer.onnx_export import export_feature_model
    from ethogram.infer.predictor import Predictor, resolve_model_dir

    feature_dir = Predictor(resolve_model_dir(project), device="cpu").feature_model_dir
    started = time.perf_counter()
    export_feature_model(feature_dir)
    return round(time.perf_counter() - started, 2)


def _predict_once(project, held_out: Path, out: Path, runtime: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of one `predict` of ``held_out`` from scratch, and its failure."""
    from ethogram.infer.predict import predict

    started, cpu_started = time.perf_counter(), time.process_time()
    results = predict(project, [held_out], out=out, overwrite=True, recompute_features=True,
                      progress=False, runtime=runtime)  # fmt: skip
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    return seconds, cpu_seconds, "" if results[0].status == "done" else results[0].reason


def bench_runtime(project, runtime: str, held_out: Path, work: Path, n_frames: int, repeat: int):
    """Frames/s of `predict` with ``runtime`` (best of ``repeat``), and its stage times."""
    out = work / f"out_{runtime}"
    # as a user runs it: model loading included
    runs = []
    for _ in range(repeat):
        load_before = os.getloadavg()[0]
        seconds, cpu_seconds, failure = _predict_once(project, held_out, out, runtime)
        if failure:
            return {"error": failure}
        runs.append((seconds, cpu_seconds, load_before))
    seconds, cpu_seconds, load_before = min(runs)
    stages = time_stages(project, held_out, work / f"stages_{runtime}", runtime)
    return {
        "frames_per_s": round(n_frames / seconds, 1),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "load_average_before": round(load_before, 2),
        "all_frames_per_s": [round(n_frames / r[0], 1) for r in runs],
        "stage_seconds": stages,
        "stage_frames_per_s": {k: round(n_frames / v, 1) if v else None for k, v in stages.items()},
        "out": out,
    }


def compare(reference: Path, other: Path, stem: str, group: str) -> dict:
    """How close ``other``'s predictions of a video are to ``reference``'s."""
    import numpy as np

    from ethogram.io.labels import read_labels
    from ethogram.io.outputs import read_outputs

    a = read_labels(reference / f"{stem}_predictions.csv").values
    b = read_labels(other / f"{stem}_predictions.csv").values
    pa = read_outputs(reference / f"{stem}_outputs.h5", group, ["P"])["P"]
    pb = read_outputs(other / f"{stem}_outputs.h5", group, ["P"])["P"]
    return {
        "equal_frames_percent": round(100.0 * float((a == b).all(axis=1).mean()), 2),
        "max_probability_difference": float(np.abs(pa - pb).max()),
    }


def bench_preset(preset, pairs, held_out, work, n_frames, runtimes, repeat, mirror=None) -> dict:
    from ethogram.infer.predictor import Predictor, resolve_model_dir

    overrides = [f"features.mirror_average={mirror}"] if mirror else []
    name = f"{preset}_{mirror}" if mirror else preset
    project = _quiet(train_project, work / f"project_{name}", preset, pairs, overrides)
    settings = project.settings(overrides=overrides)
    trained = Predictor(resolve_model_dir(project), device="cpu").feature_model.settings.features
    report: dict = {
        "features": {
            "arch": settings.features.arch,
            "flow_arch": settings.features.flow_arch,
            "input_size": settings.features.input_size,
            "motion_input_size": settings.features.motion_size,
            "n_flows": settings.features.n_flows,
            "mirror_average": settings.features.mirror_average,
            "video_norm": settings.features.video_norm,
            "crop": trained.crop,  # as resolved when training started (auto -> animal or none)
            "crop_size": trained.crop_size,
            "crop_motion": trained.crop_motion,
            "flow": f"{settings.flow.method} {settings.flow.size}px",
        },
        "sequence": settings.sequence.arch,
    }
    group = Predictor(resolve_model_dir(project), device="cpu").group
    for runtime in runtimes:
        work_rt = work / f"{name}_{runtime}"
        if runtime == "onnx":
            report["onnx_export_seconds"] = _export(project)
        report[runtime] = bench_runtime(project, runtime, held_out, work_rt, n_frames, repeat)
    outs = {r: report[r].pop("out", None) for r in runtimes if "error" not in report[r]}
    if "torch" in outs:
        for runtime in outs:
            if runtime != "torch":
                found = compare(outs["torch"], outs[runtime], held_out.stem, group)
                report[runtime]["vs_torch"] = found
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="fast,medium,slow")
    parser.add_argument("--runtimes", default=None, help="torch,onnx (default: both if installed)")
    parser.add_argument("--repeat", type=int, default=1, help="predictions per runtime (best)")
    parser.add_argument("--frames", type=int, default=600, help="frames of the predicted video")
    parser.add_argument("--size", type=int, default=128, help="sample video size in pixels")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument(
        "--mirror",
        default=None,
        help="features.mirror_average values to compare, e.g. both,spatial (default: the preset's)",
    )
    args = parser.parse_args(argv)

    import importlib.util

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.runtimes:
        runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    else:
        runtimes = ["torch"] + (["onnx"] if importlib.util.find_spec("onnxruntime") else [])
    work = Path(tempfile.mkdtemp(prefix="ethogram_bench_predict_"))
    try:
        # long enough for the background (and so features.crop=auto) to find the animal, as
        # on a user's videos: the model then crops as theirs would
        videos = make_videos(work / "sample", 3, TRAIN_FRAMES, args.size)
        held_out = make_videos(work / "held_out", 1, args.frames, args.size)[0][0]
        report = {
            "benchmark": "predict end to end (decode to CSV), one video, features from scratch",
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "runtimes": runtimes,
            "video": {"frames": args.frames, "size": args.size},
            "presets": {},
        }
        if "onnx" in runtimes:
            import onnxruntime

            report["onnxruntime"] = onnxruntime.__version__
        mirrors = [m.strip() for m in args.mirror.split(",")] if args.mirror else [None]
        for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
            for mirror in mirrors:
                name = f"{preset}, mirror_average={mirror}" if mirror else preset
                report["presets"][name] = bench_preset(
                    preset, videos, held_out, work, args.frames, runtimes, args.repeat, mirror
                )
        speeds = {
            (name, r): entry[r]["frames_per_s"]
            for name, entry in report["presets"].items()
            if name.split(",")[0] == "fast"
            for r in runtimes
            if "frames_per_s" in entry.get(r, {})
        }
        if speeds:
            best = max(speeds, key=speeds.get)
            entry = report["presets"][best[0]][best[1]]
            equal = entry.get("vs_torch", {}).get("equal_frames_percent", 100.0)
            report["fast_fastest"] = {"configuration": best[0], "runtime": best[1]}
            report["target_fast_frames_per_s"] = TARGET_FAST_FASTEST_FPS
            report["fast_meets_target"] = (
                speeds[best] >= TARGET_FAST_FASTEST_FPS and equal >= TARGET_EQUAL_PERCENT
            )
        print(json.dumps(report, indent=2, default=str))
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
