import os

import numpy as np
import pytest
import yaml

from ethogram.errors import LabelError, ProjectError, VideoError
from ethogram.io.labels import read_labels, write_labels
from ethogram.project import Project
from tests.conftest import make_video, snapshot

BEHAVIORS = ["background", "groom", "rear"]


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "proj", ["groom", "rear"])


def _labels(n, seed=0):
    rng = np.random.default_rng(seed)
    values = np.zeros((n, 3), np.int8)
    values[np.arange(n), rng.integers(0, 3, n)] = 1
    return values


def test_create_writes_deepethogram_style_config(project):
    config = yaml.safe_load(project.config_path.read_text())
    assert config["project"]["class_names"] == BEHAVIORS
    assert (project.root / "DATA").is_dir() and (project.root / "models").is_dir()
    assert Project.open(project.root).behaviors == BEHAVIORS


def test_create_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "notes.txt").write_text("mine")
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(tmp_path / "p", ["groom"])
    assert (tmp_path / "p" / "notes.txt").read_text() == "mine"


def test_create_rejects_bad_behavior_names(tmp_path):
    with pytest.raises(ProjectError, match="'bad name' is not valid"):
        Project.create(tmp_path / "p", ["groom", "bad name"])
    with pytest.raises(ProjectError, match="duplicate"):
        Project.create(tmp_path / "q", ["groom", "groom"])
    assert not (tmp_path / "p").exists() and not (tmp_path / "q").exists()


def test_open_deepethogram_project_as_is(deg_project):
    project = Project.open(deg_project)
    assert project.behaviors == ["background", "still", "fast", "groom"]
    assert [r.stem for r in project.videos] == ["vid0", "vid1"]
    assert project.video("vid0").outputs_path.is_file()
    assert project.read_labels("vid1").values.shape == (600, 4)
    assert project.video("vid0").info().n_frames == 600
    # DeepEthogram's absolute project.path from another machine is not used
    assert project.root == deg_project


def test_open_missing_or_non_project_folder_is_explained(tmp_path):
    with pytest.raises(ProjectError, match="project folder not found"):
        Project.open(tmp_path / "nothing")
    with pytest.raises(ProjectError, match="not a project folder"):
        Project.open(tmp_path)


def test_open_config_without_background_first(tmp_path):
    (tmp_path / "project_config.yaml").write_text("project:\n  class_names: [groom, background]\n")
    with pytest.raises(ProjectError, match="first behavior must be 'background'"):
        Project.open(tmp_path)


def test_add_video_copies_and_validates_labels(project, tmp_path):
    video = make_video(tmp_path / "s1.mp4", n_frames=20)
    write_labels(tmp_path / "s1_labels.csv", _labels(20), BEHAVIORS)
    record = project.add_video(video, labels=tmp_path / "s1_labels.csv")
    assert record.video_path.read_bytes() == video.read_bytes()
    assert not record.video_path.is_symlink()
    np.testing.assert_array_equal(project.read_labels("s1").values, _labels(20))
    assert yaml.safe_load(record.record_path.read_text())["rgb"]["default"] == "s1.mp4"


def test_add_video_by_link(project, tmp_path):
    video = make_video(tmp_path / "s2.mp4")
    record = project.add_video(video, link=True)
    assert record.video_path.is_symlink()
    assert os.path.samefile(record.video_path, video)


def test_add_with_wrong_length_labels_changes_nothing(project, tmp_path):
    video = make_video(tmp_path / "s1.mp4", n_frames=20)
    write_labels(tmp_path / "bad.csv", _labels(25), BEHAVIORS)
    before = snapshot(project.root)
    with pytest.raises(LabelError, match="25 rows but the video has 20 frames"):
        project.add_video(video, labels=tmp_path / "bad.csv")
    assert snapshot(project.root) == before
    assert not (project.data_dir / "s1").exists()


