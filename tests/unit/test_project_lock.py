"""The project lock: changes re-read the project inside it; a busy project names its holder."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ethogram.errors import LabelError, ProjectError
from ethogram.io.atomic import _host_tag
from ethogram.io.labels import read_labels, write_labels
from ethogram.project import Project, ProjectBusyError
from ethogram.project_lock import HOLDER_NAME, LOCK_NAME, project_lock
from tests.conftest import dead_pid, make_video

BEHAVIORS = ["background", "groom", "rear"]


@pytest.fixture
def project(tmp_path):
    project = Project.create(tmp_path / "proj", ["groom", "rear"])
    make_video(tmp_path / "s1.mp4", n_frames=12)
    values = np.zeros((12, 3), np.int8)
    values[:, 0] = 1
    write_labels(tmp_path / "s1_labels.csv", values, BEHAVIORS)
    project.add_video(tmp_path / "s1.mp4", labels=tmp_path / "s1_labels.csv")
    return project


HOLDER_SCRIPT = textwrap.dedent(
    """
    import sys
    from ethogram.project import Project

    project = Project.open(sys.argv[1])
    with project.lock("rename_behavior"):
        print("holding", flush=True)
        sys.stdin.readline()
    """
)


@pytest.fixture
def held_by_other_process(project, tmp_path):
    """A subprocess holding the project's lock until the test ends."""
    script = tmp_path / "hold_project.py"
    script.write_text(HOLDER_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(project.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(timeout=30)


def test_busy_project_error_names_the_holding_command_and_changes_nothing(
    project, held_by_other_process, monkeypatch
):
    monkeypatch.setenv("ETHOGRAM_LOCK_TIMEOUT", "0.2")
    with pytest.raises(ProjectBusyError) as caught:
        project.add_behavior("scratch")
    message = str(caught.value)
    assert "\n" not in message
    assert "hold_project.py" in message and f"pid {held_by_other_process.pid}" in message
    assert "rename_behavior since" in message and "add_behavior waited 0.2 s" in message
    assert Project.open(project.root).behaviors == BEHAVIORS


def test_label_save_waits_only_briefly_for_a_busy_project(project, held_by_other_process):
    values = np.zeros((12, 3), np.int8)
    values[:, 0] = 1
    with pytest.raises(ProjectBusyError, match="write_labels waited 0.1 s"):
        project.write_labels("s1", values, timeout=0.1)


def test_lock_is_reentrant_across_project_objects_of_one_folder(project):
    other = Project.open(project.root)
    with project.lock("batch"):
        other.add_behavior("scratch")  # the same process: no deadlock
        project.reload()
        project.rename_behavior("scratch", "itch")
    assert Project.open(project.root).behaviors == BEHAVIORS + ["itch"]


def test_lock_records_its_holder_only_while_held(project):
    lock = project_lock(project.root)
    with project.lock("inspect"):
        holder = lock.holder()
        assert holder["action"] == "inspect" and holder["started"]
    assert not (project.root / HOLDER_NAME).exists()
    assert LOCK_NAME.startswith(".")  # never taken for a video or a DeepEthogram file


def test_rename_rereads_behaviors_added_by_another_process(project):
    stale = Project.open(project.root)
    Project.open(project.root).add_behavior("scratch")
    stale.rename_behavior("groom", "grooming")  # opened before 'scratch' existed
    fresh = Project.open(project.root)
    assert fresh.behaviors == ["background", "grooming", "rear", "scratch"]
    assert fresh.read_labels("s1").behaviors == fresh.behaviors


def test_add_checks_labels_against_the_behaviors_as_they_are_now(project, tmp_path):
    stale = Project.open(project.root)
    Project.open(project.root).add_behavior("scratch")
    make_video(tmp_path / "s2.mp4", n_frames=12)
    write_labels(tmp_path / "s2_labels.csv", np.ones((12, 3), np.int8) * -1, BEHAVIORS)
    with pytest.raises(
        LabelError, match=r"s2_labels.csv: missing behavior column\(s\) \['scratch'\]"
    ):
        stale.add_video(tmp_path / "s2.mp4", labels=tmp_path / "s2_labels.csv")
    assert [r.stem for r in Project.open(project.root).videos] == ["s1"]
    assert sorted(p.name for p in project.data_dir.iterdir()) == ["s1"]  # no staged copy left


def test_label_save_made_for_old_behaviors_is_refused(project):
    stale = Project.open(project.root)
    Project.open(project.root).add_behavior("scratch")
    values = np.zeros((12, 3), np.int8)
    values[:, 0] = 1
    with pytest.raises(ProjectError, match="behaviors changed to .* nothing was saved"):
        stale.write_labels("s1", values, behaviors=BEHAVIORS)
    assert Project.open(project.root).read_labels("s1").values.shape == (12, 4)


def test_folder_staged_by_a_killed_add_is_removed_by_the_next_add(project, tmp_path):
    left = project.data_dir / f".s9.{_host_tag()}-{dead_pid()}.abcd1234.tmp"
    left.mkdir()
    (left / "s9.mp4").write_bytes(b"half a copy")
    assert [r.stem for r in project.videos] == ["s1"]  # a hidden folder is no video
    project.add_video(make_video(tmp_path / "s2.mp4", n_frames=12))
    assert sorted(p.name for p in project.data_dir.iterdir()) == ["s1", "s2"]


class Killed(BaseException):
    """Stands for ``kill -9``: nothing after it runs."""


def test_behavior_rename_killed_midway_is_completed_by_the_next_command(project, tmp_path):
    import ethogram.project_journal as journal

    make_video(tmp_path / "s2.mp4", n_frames=12)
    write_labels(tmp_path / "s2_labels.csv", np.zeros((12, 3), np.int8) - 1, BEHAVIORS)
    project.add_video(tmp_path / "s2.mp4", labels=tmp_path / "s2_labels.csv")
    import ethogram.project as project_module

    backed_up = []

    def backup_then_die(path):  # called before each file is replaced: the second time, die
        if backed_up:
            raise Killed
        backed_up.append(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(project_module, "_backup_labels", backup_then_die)
        with pytest.raises(Killed):
            project.rename_behavior("groom", "grooming")
    assert len(backed_up) == 1 and (project.root / journal.JOURNAL_NAME).is_file()
    assert read_labels(backed_up[0]).behaviors == ["background", "grooming", "rear"]
    reopened = Project.open(project.root)  # the next command completes the change
    expected = ["background", "grooming", "rear"]
    assert reopened.behaviors == expected
    assert [reopened.read_labels(s).behaviors for s in ("s1", "s2")] == [expected, expected]
    leftovers = [p.name for p in project.root.rglob(".*") if p.name != LOCK_NAME]
    assert leftovers == []


def test_behavior_change_that_fails_before_its_journal_changes_nothing(project):
    import ethogram.project_journal as journal

    before = {p: p.read_bytes() for p in project.root.rglob("*.csv")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(journal, "atomic_write_text", lambda *a: (_ for _ in ()).throw(Killed()))
        with pytest.raises(Killed):
            project.add_behavior("scratch")
    reopened = Project.open(project.root)
    assert reopened.behaviors == BEHAVIORS
    assert {p: p.read_bytes() for p in project.root.rglob("*.csv")} == before
