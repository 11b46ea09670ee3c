"""Sequential `ethogram predict` against `--executor local` (a submitit job array), in one run.

A throwaway `fast` project is trained for a few steps on sample videos, then the same new sample
videos are predicted from scratch (decode, flow, features, sequence model, CSVs) into two
folders, each by the command a user types: `ethogram predict PROJECT VIDEOS` (one video after
another in one process) and the same with `--executor local --jobs-at-once N` (a job array of
submitit's local executor). Both are timed from the command's start to its end, so process
start-up and model loading count in both; the pair runs `--repeat` times, alternating, into
emptied folders, and the best time of each counts. Each video's predictions are checked complete
(the record in its outputs file matches its CSVs) and equal between the two. Prints one JSON
object.

    python benchmarks/cluster.py                          # 6 videos of 300 frames, 2 jobs at once
    python benchmarks/cluster.py --videos 12 --jobs 4 --repeat 3

Target (issue 31): with 2 jobs at once on 6 videos, wall time no worse than sequential on a
2-core machine, and every video's predictions complete.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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


def timed_command(args: list[str]) -> float:
    """Seconds the command ``python -m ethogram ARGS`` takes; its output is discarded."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ethogram", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def statuses(project) -> list[str]:
    """Per video of the newest run in ``project``'s job records: its final status."""
    from ethogram.infer.cluster_record import list_runs, video_states

    states = video_states(list_runs(project.root)[-1])
    return [states[i]["status"] for i in sorted(states)]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=6, help="videos to predict")
    parser.add_argument("--frames", type=int, default=300, help="frames per predicted video")
    parser.add_argument("--size", type=int, default=128, help="sample video size in pixels")
    parser.add_argument("--jobs", type=int, default=2, help="jobs at once (local executor)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each command; best counts")
    args = parser.parse_args(argv)

    import torch

    # the commands and their jobs are new processes: they must import this checkout's package
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
        base = ["predict", str(project.root), *map(str, new)]
        seq_times, job_times = [], []
        load_before = os.getloadavg()
        for _ in range(args.repeat):
            for folder in ("sequential", "local_jobs"):  # from scratch: no stored features
                shutil.rmtree(work / folder, ignore_errors=True)
            seq_times.append(timed_command([*base, "--out", str(work / "sequential")]))
            job_times.append(
                timed_command(
                    [
                        *base,
                        "--out",
                        str(work / "local_jobs"),
                        "--executor",
                        "local",
                        "--jobs-at-once",
                        str(args.jobs),
                    ]
                )
            )
        load_after = os.getloadavg()
        seq_s, job_s = min(seq_times), min(job_times)
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
                "after": [round(x, 2) for x in load_after],
            },
            "repeat": args.repeat,
            "sequential": {
                "seconds": round(seq_s, 2),
                "all_seconds": [round(t, 2) for t in seq_times],
                "frames_per_s": round(frames / seq_s, 1),
                "complete": sum(seq_ok),
            },
            "local_executor": {
                "seconds": round(job_s, 2),
                "all_seconds": [round(t, 2) for t in job_times],
                "frames_per_s": round(frames / job_s, 1),
                "statuses": statuses(project),
                "complete": sum(job_ok),
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
