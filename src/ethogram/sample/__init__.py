"""Synthetic videos of a top-down "animal" in an arena, with exact per-frame behavior labels.

The sample data of the demo and the end-to-end tests. A semi-Markov process picks one behavior per
frame (bouts of 0.5-4 s); a kinematic simulator turns it into a pose (position, heading, body
bend, head and forepaw positions) and a renderer draws the pose over a textured arena with
vignetting, lighting flicker, sensor noise and occasional distractor motion.

The behaviors are built so that motion, not a single frame, tells them apart: a grooming frame
has the posture of a sitting animal, turning and walking both move many pixels, rearing is still.
A rule thresholding the amount of frame-to-frame change does not solve the task.

This package's namespace is the public API; :mod:`ethogram.sample.simulation` holds the behavior
and pose simulation, :mod:`ethogram.sample.render` the drawing of arena and animal.

Examples
--------
>>> frames, labels = render_sample(n_frames=90, seed=0, size=64)
>>> frames.shape, labels.shape
((90, 64, 64, 3), (90, 5))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ethogram.errors import EthogramError
from ethogram.sample.render import _iter_frames, _make_scene
from ethogram.sample.simulation import (
    BACKGROUND,
    EXPLORING,
    FACE,
    FLANK,
    GROOMING,
    LOCOMOTION,
    REARING,
    SAMPLE_BEHAVIORS,
    SITTING,
    STILL,
    TURNING,
    Trajectory,
    _arena_bounds,
    _check_args,
    _rngs,
    _simulate,
    simulate,
)

__all__ = [
    "BACKGROUND",
    "EXPLORING",
    "FACE",
    "FLANK",
    "GROOMING",
    "LOCOMOTION",
    "REARING",
    "SAMPLE_BEHAVIORS",
    "SITTING",
    "STILL",
    "TURNING",
    "SampleVideo",
    "Trajectory",
    "make_sample",
    "render_sample",
    "sample_paths",
    "simulate",
]


@dataclass
class SampleVideo:
    """One generated video and its label file."""

    video_path: Path
    labels_path: Path
    stem: str


def render_sample(
    n_frames: int, seed: int = 0, size: int = 128, fps: float = 30, index: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Render one sample video in memory.

    Parameters
    ----------
    n_frames
        Number of frames.
    seed
        Random seed; the same seed (and index) gives identical frames and labels.
    size
        Frame height and width in pixels (even, >= 32).
    fps
        Frame rate; behaviors are simulated in seconds, so it sets how many frames a bout spans.
    index
        Which video of the sample (``make_sample`` writes video ``i`` with ``index=i``).

    Returns
    -------
    frames : numpy.ndarray
        uint8 (T, H, W, 3), RGB.
    labels : numpy.ndarray
        int8 (T, K), one-hot over :data:`SAMPLE_BEHAVIORS`.
    """
    traj, frames = _generate(n_frames, seed, size, fps, index)
    return np.stack(list(frames)), traj.labels()


def _generate(n_frames, seed, size, fps, index) -> tuple[Trajectory, Iterator[np.ndarray]]:
    _check_args(n_frames, size, fps)
    sim_rng, scene_rng = _rngs(seed, index)
    arena = _arena_bounds(int(size), sim_rng)
    traj = _simulate(int(n_frames), int(size), float(fps), sim_rng, arena)
    scene = _make_scene(traj, int(size), scene_rng)
    return traj, _iter_frames(traj, scene, scene_rng)


def sample_paths(outdir: str | Path, n_videos: int) -> list[SampleVideo]:
    """Paths :func:`make_sample` writes: ``videos/<stem>.mp4`` and ``labels/<stem>_labels.csv``."""
    outdir = Path(outdir)
    out = []
    for i in range(int(n_videos)):
        stem = f"sample_{i:03d}"
        out.append(SampleVideo(outdir / "videos" / f"{stem}.mp4",
                               outdir / "labels" / f"{stem}_labels.csv", stem))  # fmt: skip
    return out


def make_sample(
    outdir: str | Path,
    n_videos: int = 4,
    n_frames: int = 1800,
    seed: int = 0,
    size: int = 128,
    fps: float = 30,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[SampleVideo]:
    """Write synthetic sample videos with their label CSVs.

    Writes ``<outdir>/videos/sample_000.mp4``, ... and ``<outdir>/labels/sample_000_labels.csv``,
    ..., so that ``ethogram add PROJECT <outdir>/videos/*.mp4`` finds the labels.

    Parameters
    ----------
    outdir
        Output folder (created if missing).
    n_videos, n_frames
        How many videos, and frames per video.
    seed
        Random seed; the same arguments write the same frames and labels.
    size, fps
        Frame height and width in pixels (even, >= 32), and frame rate.
    overwrite
        Replace sample files that already exist; otherwise an existing one is an error and
        nothing is written.
    progress
        Called as ``progress(frames_done, frames_total)`` while rendering.

    Returns
    -------
    list of SampleVideo
        The written files, in order.

    Raises
    ------
    EthogramError
        Bad arguments, or a sample file already exists and ``overwrite`` is False.
    """
    from ethogram.io.labels import write_labels
    from ethogram.io.video import VideoWriter

    if int(n_videos) < 1:
        raise EthogramError(f"sample: expected at least 1 video, got n_videos={n_videos}")
    _check_args(n_frames, size, fps)
    videos = sample_paths(outdir, n_videos)
    if not overwrite:
        for video in videos:
            for path in (video.video_path, video.labels_path):
                if path.exists():
                    raise EthogramError(
                        f"sample file {path} already exists; to replace it use --overwrite "
                        "(overwrite=True), or choose another output folder"
                    )
    total, done = int(n_videos) * int(n_frames), 0
    for i, video in enumerate(videos):
        traj, frames = _generate(n_frames, seed, size, fps, i)
        with VideoWriter(video.video_path, fps) as writer:
            for frame in frames:
                writer.write(frame)
                done += 1
                if progress is not None and (done % 50 == 0 or done == total):
                    progress(done, total)
        write_labels(video.labels_path, traj.labels(), SAMPLE_BEHAVIORS, backup=False)
    return videos
