"""The job panel: progress, status and log of a running job, Cancel, one job at a time."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from ethogram.gui.job_panel import STEPS_PER_UNIT, JobPanel  # noqa: E402
from tests.gui.test_jobs import TARGETS, WAIT_MS  # noqa: E402


@pytest.fixture
def panel(qtbot):
    widget = JobPanel()
    qtbot.addWidget(widget)
    yield widget
    if widget.job is not None:
        widget.job.kill_now()


def test_the_panel_shows_a_jobs_progress_status_and_log_then_its_result(qtbot, panel):
    results = []
    assert panel.run("Count", f"{TARGETS}:count", {"n": 20, "pause_s": 0.05}, results.append)
    assert panel.title_label.text() == "Count" and panel.cancel_button.isEnabled()
    bar = panel.progress_bar
    qtbot.waitUntil(
        lambda: bar.maximum() == 20 * STEPS_PER_UNIT and bar.value() > 0, timeout=WAIT_MS
    )
    assert "counting" in bar.format() and "/20" in bar.format()
    assert panel.status_label.text().startswith("counting item ")
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    assert results[0]["counted"] == 20
    assert "counted 20" in panel.log_text() and "Count: done" in panel.log_text()
    assert not panel.cancel_button.isEnabled() and not panel.is_busy()


def test_a_second_job_is_refused_while_one_runs_and_says_why(qtbot, panel, tmp_path):
    pid_file = str(tmp_path / "pid")
    assert panel.run("Train", f"{TARGETS}:run_until_killed", {"pid_file": pid_file})
    assert panel.progress_bar.maximum() == 0  # busy indicator until a bar reports
    assert panel.why_busy() == "Train is running; wait for it or cancel it first"
    assert not panel.run("Predict", f"{TARGETS}:count", {"n": 1})
    assert "Predict not started: Train is running" in panel.log_text()
    ended = []
    panel.job_ended.connect(lambda title, how: ended.append((title, how)))
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    assert ended == [("Train", "cancelled")] and panel.why_busy() is None
    assert f"resume from {pid_file}" in panel.log_text()
    assert panel.run("Predict", f"{TARGETS}:count", {"n": 1})  # free again


def test_a_failed_job_shows_its_message(qtbot, panel):
    ended = []
    panel.job_ended.connect(lambda title, how: ended.append(how))
    assert panel.run("Train", f"{TARGETS}:fail_with_ethogram_error", {"path": "proj"})
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    assert ended == ["failed"]
    message = "proj: no labeled videos; label frames first"
    assert panel.status_label.text() == f"failed: {message}"
    assert f"error: {message}" in panel.log_text()


def test_a_target_that_does_not_exist_is_refused_with_a_one_line_reason(panel):
    assert not panel.run("Train", f"{TARGETS}:nothing_here", {})
    assert panel.status_label.text() == f"failed: job target '{TARGETS}:nothing_here': " + (
        f"{TARGETS} has no function 'nothing_here'"
    )
    assert not panel.is_busy() and panel.why_busy() is None


def test_stop_now_kills_the_running_job_when_the_window_closes(qtbot, panel, tmp_path):
    pid_file = tmp_path / "pid"
    assert panel.run("Train", f"{TARGETS}:run_until_killed", {"pid_file": str(pid_file)})
    qtbot.waitUntil(pid_file.exists, timeout=WAIT_MS)
    panel.stop_now()
    assert not panel.is_busy() and not panel.job._process.is_alive()
    assert "Train stopped: the window closed" in panel.log_text()
