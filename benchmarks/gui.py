"""GUI responsiveness: frame stepping, playback at 1x, and time to the first frame vs video length.

Drives the real main window offscreen and prints JSON:

- ``step``: time from a step key (forward or back) to the redrawn window (video frame, ethogram,
  position), per step, on the openfield video (640x480) if present, else a generated one.
- ``playback_1x``: frames shown per second of wall time while playing at 1x, against the video's
  fps (1.0 = real time), and the frames skipped to keep up.
- ``first_frame``: time from picking a video to its first frame drawn, and to the video being
  ready to step (frames numbered, labels shown), for a 1-minute and a 20-minute generated video
  (320x240, made once in --workdir).

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/gui.py [--workdir /tmp/ethogram_gui_bench]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_name  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OPENFIELD = REPO.parent / "shared" / "data" / "openfield" / "m3v1mp4.mp4"


def _video(path: Path, minutes: float, size=(240, 320), fps: float = 30.0) -> Path:
    """A video of a dark blob moving over a textured floor (compresses like real footage)."""
    from ethogram.io.video import VideoWriter

    if path.exists():
        return path
    h, w = size
    rng = np.random.default_rng(0)
    floor = (rng.integers(150, 200, (h // 8, w // 8, 1), dtype=np.uint8)).repeat(8, 0).repeat(8, 1)
    floor = np.repeat(floor, 3, axis=2)
    yy, xx = np.mgrid[0:h, 0:w]
    n = int(minutes * 60 * fps)
    with VideoWriter(path, fps) as writer:
        for t in range(n):
            cy = h / 2 + h / 3 * np.sin(t / 50)
            cx = w / 2 + w / 3 * np.cos(t / 70)
            frame = floor.copy()
            frame[(yy - cy) ** 2 + (xx - cx) ** 2 < 100] = 30
            writer.write(frame)
    return path


def _project(root: Path, videos: list[Path]):
    from ethogram.project import Project

    if (root / "project_config.yaml").exists():
        return Project.open(root)
    project = Project.create(root, ["locomotion", "grooming", "rearing"])
    for video in videos:
        project.add_video(video, link=True)
    return project


def _settle(app) -> None:
    app.processEvents()


def bench_steps(window, app, n: int = 200) -> dict:
    window.jump_to(300)
    _settle(app)
    out = {}
    for name, direction in (("forward", 1), ("back", -1)):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            window.step(direction)
            window.repaint()  # draw now, as the screen would
            _settle(app)
            times.append(time.perf_counter() - start)
        times_ms = sorted(1000 * t for t in times)
        out[name] = {
            "median_ms": round(statistics.median(times_ms), 2),
            "p95_ms": round(times_ms[int(0.95 * len(times_ms)) - 1], 2),
            "max_ms": round(times_ms[-1], 2),
        }
    return out


def bench_playback(window, app, seconds: float = 5.0) -> dict:
    window.jump_to(0)
    window.player.set_speed(1.0)
    shown = []
    window.player.frame_changed.connect(lambda i: shown.append(i))
    window.player.play()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        app.processEvents()
        time.sleep(0.001)
    window.player.pause()
    elapsed = time.perf_counter() - start
    advanced = shown[-1] - shown[0] if len(shown) > 1 else 0
    return {
        "seconds": round(elapsed, 2),
        "frames_drawn": len(shown),
        "video_frames_advanced": advanced,
        "realtime_ratio": round(advanced / (elapsed * window.player.fps), 3),
        "drawn_per_s": round(len(shown) / elapsed, 1),
        "video_fps": window.player.fps,
    }


def bench_first_frame(window, app, stems: list[str], repeats: int = 3) -> dict:
    """Time from picking a video (as a click in the list does) to its first frame drawn, and to
    the video being ready to step through with its labels."""
    out = {}
    for stem in stems:
        first, ready = [], []
        for _ in range(repeats):
            window.open_video(stems[0] if stem != stems[0] else stems[-1])  # open another first
            _settle(app)
            start = time.perf_counter()
            window.open_video(stem, wait=False)
            window.repaint()
            _settle(app)
            first.append(time.perf_counter() - start)
            while window.document is None:
                app.processEvents()
                time.sleep(0.001)
            ready.append(time.perf_counter() - start)
        out[stem] = {
            "frames": window.player.n_frames,
            "first_frame_median_s": round(statistics.median(first), 3),
            "ready_median_s": round(statistics.median(ready), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ethogram_gui_bench"))
    parser.add_argument(
        "--video", type=Path, default=OPENFIELD, help="Video to step through (default: openfield)"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from PySide6.QtWidgets import QApplication

    from ethogram.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    step_video = args.video if args.video.exists() else _video(args.workdir / "step.mp4", 1)
    videos = {
        "step": step_video,
        "minute_1": _video(args.workdir / "minute_1.mp4", 1),
        "minute_20": _video(args.workdir / "minute_20.mp4", 20),
    }
    project = _project(args.workdir / "project", list(videos.values()))
    stems = {name: path.stem for name, path in videos.items()}
    window = MainWindow(keymap_path=args.workdir / "shortcuts.yaml")
    window.resize(1400, 900)
    window.show()
    window.open_project(project.root)
    window.open_video(stems["step"])
    _settle(app)
    result = {
        "benchmark": "gui",
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "step_video": {"path": str(step_video), "frames": window.player.n_frames},
        "step": bench_steps(window, app),
        "playback_1x": bench_playback(window, app),
        "first_frame": bench_first_frame(window, app, [stems["minute_1"], stems["minute_20"]]),
    }
    window.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
