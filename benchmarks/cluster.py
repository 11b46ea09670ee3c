"""Sequential `ethogram predict` against `--executor local` (a submitit job array), in one run.

A throwaway `fast` project is trained for a few steps on sample videos, then the same new sample
videos are predicted from scratch (decode, flow, features, sequence model, CSVs) twice, into two
folders: one video after another in this process, then as a job array of submitit's local
executor with N jobs at once (model loading and process start-up included in both). Each video's
predictions are checked complete (the record in its outputs file matches its CSVs) and equal
between the two runs. Prints one JSON object.

    python benchmarks/cluster.py                          # 6 videos of 300 frames, 2 jobs at once
    python benchmarks/cluster.py --videos 12 --jobs 4

Target (issue 31): with 2 jobs at once on 6 videos, wall time no worse than sequential on a
2-core machine, and every video's predictions complete.
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
from predict import _quiet, make_videos, train_project  # benchmarks/predict.py


def complete(project, videos: list[Path], out: Path) -> list[bool]:
    """Per video: are its CSVs whole and written by the project's model (its record matches)?"""
    from ethogram.infer.predictor import Predictor, resolve_model_dir
    from ethogram.infer.targets import collect_targets

    predictor = Predictor(resolve_model_dir(project), device="cpu")
    targets = collect_targets(project, videos, out)
    return [predictor.is_done(t) for t in targets]


def same_predictions(a: Path, b: Path, videos: list[Path]) -> float:
    """Fraction of frames (all videos) whose 0/1 predictions are equal in folders a and b."""
    import numpy as np
    import pandas as pd

    equal = total = 0
    for video in videos:
        name = f"{video.stem}_predictions.csv"
        x = pd.read_csv(a / name, index_col=0).to_numpy()
        y = pd.read_csv(b / name, index_col=0).to_numpy()
        equal += int(np.all(x == y, axis=1).sum()) if x.shape == y.shape else 0
        total += len(x)
    return equal / total if total else 0.0


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=6, help="videos to predict")
    parser.add_argument("--frames", type=int, default=300, help="frames per predicted video")
    parser.add_argument("--size", type=int, default=128, help="sample video size in pixels")
    parser.add_argument("--jobs", type=int, default=2, help="jobs at once (local executor)")
    args = parser.parse_args(argv)

    import torch

    from ethogram.infer.cluster import predict_on_cluster
    from ethogram.infer.predict import predict

    # the jobs are new processes: they must import this checkout's package
    src = str(Path(__file__).resolve().parents[1] / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH", "")) if p
    )
    work = Path(tempfile.mkdtemp(prefix="ethogram_bench_cluster_"))
    try:
        pairs = make_videos(work / "sample", 3, 150, args.size)
        project = _quiet(train_project, work / "project", "fast", pairs)
        new = [v for v, _ in make_videos(work / "new", args.videos, args.frames, args.size)]
        frames = args.videos * args.frames
        load_before = os.getloadavg()
        seq_s, seq_results = timed(predict, project, new, out=work / "sequential", progress=False)
        load_between = os.getloadavg()
        job_s, (run_dir, job_results) = timed(
            predict_on_cluster,
            project,
            new,
            executor="local",
            out=work / "local_jobs",
            jobs_at_once=args.jobs,
            progress=False,
            poll_s=0.5,
        )
        load_after = os.getloadavg()
        attempts = json.loads((run_dir / "run.json").read_text())["attempts"]
        seq_ok = complete(project, new, work / "sequential")
        job_ok = complete(project, new, work / "local_jobs")
        report = {
            "benchmark": "predict: sequential vs --executor local jobs (features from scratch)",
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads_sequential": torch.get_num_threads(),
            "videos": {"count": args.videos, "frames": args.frames, "size": args.size},
            "jobs_at_once": args.jobs,
            "load_average_1_5_15": {
                "before": [round(x, 2) for x in load_before],
                "between": [round(x, 2) for x in load_between],
                "after": [round(x, 2) for x in load_after],
            },
            "sequential": {
                "seconds": round(seq_s, 2),
                "frames_per_s": round(frames / seq_s, 1),
                "statuses": [r.status for r in seq_results],
                "complete": sum(seq_ok),
            },
            "local_executor": {
                "seconds": round(job_s, 2),
                "frames_per_s": round(frames / job_s, 1),
                "statuses": [r.status for r in job_results],
                "complete": sum(job_ok),
                "attempts": max(a["attempt"] for a in attempts),
            },
            "speedup": round(seq_s / job_s, 3),
            "frames_equal_fraction": round(
                same_predictions(work / "sequential", work / "local_jobs", new), 5
            ),
        }
        report["target_met"] = bool(job_s <= seq_s and all(job_ok) and len(job_ok) == args.videos)
        print(json.dumps(report, indent=2))
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(0 if main().get("target_met") is not None else 1)
