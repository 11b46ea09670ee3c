"""Throughput of the feature extractor per preset: training images/s and extraction frames/s.

For each preset, in a child process of its own (so that peak memory is per preset):

- a throwaway project of sample videos is trained for a few steps of each phase (spatial stream,
  flow stream, fused); ``train_images_per_s`` is clips per second through forward, backward and
  optimizer step, augmentation included (preprocessing caches are built first, and timed apart);
- a held-out sample video is run through :func:`ethogram.infer.extract.extract_video` from
  scratch: decode + resize + optical flow + both CNNs + HDF5 writing, end to end; the same video is
  also timed stage by stage (decode only; decode + preprocessing; CNN alone on prepared inputs);
- peak resident memory (``ru_maxrss``) of the child, and the Python-level peak (``tracemalloc``)
  during extraction.

Prints one JSON object. The machine's load average is included: other processes on a shared
machine slow every figure down.

    python benchmarks/features.py                    # fast, medium (slow is skipped on CPU)
    python benchmarks/features.py --presets fast --frames 1800 --threads 2

Target (issue 5): ``fast`` extraction at 60 frames/s or more end to end on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name  # benchmarks/machine.py (run as a script: its folder is on sys.path)

TARGET_FAST_FPS = 60.0
TRAIN_STEPS = 8


def _make_project(root: Path, n_frames: int, size: int):
    from ethogram.project import Project
    from ethogram.sample import SAMPLE_BEHAVIORS, make_sample

    videos = make_sample(root / "sample", n_videos=3, n_frames=n_frames, seed=7, size=size)
    project = Project.create(root / "proj", SAMPLE_BEHAVIORS)
    for video in videos[:2]:
        project.add_video(video.video_path, labels=video.labels_path)
    return project, videos[2].video_path


def _time_extraction_stages(video: Path, model) -> dict:
    """Frames/s of: decode only; decode + preprocessing; CNN on the prepared stacks; the
    statistics pass (``features.video_norm``)."""
    import numpy as np

    from ethogram.data.preprocess import FramePreprocessor, background_image, prepare_frames
    from ethogram.infer.extract import BATCH_SIZE, CHUNK_SIZE, _run_batch, _statistics_batches
    from ethogram.io.video import VideoReader
    from ethogram.nn.video_norm import video_statistics

    out = {}
    start = time.perf_counter()
    chunks = []
    with VideoReader(video, cache_size=1) as reader:
        n = len(reader)
        for _, frames in reader.iter_chunks(CHUNK_SIZE):
            chunks.append(frames)
    out["decode_fps"] = n / (time.perf_counter() - start)
    # features.crop=animal: a pass for the background image (decode + median)
    start = time.perf_counter()
    background = background_image(video, model.settings)
    if background is not None:
        out["background_pass_fps"] = n / (time.perf_counter() - start)
    start = time.perf_counter()
    pre = FramePreprocessor(model.settings, background=background)
    for frames in chunks:
        pre.push(frames)
    pre.finish()
    out["resize_flow_fps"] = n / (time.perf_counter() - start)
    arrays = prepare_frames(chunks, model.settings, background=background)
    feat = model.settings.features
    start = time.perf_counter()
    for first in range(0, n, BATCH_SIZE):
        rgb, flow = arrays.stacks(np.arange(first, min(n, first + BATCH_SIZE)), feat.n_rgb,
                                  feat.n_flows)  # fmt: skip
        _run_batch(model, rgb, flow)
    out["cnn_fps"] = n / (time.perf_counter() - start)
    # the statistics pass of features.video_norm: decode + flow again, the CNN on <= 512 frames
    start = time.perf_counter()
    statistics = _statistics_batches(video, model, background=background)
    with video_statistics(model.model, feat.video_norm, statistics):
        pass
    out["statistics_pass_fps"] = n / (time.perf_counter() - start)
    return {k: round(v, 1) for k, v in out.items()}


def run_preset(preset: str, n_frames: int, size: int, threads: int, steps: int) -> dict:
    """Benchmark one preset in this process; returns its figures."""
    import tracemalloc

    import torch

    torch.set_num_threads(threads)
    from ethogram.infer.extract import extract_video
    from ethogram.infer.feature_model import load_feature_model
    from ethogram.models.folder import read_metrics
    from ethogram.train.features import train_features

    with tempfile.TemporaryDirectory(prefix="ethogram_bench_") as tmp:
        project, held_out = _make_project(Path(tmp), n_frames, size)
        overrides = ["device=cpu", "train.stream_epochs=1", "train.epochs=1",
                     f"train.steps_per_epoch={steps}", "train.patience=5"]  # fmt: skip
        settings = project.settings(preset, overrides)
        start = time.perf_counter()
        model_dir = train_features(project, settings, progress=False)
        train_total = time.perf_counter() - start
        metrics = read_metrics(model_dir)
        per_phase = {e["phase"]: round(e["train_images_per_s"], 1) for e in metrics["epochs"]}
        model = load_feature_model(model_dir, device="cpu")
        tracemalloc.start()
        start = time.perf_counter()
        extract_video(held_out, model, Path(tmp) / "held_out_outputs.h5", progress=False)
        seconds = time.perf_counter() - start
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stages = _time_extraction_stages(held_out, model)
    feat, flow = model.settings.features, settings.flow  # crop as resolved by training
    return {
        "config": {
            "arch": feat.arch,
            "flow_arch": feat.flow_arch,
            "width": feat.width,
            "input_size": feat.input_size,
            "motion_input_size": feat.motion_size,
            "crop": feat.crop if feat.crop == "none" else f"{feat.crop} {feat.crop_size}",
            "n_rgb": feat.n_rgb,
            "n_flows": feat.n_flows,
            "flow": f"{flow.method} {flow.size}px"
            + (f" {flow.dis_preset}" if flow.method == "dis" else ""),
            "batch_size": settings.train.batch_size,
        },  # fmt: skip
        "train_images_per_s": per_phase,
        "train_batch_size": settings.train.batch_size,
        "preprocess_s_for_training": metrics.get("preprocess_seconds"),
        "train_run_s": round(train_total, 1),
        "extract_frames": n_frames,
        "extract_fps": round(n_frames / seconds, 1),
        "extract_stages_fps": stages,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "extract_python_peak_mb": round(python_peak / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run each preset in a child process, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["fast", "medium"])
    parser.add_argument("--frames", type=int, default=900, help="Frames per sample video.")
    parser.add_argument("--size", type=int, default=128, help="Sample video size (pixels).")
    parser.add_argument("--threads", type=int, default=2, help="torch threads.")
    parser.add_argument("--steps", type=int, default=TRAIN_STEPS, help="Training steps/phase.")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        result = run_preset(args.one, args.frames, args.size, args.threads, args.steps)
        print(json.dumps(result))
        return
    report = {
        "benchmark": "features",
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": args.threads,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "sample_video": f"{args.frames} frames, {args.size}x{args.size}",
        "presets": {},
    }
    for preset in ["fast", "medium", "slow"]:
        if preset not in args.presets:
            if preset == "slow":
                report["presets"]["slow"] = {
                    "skipped": "3D ResNet on 11 frames at 160 px is impractical on a 2-core CPU; "
                    "run with --presets slow to measure it anyway"
                }
            continue
        cmd = [sys.executable, __file__, "--one", preset, "--frames", str(args.frames),
               "--size", str(args.size), "--threads", str(args.threads),
               "--steps", str(args.steps)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            report["presets"][preset] = {"error": done.stderr.strip().splitlines()[-1:]}
            continue
        report["presets"][preset] = json.loads(done.stdout.strip().splitlines()[-1])
    fast = report["presets"].get("fast", {})
    if "extract_fps" in fast:
        report["fast_extract_target_fps"] = TARGET_FAST_FPS
        report["fast_extract_meets_target"] = fast["extract_fps"] >= TARGET_FAST_FPS
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
