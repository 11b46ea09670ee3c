"""Synthetic videos of a top-down "animal" in an arena, with exact per-frame behavior labels.

The sample data of the demo and the end-to-end tests. A semi-Markov process picks one behavior per
frame (bouts of 0.5-4 s); a kinematic simulator turns it into a pose (position, heading, body
bend, head and forepaw positions) and a renderer draws the pose over a textured arena with
vignetting, lighting flicker, sensor noise and occasional distractor motion.

The behaviors are built so that motion, not a single frame, tells them apart: a grooming frame
has the posture of a sitting animal, turning and walking both move many pixels, rearing is still.
A rule thresholding the amount of frame-to-frame change does not solve the task.

This package's namespace is the public API; :mod:`ethogram.sample.simulation` holds the behavior
and pose simulation, :mod:`ethogram.sample.render` the drawing of arena and animal,
:mod:`ethogram.sample.styles` the appearance styles (``style="white-rat"``, ...: animal, arena,
lighting, camera, image quality, frame rate) and :mod:`ethogram.sample.restyle` how they apply.

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
from ethogram.sample.restyle import rescale, restyle_arena, restyle_scene, style_rng
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
)
from ethogram.sample.styles import BENCHMARK_STYLES, STYLES, SampleStyle, get_style, style_names

__all__ = [
    "BACKGROUND",
    "BENCHMARK_STYLES",
    "EXPLORING",
    "FACE",
    "FLANK",
    "GROOMING",
    "LOCOMOTION",
    "REARING",
    "SAMPLE_BEHAVIORS",
    "SITTING",
    "STILL",
    "STYLES",
    "TURNING",
    "SampleStyle",
    "SampleVideo",
    "Trajectory",
    "get_style",
    "make_sample",
    "render_sample",
    "sample_paths",
    "simulate",
    "style_names",
]


@dataclass
class SampleVideo:
    """One generated video and its label file."""

    video_path: Path
    labels_path: Path
    stem: str


def render_sample(
    n_frames: int,
    seed: int = 0,
    size: int = 128,
    fps: float | None = None,
    index: int = 0,
    style: str | SampleStyle | None = None,
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
        Frame rate; behaviors are simulated in seconds, so it sets how many frames a bout spans
        (None: the style's, 30 for most).
    index
        Which video of the sample (``make_sample`` writes video ``i`` with ``index=i``).
    style
        Appearance (a name of :data:`STYLES`, see :func:`get_style`; None: ``default``). The
        behaviors and the exactness of the labels are the same in every style.

    Returns
    -------
    frames : numpy.ndarray
        uint8 (T, H, W, 3), RGB.
    labels : numpy.ndarray
        int8 (T, K), one-hot over :data:`SAMPLE_BEHAVIORS`.
    """
    traj, frames = _generate(n_frames, seed, size, fps, index, style)
    return np.stack(list(frames)), traj.labels()


def _frame_rate(fps: float | None, style: SampleStyle) -> float:
    """``fps`` if given, else the style's frame rate, else 30."""
    if fps is not None:
        return float(fps)
    return float(style.fps) if style.fps is not None else 30.0


def _trajectory(n_frames, seed, size, fps, index, style: SampleStyle) -> Trajectory:
    _check_args(n_frames, size, fps)
    sim_rng, _ = _rngs(seed, index)
    arena = restyle_arena(_arena_bounds(int(size), sim_rng), style, int(size))
    traj = _simulate(int(n_frames), int(size), float(fps), sim_rng, arena)
    return rescale(traj, style, int(size))


def _generate(n_frames, seed, size, fps, index, style) -> tuple[Trajectory, Iterator[np.ndarray]]:
    style = get_style(style, seed)
    fps = _frame_rate(fps, style)
    traj = _trajectory(n_frames, seed, size, fps, index, style)
    _, scene_rng = _rngs(seed, index)
    scene = _make_scene(traj, int(size), scene_rng)
    scene = restyle_scene(scene, style, style_rng(seed, index))
    return traj, _iter_frames(traj, scene, scene_rng)


def simulate(
    n_frames: int,
    seed: int = 0,
    size: int = 128,
    fps: float | None = None,
    index: int = 0,
    style: str | SampleStyle | None = None,
) -> Trajectory:
    """Simulate the behavior and pose of the animal of one sample video.

    Parameters
    ----------
    n_frames, seed, size, fps, index, style
        As in :func:`render_sample`.

    Returns
    -------
    Trajectory
        Per-frame behavior, sub-mode and pose; ``trajectory.labels()`` gives the label array.
    """
    style = get_style(style, seed)
    return _trajectory(n_frames, seed, size, _frame_rate(fps, style), index, style)


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
    fps: float | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    style: str | SampleStyle | None = None,
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
        Frame height and width in pixels (even, >= 32), and frame rate (None: the style's, 30
        for most).
    overwrite
        Replace sample files that already exist; otherwise an existing one is an error and
        nothing is written.
    progress
        Called as ``progress(frames_done, frames_total)`` while rendering.
    style
        Appearance of every video (see :func:`render_sample`); its ``crf`` sets the H.264
        quality of the files.

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
    style = get_style(style, seed)
    fps = _frame_rate(fps, style)
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
        traj, frames = _generate(n_frames, seed, size, fps, i, style)
        with VideoWriter(video.video_path, fps, crf=style.crf) as writer:
            for frame in frames:
                writer.write(frame)
                done += 1
                if progress is not None and (done % 50 == 0 or done == total):
                    progress(done, total)
        write_labels(video.labels_path, traj.labels(), SAMPLE_BEHAVIORS, backup=False)
    return videos