def test_add_non_video_changes_nothing(project, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")
    before = snapshot(project.root)
    with pytest.raises(VideoError, match="notes.mp4"):
        project.add_video(fake)
    assert snapshot(project.root) == before


def test_add_same_name_twice_is_refused(project, tmp_path):
    video = make_video(tmp_path / "s1.mp4")
    project.add_video(video)
    with pytest.raises(ProjectError, match="'s1' is already in the project"):
        project.add_video(video)


def test_remove_video_moves_folder_aside(project, tmp_path):
    project.add_video(make_video(tmp_path / "s1.mp4"))
    dest = project.remove_video("s1")
    assert project.videos == [] and dest.is_dir() and (dest / "s1.mp4").is_file()
    with pytest.raises(ProjectError, match="no video named 's1'"):
        project.video("s1")


def _project_with_labels(project, tmp_path):
    video = make_video(tmp_path / "s1.mp4", n_frames=12)
    values = _labels(12)
    values[10:] = -1
    write_labels(tmp_path / "s1_labels.csv", values, BEHAVIORS)
    project.add_video(video, labels=tmp_path / "s1_labels.csv")
    return values


def test_add_behavior_marks_it_unlabeled_or_absent(project, tmp_path):
    values = _project_with_labels(project, tmp_path)
    project.add_behavior("scratch")
    table = project.read_labels("s1")
    assert table.behaviors == BEHAVIORS + ["scratch"]
    assert (table.values[:, 3] == -1).all()
    np.testing.assert_array_equal(table.values[:, :3], values)
    project.remove_behavior("scratch")
    project.add_behavior("scratch", absent=True)
    column = project.read_labels("s1").values[:, 3]
    np.testing.assert_array_equal(column, [0] * 10 + [-1, -1])


def test_rename_behavior_updates_labels_and_keeps_backup(project, tmp_path):
    values = _project_with_labels(project, tmp_path)
    project.rename_behavior("groom", "grooming")
    assert Project.open(project.root).behaviors == ["background", "grooming", "rear"]
    table = read_labels(project.video("s1").labels_path)
    assert table.behaviors == ["background", "grooming", "rear"]
    np.testing.assert_array_equal(table.values, values)
    backups = list((project.video("s1").folder / "backups").iterdir())
    assert len(backups) == 1 and "groom," in backups[0].read_text()


def test_remove_behavior_recomputes_background(project, tmp_path):
    values = _project_with_labels(project, tmp_path)
    project.remove_behavior("rear")
    table = project.read_labels("s1")
    assert table.behaviors == ["background", "groom"]
    labeled = values[:10]
    np.testing.assert_array_equal(table.values[:10, 0], (labeled[:, 1] == 0).astype(np.int8))
    assert (table.values[10:] == -1).all()


def test_background_cannot_be_renamed_or_removed(project):
    with pytest.raises(ProjectError, match="'background' cannot be renamed"):
        project.rename_behavior("background", "none")
    with pytest.raises(ProjectError, match="'background' cannot be removed"):
        project.remove_behavior("background")
    with pytest.raises(ProjectError, match="no behavior 'sniff'"):
        project.remove_behavior("sniff")


def test_failed_behavior_change_changes_nothing(project, tmp_path):
    _project_with_labels(project, tmp_path)
    # corrupt one label file: the rename must fail before writing anything
    labels_path = project.video("s1").labels_path
    labels_path.write_text(labels_path.read_text().replace("\n3,", "\n3,7,", 1))
    before = snapshot(project.root)
    with pytest.raises(LabelError):
        project.rename_behavior("groom", "grooming")
    assert snapshot(project.root) == before


def test_model_dirs_are_found_by_stage(project):
    first = project.new_model_dir("features", "fast")
    second = project.new_model_dir("features", "fast")
    project.new_model_dir("sequence")
    assert first != second
    assert project.model_dirs("features") == [first, second]
    assert project.latest_model("features") is None  # not finished: no best.pt
    (first / "best.pt").write_bytes(b"x")
    assert project.latest_model("features") == first
