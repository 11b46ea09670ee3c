"""Video decoding throughput of each VideoReader backend, side by side, as one JSON object.

Usage::

    python benchmarks/video_decode.py [VIDEO] [--random N] [--backward N] [--seed S]

VIDEO defaults to ../shared/data/openfield/m3v1mp4.mp4 relative to the repository root. For each
backend (pyav, opencv) it measures:

- ``sequential_fps``: the whole video decoded to RGB via ``iter_chunks(256)`` (feature extraction);
- ``random_fps``: N seeded random indexes read with ``reader[i]`` (each jump seeks to the keyframe
  before the target and decodes forward);
- ``backward_fps``: stepping back one frame at a time over N frames from the middle of the video,
  as the GUI does, with the default 128-frame cache;
- ``open_s``: time to open the reader (demux index + first frame).

Wall-clock rates depend on what else runs on the machine, so each figure also has a
``*_cpu_fps`` twin (frames per CPU-second of this process, decoder threads included) and the JSON
records the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from ethogram.io.video import BACKENDS, VideoReader

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "openfield" / "m3v1mp4.mp4"


def bench_backend(path: Path, backend: str, n_random: int, n_backward: int, seed: int) -> dict:
    """Measure one backend on ``path``; return its figures."""
    t0 = time.perf_counter()
    reader = VideoReader(path, backend=backend)
    open_s = time.perf_counter() - t0
    n = len(reader)

    t0, c0 = time.perf_counter(), time.process_time()
    n_seq = sum(len(chunk) for _, chunk in reader.iter_chunks(256))
    seq_s, seq_cpu = time.perf_counter() - t0, time.process_time() - c0

    indexes = np.random.default_rng(seed).integers(0, n, n_random)
    before = reader.decode_stats
    t0, c0 = time.perf_counter(), time.process_time()
    for i in indexes:
        reader[int(i)]
    random_s, random_cpu = time.perf_counter() - t0, time.process_time() - c0
    random_decoded = reader.decode_stats["decoded"] - before["decoded"]
    reader.close()

    reader = VideoReader(path, backend=backend)  # fresh cache
    top = min(n - 1, n // 2 + n_backward // 2)
    steps = range(top, max(top - n_backward, -1), -1)
    before = reader.decode_stats
    t0, c0 = time.perf_counter(), time.process_time()
    for i in steps:
        reader[i]
    backward_s, backward_cpu = time.perf_counter() - t0, time.process_time() - c0
    after = reader.decode_stats
    reader.close()

    return {
        "open_s": round(open_s, 4),
        "sequential_fps": round(n_seq / seq_s, 1),
        "sequential_cpu_fps": round(n_seq / seq_cpu, 1),
        "sequential_frames": n_seq,
        "random_fps": round(n_random / random_s, 2),
        "random_cpu_fps": round(n_random / random_cpu, 2),
        "random_decoded_per_read": round(random_decoded / n_random, 1),
        "backward_fps": round(len(steps) / backward_s, 1),
        "backward_cpu_fps": round(len(steps) / backward_cpu, 1),
        "backward_seeks": after["seeks"] - before["seeks"],
        "backward_cache_hits": after["cache_hits"] - before["cache_hits"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", default=str(DEFAULT_VIDEO))
    parser.add_argument("--random", type=int, default=200, help="random reads (default 200)")
    parser.add_argument("--backward", type=int, default=500, help="backward steps (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    path = Path(args.video)
    load_before = _load()
    with VideoReader(path) as reader:
        video = {
            "path": str(path),
            "n_frames": len(reader),
            "size": f"{reader.width}x{reader.height}",
            "fps": round(reader.fps, 3),
            "codec": reader.codec,
            "keyframes": len(reader.keyframes),
        }
    results = {
        "benchmark": "video_decode",
        "video": video,
        "machine": {"python": platform.python_version(), "cpu_count": _cpu_count()},
        "load_avg_1m": {"before": load_before, "after": None},
        "random_reads": args.random,
        "backward_steps": args.backward,
        "backends": {
            name: bench_backend(path, name, args.random, args.backward, args.seed)
            for name in BACKENDS
        },
    }
    results["load_avg_1m"]["after"] = _load()
    print(json.dumps(results, indent=2))


def _load() -> float | None:
    import os

    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
