"""Why training or prediction cannot start, read from real project folders."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from ethogram.errors import ConfigError
from ethogram.project import Project
from ethogram.readiness import interrupted_model_dir, why_cannot_predict, why_cannot_train
from tests.conftest import REPO, make_video


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "proj", ["groom", "rear"])


@pytest.fixture
def with_video(project, tmp_path):
    project.add_video(make_video(tmp_path / "s1.mp4", n_frames=12))
    return project


def _finished_model(project, stage):
    folder = project.new_model_dir(stage)
    (folder / "best.pt").write_bytes(b"weights")
    (folder / "checkpoint.pt").write_bytes(b"state")
    return folder


def test_a_project_without_videos_says_to_add_some(project):
    assert "has no videos; add some with `ethogram add" in why_cannot_train(project)
    assert "has no videos" in why_cannot_predict(project.root)


def test_videos_without_label_files_cannot_train(with_video):
    reason = why_cannot_train(with_video)
    assert reason.startswith(f"{with_video.root}: no labeled videos")
    assert why_cannot_train(with_video, stage="flow") is None  # MotionNet needs no labels


def test_labels_that_are_all_unlabeled_frames_cannot_train(with_video):
    values = np.full((12, 3), -1, np.int8)
    with_video.write_labels("s1", values)
    assert "no video has a fully labeled frame" in why_cannot_train(with_video)
    values[5] = [0, 1, 0]
    with_video.write_labels("s1", values)
    assert why_cannot_train(with_video) is None


def test_the_sequence_stage_alone_needs_a_finished_feature_extractor(with_video):
    values = np.zeros((12, 3), np.int8)
    values[:, 0] = 1
    with_video.write_labels("s1", values)
    assert "no trained feature extractor" in why_cannot_train(with_video, "sequence")
    _finished_model(with_video, "features")
    assert why_cannot_train(with_video, "sequence") is None


def test_an_unknown_stage_is_a_config_error(project):
    with pytest.raises(ConfigError, match="flow, features, sequence"):
        why_cannot_train(project, "everything")


def test_prediction_needs_a_finished_model(with_video):
    assert "no trained model" in why_cannot_predict(with_video)
    unfinished = with_video.new_model_dir("sequence")
    assert unfinished.is_dir() and "no trained model" in why_cannot_predict(with_video)
    _finished_model(with_video, "features")
    assert why_cannot_predict(with_video) is None


def test_the_folder_to_resume_is_the_one_checkpointed_since_the_start(project):
    old = _finished_model(project, "features")
    past = time.time() - 3600
    os.utime(old / "checkpoint.pt", (past, past))
    started = time.time()
    assert interrupted_model_dir(project, started) is None
    new = project.new_model_dir("sequence")
    (new / "checkpoint.pt").write_bytes(b"state")
    assert interrupted_model_dir(project, started) == new


def test_readiness_and_the_jobs_child_side_import_neither_torch_nor_qt():
    code = (
        "import sys, ethogram.readiness, ethogram.train.pipeline, ethogram.gui.worker, "
        "ethogram.gui.tasks; "
        "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
