"""A tiny project for the import/export tests: two 2-second videos at 30 fps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import make_video

DATA = Path(__file__).parent / "data" / "interop"
N_FRAMES = 60
FPS = 30.0
BEHAVIORS = ["background", "groom", "rear", "sniff"]


def make_project(root: Path, videos: tuple[str, ...] = ("mouse1", "mouse2")):
    """A project with behaviors groom, rear, sniff and the given videos (60 frames, 30 fps)."""
    from ethogram.project import Project

    project = Project.create(root / "project", BEHAVIORS[1:])
    for i, stem in enumerate(videos):
        video = make_video(root / "videos" / f"{stem}.mp4", n_frames=N_FRAMES, seed=i)
        project.add_video(video)
    return project


def frames_of(values: np.ndarray, behavior: str) -> list[int]:
    """The frames where ``behavior`` is present."""
    return np.flatnonzero(values[:, BEHAVIORS.index(behavior)] == 1).tolist()


def random_labels(seed: int, n_frames: int = N_FRAMES, unlabeled: bool = False) -> np.ndarray:
    """Random bouts of groom, rear and sniff with a consistent background column."""
    from ethogram.io.annotation import background_column

    rng = np.random.default_rng(seed)
    values = np.zeros((n_frames, len(BEHAVIORS)), dtype=np.int8)
    for k in range(1, len(BEHAVIORS)):
        for _ in range(3):
            start = int(rng.integers(0, n_frames - 1))
            values[start : start + int(rng.integers(1, 12)), k] = 1
    if unlabeled:
        values[-7:, :] = -1
    values[:, 0] = background_column(values)
    return values
