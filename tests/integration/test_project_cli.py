import numpy as np

from ethogram import __version__
from ethogram.io.labels import read_labels, write_labels
from ethogram.project import Project
from tests.conftest import make_video, run_cli, snapshot

BEHAVIORS = ["background", "groom", "rear"]


def _labels(n):
    values = np.zeros((n, 3), np.int8)
    values[:, 0] = 1
    values[5:8] = [0, 1, 0]
    return values


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("new", "add", "info", "behaviors", "sample"):
        assert command in result.stdout


def test_new_add_info_flow(tmp_path):
    proj = tmp_path / "proj"
    result = run_cli("new", proj, "--behaviors", "groom,rear")
    assert result.returncode == 0, result.stderr
    videos = tmp_path / "videos"
    videos.mkdir()
    make_video(videos / "a.mp4", n_frames=20)
    make_video(videos / "b.mp4", n_frames=16, seed=1)
    (tmp_path / "labels").mkdir()
    write_labels(tmp_path / "labels" / "a_labels.csv", _labels(20), BEHAVIORS)  # sibling labels/
    result = run_cli("add", proj, videos / "a.mp4", videos / "b.mp4")
    assert result.returncode == 0, result.stderr
    assert "Added a with labels" in result.stdout and "Added b (no labels)" in result.stdout
    result = run_cli("info", proj)
    assert result.returncode == 0, result.stderr
    row_a = next(line for line in result.stdout.splitlines() if "│ a " in line)
    cells = [c.strip() for c in row_a.split("│") if c.strip()]
    assert cells == ["a", "20", "30.00", "100%", "17", "3", "0"]
    row_bouts = next(line for line in result.stdout.splitlines() if "│ bouts " in line)
    assert [c.strip() for c in row_bouts.split("│") if c.strip()] == ["bouts", "1", "0"]
    words = " ".join(result.stdout.split())  # the note may wrap
    assert "few labeled bouts of groom (1 bouts, 3 frames), rear (0 bouts, 0 frames)" in words


def test_add_with_explicit_labels_in_order(tmp_path):
    Project.create(tmp_path / "p", ["groom", "rear"])
    make_video(tmp_path / "a.mp4", n_frames=20)
    make_video(tmp_path / "b.mp4", n_frames=16)
    write_labels(tmp_path / "la.csv", _labels(20), BEHAVIORS)
    write_labels(tmp_path / "lb.csv", _labels(16), BEHAVIORS)
    result = run_cli(
        "add",
        tmp_path / "p",
        tmp_path / "a.mp4",
        tmp_path / "b.mp4",
        "--labels",
        tmp_path / "la.csv",
        "--labels",
        tmp_path / "lb.csv",
    )
    assert result.returncode == 0, result.stderr
    assert read_labels(tmp_path / "p" / "DATA" / "b" / "b_labels.csv").n_frames == 16


def test_failed_add_prints_one_line_exits_2_and_changes_nothing(tmp_path):
    project = Project.create(tmp_path / "p", ["groom", "rear"])
    make_video(tmp_path / "a.mp4", n_frames=20)
    make_video(tmp_path / "b.mp4", n_frames=16)
    write_labels(tmp_path / "la.csv", _labels(20), BEHAVIORS)
    write_labels(tmp_path / "lb.csv", _labels(20), BEHAVIORS)  # wrong length for b
    before = snapshot(project.root)
    result = run_cli(
        "add",
        project.root,
        tmp_path / "a.mp4",
        tmp_path / "b.mp4",
        "--labels",
        tmp_path / "la.csv",
        "--labels",
        tmp_path / "lb.csv",
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "lb.csv" in result.stderr and "20 rows but the video has 16 frames" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project.root) == before  # a.mp4 was not added either


def test_labels_count_must_match_videos(tmp_path):
    Project.create(tmp_path / "p", ["groom"])
    make_video(tmp_path / "a.mp4")
    result = run_cli(
        "add", tmp_path / "p", tmp_path / "a.mp4", "--labels", "x.csv", "--labels", "y.csv"
    )
    assert result.returncode == 2 and "once per video" in result.stderr


def test_debug_shows_traceback(tmp_path):
    result = run_cli("--debug", "info", tmp_path / "missing")
    assert result.returncode != 0 and "Traceback" in result.stderr
    result = run_cli("info", tmp_path / "missing")
    assert result.returncode == 2 and "project folder not found" in result.stderr


def test_behaviors_commands(tmp_path):
    project = Project.create(tmp_path / "p", ["groom", "rear"])
    make_video(tmp_path / "a.mp4", n_frames=20)
    write_labels(tmp_path / "la.csv", _labels(20), BEHAVIORS)
    project.add_video(tmp_path / "a.mp4", labels=tmp_path / "la.csv")
    assert run_cli("behaviors", "add", project.root, "scratch", "--absent").returncode == 0
    assert run_cli("behaviors", "rename", project.root, "groom", "grooming").returncode == 0
    assert run_cli("behaviors", "remove", project.root, "rear").returncode == 0
    listed = run_cli("behaviors", "list", project.root).stdout.split()
    assert listed == ["background", "grooming", "scratch"]
    table = read_labels(project.video("a").labels_path)
    assert table.behaviors == listed
    assert table.values[:, 1].sum() == 3 and (table.values[:, 2] == 0).all()
    result = run_cli("behaviors", "rename", project.root, "nope", "x")
    assert result.returncode == 2 and "no behavior 'nope'" in result.stderr


def test_info_on_deepethogram_project(deg_project):
    result = run_cli("info", deg_project)
    assert result.returncode == 0, result.stderr
    assert "vid0" in result.stdout and "600" in result.stdout


def test_usage_errors_are_reported_without_traceback():
    result = run_cli("nosuchcommand")
    assert result.returncode == 2
    assert "No such command" in result.stderr and "Traceback" not in result.stderr
