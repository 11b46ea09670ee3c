"""Shared fixtures: tiny real files made on the fly, and the real data in ../shared/data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# One compute thread per test process (and its subprocesses): tests are tiny, and on a shared
# 2-core machine several threads per process only fight each other.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
OPENFIELD = SHARED_DATA / "openfield" / "m3v1mp4.mp4"
DEG_PROJECT = SHARED_DATA / "deg_project" / "synth_deepethogram"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not found: {path}")
    return path


@pytest.fixture
def openfield_video(tmp_path) -> Path:
    """The real openfield mouse video, copied into a temporary folder."""
    dest = tmp_path / "openfield" / OPENFIELD.name
    dest.parent.mkdir()
    shutil.copy2(_require(OPENFIELD), dest)
    return dest


@pytest.fixture
def deg_project(tmp_path) -> Path:
    """A copy of the project folder written by DeepEthogram itself."""
    dest = tmp_path / "synth_deepethogram"
    shutil.copytree(_require(DEG_PROJECT), dest)
    return dest


def make_video(path: Path, n_frames: int = 24, size: tuple[int, int] = (48, 64), seed: int = 0):
    """Write a tiny mp4 of moving noise blocks; returns its path."""
    from ethogram.io.video import write_video

    rng = np.random.default_rng(seed)
    h, w = size
    base = rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8)
    frames = []
    for t in range(n_frames):
        block = np.roll(base, t, axis=1).repeat(8, 0).repeat(8, 1)
        frames.append(block)
    write_video(path, np.stack(frames), fps=30)
    return path


def dead_pid() -> int:
    """The process id of a process that has ended (for temporaries left by a killed process)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to check that nothing changed."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600):
    """Run ``python -m ethogram ARGS`` as a user would; returns the CompletedProcess."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return subprocess.run(
        [sys.executable, "-m", "ethogram", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
    )
