"""The window's training and prediction tasks: what they say when a project is not ready."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ethogram.errors import ProjectError  # noqa: E402
from ethogram.gui import tasks  # noqa: E402
from ethogram.project import Project  # noqa: E402
from tests.conftest import make_video  # noqa: E402
from tests.gui.test_jobs import run_to_end  # noqa: E402


@pytest.fixture
def project(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom", "rear"])
    project.add_video(make_video(tmp_path / "s1.mp4", n_frames=12))
    return project


def test_predicting_without_a_trained_model_says_to_train_first(project):
    with pytest.raises(ProjectError, match="no trained model .*; train a model first"):
        tasks.predict(str(project.root))


def test_a_train_job_on_a_project_without_labels_fails_with_the_readiness_message(qtbot, project):
    _, seen = run_to_end(qtbot, "ethogram.gui.tasks:train", project_path=str(project.root))
    assert seen.outcome == [
        (
            "failed",
            f"{project.root}: no labeled videos; add label CSVs (`ethogram add PROJECT VIDEO "
            "--labels CSV`) or label frames in the GUI before training",
        )
    ]


def test_a_cancelled_training_names_the_folder_to_resume(project):
    started = 0.0
    assert "nothing to resume" in tasks.train.after_cancel(
        {"project_path": str(project.root)}, started
    )
    folder = project.new_model_dir("features", "resnet18")
    (folder / "checkpoint.pt").write_bytes(b"state")
    note = tasks.train.after_cancel({"project_path": str(project.root)}, started)
    assert f"saved in {folder}" in note and f"--resume {folder}" in note
