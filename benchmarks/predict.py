"""Throughput of `ethogram predict` end to end (decode to CSV), per preset, on this machine.

For each preset a throwaway project is trained for a few steps on sample videos (throughput does
not depend on how well a model is trained), then a held-out sample video is predicted from scratch
(no stored features): decode, optical flow, features, sequence model, post-processing, CSV files.
The same is timed stage by stage. Prints one JSON object.

    python benchmarks/predict.py                      # fast, medium, slow
    python benchmarks/predict.py --presets fast --frames 900 --size 256

Target (issue 6): the `fast` preset at 60 frames/s or more on a 2-core CPU.
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

TARGET_FAST_FPS = 60.0
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


def train_project(root: Path, preset: str, pairs) -> object:
    """A project with the training videos, trained briefly through every stage."""
    from ethogram.infer.extract import extract_project
    from ethogram.project import Project
    from ethogram.sample import SAMPLE_BEHAVIORS
    from ethogram.train.features import train_features
    from ethogram.train.sequence import train_sequence

    project = Project.create(root, SAMPLE_BEHAVIORS, preset=preset)
    for video, labels in pairs:
        project.add_video(video, labels=labels)
    settings = project.settings(overrides=TRAIN_OVERRIDES)
    if settings.flow.method == "motionnet":
        from ethogram.train.flow import train_flow

        settings.flow.model_dir = str(train_flow(project, settings, progress=False))
    feature_dir = train_features(project, settings, progress=False)
    extract_project(project, model_dir=feature_dir, progress=False)
    train_sequence(project, settings, feature_model_dir=feature_dir, progress=False)
    return project


def time_stages(project, video: Path, out_dir: Path) -> dict[str, float]:
    """Seconds spent in each stage of predicting ``video`` (features from scratch)."""
    from ethogram.infer.extract import extract_video
    from ethogram.infer.predict import Predictor, VideoTarget, resolve_model_dir, write_bouts
    from ethogram.infer.sequence import sequence_logits, sigmoid
    from ethogram.io.labels import write_labels
    from ethogram.io.video import open_video

    predictor = Predictor(resolve_model_dir(project), device="cpu")
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


def bench_preset(preset: str, pairs, held_out: Path, work: Path, n_frames: int) -> dict:
    from ethogram.infer.predict import predict

    project = _quiet(train_project, work / f"project_{preset}", preset, pairs)
    out = work / f"out_{preset}"
    # as a user runs it: model loading included
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    results = predict(
        project, [held_out], out=out, overwrite=True, recompute_features=True, progress=False
    )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    if results[0].status != "done":
        return {"error": results[0].reason}
    stages = time_stages(project, held_out, work / f"stages_{preset}")
    settings = project.settings()
    return {
        "frames_per_s": round(n_frames / seconds, 1),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "load_average_before": round(load_before, 2),
        "stage_seconds": stages,
        "stage_frames_per_s": {k: round(n_frames / v, 1) if v else None for k, v in stages.items()},
        "features": {
            "arch": settings.features.arch,
            "flow_arch": settings.features.flow_arch,
            "input_size": settings.features.input_size,
            "motion_input_size": settings.features.motion_size,
            "n_flows": settings.features.n_flows,
            "flow": f"{settings.flow.method} {settings.flow.size}px",
        },
        "sequence": settings.sequence.arch,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="fast,medium,slow")
    parser.add_argument("--frames", type=int, default=600, help="frames of the predicted video")
    parser.add_argument("--size", type=int, default=128, help="sample video size in pixels")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="ethogram_bench_predict_"))
    try:
        videos = make_videos(work / "sample", 3, 150, args.size)
        held_out = make_videos(work / "held_out", 1, args.frames, args.size)[0][0]
        report = {
            "benchmark": "predict end to end (decode to CSV), one video, features from scratch",
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "video": {"frames": args.frames, "size": args.size},
            "presets": {},
        }
        for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
            report["presets"][preset] = bench_preset(preset, videos, held_out, work, args.frames)
        fast = report["presets"].get("fast", {}).get("frames_per_s")
        if fast is not None:
            report["target_fast_frames_per_s"] = TARGET_FAST_FPS
            report["fast_meets_target"] = fast >= TARGET_FAST_FPS
        print(json.dumps(report, indent=2))
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
