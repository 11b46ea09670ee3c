"""The main window driven as a user would: keys, drags, undo, autosave, review, a bad video."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from ethogram.gui.main_window import AUTOSAVE_MS, MainWindow  # noqa: E402
from ethogram.io.labels import read_labels  # noqa: E402
from ethogram.project import Project  # noqa: E402
from tests.conftest import OPENFIELD, make_video  # noqa: E402

BEHAVIORS = ["background", "groom", "rear"]
N_FRAMES = 60


@pytest.fixture
def project(tmp_path):
    """A project with two small videos and no labels."""
    project = Project.create(tmp_path / "proj", BEHAVIORS[1:])
    for i in range(2):
        project.add_video(make_video(tmp_path / f"clip{i}.mp4", n_frames=N_FRAMES, seed=i))
    return project


@pytest.fixture
def window(qtbot, project, tmp_path):
    win = MainWindow(keymap_path=tmp_path / "shortcuts.yaml")
    qtbot.addWidget(win)
    win.show()
    assert win.open_project(project.root)
    return win


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier, times=1):
    for _ in range(times):
        qtbot.keyClick(window, key, modifier)


def saved_labels(project, stem="clip0"):
    return read_labels(project.video(stem).labels_path, behaviors=project.behaviors).values


def test_opening_a_project_lists_videos_and_shows_the_first(window):
    assert window.video_list.stems == ["clip0", "clip1"]
    assert window.stem == "clip0"
    assert window.player.n_frames == N_FRAMES
    assert window.video_view.message() is None
    assert "frame 0 / 59" in window.transport.position.text()
    assert window.document is not None and (window.document.values == -1).all()


def test_arrow_keys_step_and_page_down_changes_video(window, qtbot):
    press(qtbot, window, Qt.Key.Key_Right, times=3)
    assert window.player.index == 3
    press(qtbot, window, Qt.Key.Key_Left)
    assert window.player.index == 2
    window.transport.jump.setValue(10)
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert window.player.index == 12
    press(qtbot, window, Qt.Key.Key_End)
    assert window.player.index == N_FRAMES - 1
    press(qtbot, window, Qt.Key.Key_PageDown)
    assert window.stem == "clip1"
    press(qtbot, window, Qt.Key.Key_PageUp)
    assert window.stem == "clip0"


def test_playback_advances_and_space_pauses(window, qtbot):
    window.player.set_speed(4.0)
    press(qtbot, window, Qt.Key.Key_Space)
    assert window.player.is_playing
    qtbot.waitUntil(lambda: window.player.index >= 10, timeout=5000)
    press(qtbot, window, Qt.Key.Key_Space)
    assert not window.player.is_playing
    stopped = window.player.index
    qtbot.wait(100)
    assert window.player.index == stopped


def test_go_to_accepts_frames_and_times_and_reports_bad_input(window, qtbot):
    window.go_to("40")
    assert window.player.index == 40
    window.go_to("0:01")  # 30 fps
    assert window.player.index == 30
    window.go_to("1.5s")
    assert window.player.index == 45
    window.go_to("999")
    assert window.player.index == 45
    assert "outside the video" in window.statusBar().currentMessage()


def test_number_keys_label_forward_erase_back_and_undo_redo(window, qtbot, project):
    press(qtbot, window, Qt.Key.Key_Right, times=5)
    press(qtbot, window, Qt.Key.Key_1)  # groom on at frame 5
    press(qtbot, window, Qt.Key.Key_Right, times=10)  # frames 5..15
    press(qtbot, window, Qt.Key.Key_Left, times=3)  # erase 13..15
    press(qtbot, window, Qt.Key.Key_1)  # off
    values = window.document.values
    assert (values[5:13, 1] == 1).all()
    assert (values[13:16, 1] == 0).all() and (values[13:16, 0] == 1).all()
    assert (values[:5] == -1).all() and (values[16:] == -1).all()
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (window.document.values == -1).all()
    press(
        qtbot,
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    np.testing.assert_array_equal(window.document.values, values)


def test_dragging_on_the_ethogram_paints_and_moves_are_undoable(window):
    window.paint(2, 20, 30, 1)  # what the ethogram's drag emits
    assert (window.document.values[20:30, 2] == 1).all()
    window.paint(2, 25, 30, 0)
    assert (window.document.values[25:30, 0] == 1).all()
    window.undo()
    window.undo()
    assert (window.document.values == -1).all()


def test_labels_autosave_and_survive_the_window_being_destroyed(qtbot, project):
    import shiboken6

    window = MainWindow()  # not registered with qtbot: it is destroyed, never closed
    window.show()
    window.open_project(project.root)
    window.paint(1, 0, 10, 1)
    path = project.video("clip0").labels_path
    assert not path.exists()
    qtbot.waitUntil(path.exists, timeout=AUTOSAVE_MS + 1500)
    np.testing.assert_array_equal(saved_labels(project), window.document.values)
    # A second change is saved too, without a new backup each time.
    window.paint(2, 40, 50, 1)
    qtbot.waitUntil(lambda: (saved_labels(project)[40:50, 2] == 1).all(), timeout=3500)
    expected = window.document.values.copy()
    shiboken6.delete(window)  # no closeEvent, no save: what is on disk must already be there
    reopened = MainWindow()
    qtbot.addWidget(reopened)
    reopened.open_project(project.root)
    np.testing.assert_array_equal(reopened.document.values, expected)


def test_first_save_backs_up_an_existing_label_file_once(window, qtbot, project):
    window.paint(1, 0, 5, 1)
    window.save_labels()
    window.paint(1, 10, 15, 1)
    window.save_labels()
    backups = project.video("clip0").labels_path.parent / "backups"
    assert not backups.exists()  # no file existed before the first save
    window.open_video("clip1")
    window.open_video("clip0")
    window.paint(2, 20, 25, 1)
    window.save_labels()  # the same session: the file holds this window's own work
    assert not backups.exists()
    later = MainWindow()  # a new session: the file is backed up before its first save
    qtbot.addWidget(later)
    later.open_project(project.root)
    later.paint(2, 30, 35, 1)
    later.save_labels()
    later.paint(2, 40, 45, 1)
    later.save_labels()
    (backup,) = backups.iterdir()
    old = read_labels(backup, behaviors=project.behaviors).values
    assert (old[20:25, 2] == 1).all() and (old[30:35] == -1).all()


def test_switching_video_saves_pending_labels_at_once(window, project):
    window.paint(1, 0, 5, 1)
    window.open_video("clip1")
    assert (saved_labels(project)[0:5, 1] == 1).all()


def test_mark_rest_as_background_applies_to_the_selection_only(window, qtbot):
    window.paint(1, 10, 20, 1)
    window.jump_to(5)
    press(qtbot, window, Qt.Key.Key_I)
    window.jump_to(24)
    press(qtbot, window, Qt.Key.Key_O)
    assert window.selection == (5, 25)
    press(qtbot, window, Qt.Key.Key_B)
    values = window.document.values
    assert (values[5:10] == [1, 0, 0]).all() and (values[20:25] == [1, 0, 0]).all()
    assert (values[10:20] == [0, 1, 0]).all()
    assert (values[:5] == -1).all() and (values[25:] == -1).all()


def test_exclusive_mode_keeps_one_behavior_per_frame(window, qtbot):
    window.paint(1, 0, 10, 1)
    press(qtbot, window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.document.exclusive
    window.paint(2, 5, 10, 1)
    assert (window.document.values[5:10] == [0, 0, 1]).all()


def test_behaviors_added_and_renamed_from_the_window_reach_every_label_file(window, project):
    window.paint(1, 0, 5, 1)
    assert window.add_behavior("scratch")
    assert window.document.behaviors == BEHAVIORS + ["scratch"]
    assert window.rename_behavior("groom", "grooming")
    reopened = Project.open(project.root)
    assert reopened.behaviors == ["background", "grooming", "rear", "scratch"]
    values = reopened.read_labels("clip0").values
    assert (values[0:5, 1] == 1).all() and (values[0:5, 3] == -1).all()
    assert not window.add_behavior("rear")  # already there: an error, no change
    assert "already exists" in window.last_error


def test_train_and_predict_say_why_they_are_disabled(window):
    assert not window.predict_action.isEnabled()
    assert "train a model first" in window.predict_action.toolTip()
    assert not window.train_action.isEnabled()
    assert "label" in window.train_action.toolTip()
    window.paint(1, 0, 5, 1)
    assert window.train_action.isEnabled()


def test_a_passing_message_replaces_the_reasons_in_the_status_bar_instead_of_overlapping(window):
    reasons = window._why
    window.statusBar().clearMessage()
    assert reasons.isVisible() and "Predict: " in reasons.text()
    window.open_video("clip1")  # says "clip1: 60 frames" for a few seconds
    assert window.statusBar().currentMessage() == f"clip1: {N_FRAMES} frames"
    assert not reasons.isVisible()
    window.statusBar().clearMessage()  # what the timeout does
    assert reasons.isVisible()


def test_a_message_given_before_the_window_shows_still_hides_the_reasons(qtbot, project):
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_project(project.root)  # says "clip0: 60 frames" while the window is not shown
    win.show()
    qtbot.waitUntil(lambda: not win._why.isVisible(), timeout=2000)
    assert win.statusBar().currentMessage() == f"clip0: {N_FRAMES} frames"


def test_a_video_that_cannot_be_decoded_shows_a_message_not_a_crash(qtbot, project, tmp_path):
    bad = project.video("clip1").video_path
    bad.write_bytes(b"\x00" * 1000)  # the copy in the project is now garbage
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_project(project.root)
    assert win.open_video("clip1") is False
    assert "clip1 cannot be shown" in win.video_view.message()
    assert win.document is None
    win.step(1)  # keys do nothing harmful
    win.paint(1, 0, 5, 1)
    assert win.open_video("clip0")
    assert win.video_view.message() is None


def test_a_project_that_is_not_one_is_reported(qtbot, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    assert not win.open_project(tmp_path)
    assert "not a project folder" in win.last_error


def test_help_lists_every_shortcut_and_behavior_keys(window):
    dialog = window.show_help()
    text = dialog.findChildren(type(window.transport.position))[0].text()
    for expected in ("Ctrl+Z", "Space", "groom", "rear", "Next uncertain", "Drag the edge"):
        assert expected in text
    dialog.close()


def test_remapped_shortcuts_work_and_are_saved(window, qtbot, tmp_path):
    keymap = dict(window.keymap)
    keymap["play"] = ("P",)
    window.set_keymap(keymap)
    assert "play: P" in (tmp_path / "shortcuts.yaml").read_text()
    press(qtbot, window, Qt.Key.Key_P)
    assert window.player.is_playing
    window.player.pause()


@pytest.mark.skipif(not OPENFIELD.exists(), reason="shared openfield video not present")
def test_stepping_back_on_the_real_video_shows_the_same_frames(qtbot, tmp_path, openfield_video):
    project = Project.create(tmp_path / "real", ["locomotion"])
    project.add_video(openfield_video, link=True)
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_project(project.root)
    win.jump_to(100)
    forward = []
    for _ in range(5):
        win.step(1)
        forward.append(win.player.frame.copy())
    for i in range(4):
        win.step(-1)
        np.testing.assert_array_equal(win.player.frame, forward[3 - i])


def test_a_mouse_drag_on_the_ethogram_labels_the_range_in_the_window(window, qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    view = window.ethogram
    view.set_detail_span(N_FRAMES)
    qtbot.wait(10)
    y = view.row_rect(2).center().y()
    start = QPoint(round(view.frame_to_detail_x(10.5)), y)
    stop = QPoint(round(view.frame_to_detail_x(19.5)), y)
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view, QPoint((start.x() + stop.x()) // 2, y))
    QTest.mouseMove(view, stop)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stop)
    values = window.document.values
    assert (values[10:20] == [0, 0, 1]).all()
    assert (values[:10] == -1).all() and (values[20:] == -1).all()
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stop)
    assert window.player.index == 19  # a click goes there


def test_a_deepethogram_project_opens_with_its_labels_and_stored_predictions(qtbot, deg_project):
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.open_project(deg_project)
    assert win.video_list.stems == ["vid0", "vid1"]
    assert win.project.behaviors == ["background", "still", "fast", "groom"]
    labels = read_labels(deg_project / "DATA" / "vid0" / "vid0_labels.csv").values
    np.testing.assert_array_equal(win.document.values, labels)
    assert win.predictions is not None  # DeepEthogram's own outputs, without its models
    assert "tgmj" in win.predictions.source
    assert win.predicted.shape == labels.shape
    win.open_video("vid1")  # no outputs file: no predictions, no error
    assert win.predictions is None and win.last_error is None


def test_picking_a_video_in_the_list_shows_its_first_frame_then_its_labels(window, qtbot, project):
    window.paint(1, 0, 5, 1)
    window.video_list.selectRow(1)  # as a click does: opens without waiting
    assert window.stem == "clip1"
    assert window.player.frame is not None  # the first frame is there at once
    qtbot.waitUntil(lambda: window.document is not None, timeout=5000)
    assert window.player.n_frames == N_FRAMES
    assert (saved_labels(project, "clip0")[0:5, 1] == 1).all()  # the other video was saved
    window.video_list.selectRow(0)
    window.video_list.selectRow(1)  # a second pick before the first is ready: the last one wins
    qtbot.waitUntil(lambda: window.document is not None, timeout=5000)
    assert window.stem == "clip1" and window.player.is_ready


def test_training_with_a_bad_setting_is_refused_before_any_job_starts(window):
    window.paint(1, 0, 5, 1)
    assert not window.train(("train.epochs=many",))
    assert "train.epochs" in window.last_error
    assert not window.jobs.is_busy()


def test_a_save_after_another_command_changed_the_behaviors_is_refused_not_garbled(window, project):
    window.paint(1, 0, 5, 1)
    Project.open(project.root).add_behavior("scratch")  # e.g. `ethogram behaviors add` meanwhile
    assert not window.save_labels()
    assert "behaviors changed" in window.last_error
    assert window.document.dirty  # the work is still in the window
    assert not project.video("clip0").labels_path.exists()
    window.document.mark_saved()  # the user gives up these edits (else closing asks what to do)


def test_after_typing_a_jump_size_the_arrow_keys_step_the_video_again(window, qtbot):
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.mouseClick(window.transport.jump, Qt.MouseButton.LeftButton)
    window.transport.jump.lineEdit().selectAll()
    qtbot.keyClicks(window.transport.jump, "10")
    qtbot.keyClick(window.transport.jump, Qt.Key.Key_Return)
    assert window.transport.jump.value() == 10
    assert QApplication.focusWidget() is not window.transport.jump
    focus = QApplication.focusWidget() or window
    qtbot.keyClick(focus, Qt.Key.Key_Right)
    assert window.player.index == 1


def test_labels_changed_by_another_program_meanwhile_are_kept_in_a_backup(window, project):
    window.paint(1, 0, 5, 1)
    assert window.save_labels()
    outside = window.document.values.copy()
    outside[30:40] = [0, 0, 1]  # e.g. `ethogram import-labels` while the window is open
    project.write_labels("clip0", outside, backup=False)
    window.paint(1, 10, 15, 1)
    assert window.save_labels()
    assert "changed by another program" in window.last_error
    (backup,) = (project.video("clip0").labels_path.parent / "backups").iterdir()
    kept = read_labels(backup, behaviors=project.behaviors).values
    np.testing.assert_array_equal(kept, outside)
    np.testing.assert_array_equal(saved_labels(project), window.document.values)


def _drop(window, paths):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    action, buttons = Qt.DropAction.CopyAction, Qt.MouseButton.NoButton
    modifiers = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(window.rect().center(), action, mime, buttons, modifiers)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), action, mime, buttons, modifiers)
    QApplication.sendEvent(window, drop)


def test_dropping_videos_adds_them_and_names_what_is_not_a_video(window, project, tmp_path):
    new = make_video(tmp_path / "dropped.mp4", n_frames=N_FRAMES, seed=5)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    _drop(window, [new, notes])
    assert window.video_list.stems == ["clip0", "clip1", "dropped"]
    assert "dropped" in [v.stem for v in Project.open(project.root).videos]
    assert "notes.txt" in window.last_error and "dropped" not in window.last_error


def test_dropping_a_project_folder_opens_it(window, tmp_path):
    other = Project.create(tmp_path / "other", ["sniff"])
    other.add_video(make_video(tmp_path / "o.mp4", n_frames=N_FRAMES, seed=7))
    _drop(window, [other.root])
    assert window.project.root == other.root
    assert window.video_list.stems == ["o"] and window.stem == "o"


def test_labeled_bouts_are_counted_over_saved_files_and_follow_unsaved_edits(
    qtbot, project, tmp_path
):
    other = np.zeros((N_FRAMES, 3), np.int8)
    other[:, 0] = 1
    other[10:20], other[30:40] = [0, 1, 0], [0, 1, 0]  # two groom bouts in clip1, saved
    project.write_labels("clip1", other)
    win = MainWindow(keymap_path=tmp_path / "shortcuts.yaml")
    qtbot.addWidget(win)
    assert win.open_project(project.root)
    summary = win.bout_summary
    assert summary.totals["groom"] == {"bouts": 2, "frames": 20, "videos": 1}
    assert summary.totals["rear"]["bouts"] == 0
    assert "groom&nbsp;2" in summary.text() and "label more" in summary.text()
    win.paint(2, 0, 5, 1)  # a rear bout in the open video, not saved yet
    win.paint(1, 10, 15, 1)
    assert summary.totals["rear"] == {"bouts": 1, "frames": 5, "videos": 1}
    assert summary.totals["groom"]["bouts"] == 3
    win.undo()
    assert summary.totals["groom"]["bouts"] == 2
    assert win.add_behavior("scratch")  # a new behavior: counted from the files again
    assert summary.totals["scratch"]["bouts"] == 0 and summary.totals["rear"]["bouts"] == 1


def test_bout_counts_say_none_yet_without_labels(window):
    assert window.bout_summary.text() == "Labeled bouts: none yet"
