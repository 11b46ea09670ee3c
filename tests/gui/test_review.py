"""The whole loop in the window: label, train and predict as background jobs, then review.

One small project is trained once (tiny networks, a few steps: the predictions are poor, which
suits review, where the model is unsure), through the window's own Train and Predict actions.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ethogram.gui.main_window import MainWindow  # noqa: E402
from ethogram.io.labels import read_labels  # noqa: E402
from ethogram.labeling import disagreement_runs, uncertain_runs  # noqa: E402
from ethogram.project import Project  # noqa: E402
from tests.integration.test_end_to_end import TINY as E2E_TINY  # noqa: E402

N_FRAMES = 120
TINY = ("device=cpu", *E2E_TINY)  # the end-to-end test's tiny networks
JOB_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory, qapp):
    """Two labeled sample videos and one without labels, trained and predicted from the window."""
    from pytestqt.qtbot import QtBot

    from ethogram.sample import SAMPLE_BEHAVIORS, make_sample

    root = tmp_path_factory.mktemp("gui_review")
    samples = make_sample(root / "sample", n_videos=3, n_frames=N_FRAMES, size=64, seed=2)
    project = Project.create(root / "project", list(SAMPLE_BEHAVIORS[1:]))
    for sample in samples[:2]:
        project.add_video(sample.video_path, labels=sample.labels_path)
    project.add_video(samples[2].video_path)

    qtbot = QtBot(None)
    window = MainWindow()
    window.show()
    assert window.open_project(project.root)
    assert window.train_action.isEnabled(), window.train_action.toolTip()
    assert not window.predict_action.isEnabled()
    assert window.train(TINY)
    assert not window.train_action.isEnabled()  # one job at a time, and it says so
    assert "running" in window.train_action.toolTip()
    qtbot.waitUntil(lambda: not window.jobs.is_busy(), timeout=JOB_TIMEOUT_MS)
    log = window.jobs.log_text()
    assert project.latest_model("sequence") is not None, log
    assert window.predict_action.isEnabled(), window.predict_action.toolTip()
    assert window.predict()
    qtbot.waitUntil(lambda: not window.jobs.is_busy(), timeout=JOB_TIMEOUT_MS)
    log = window.jobs.log_text()
    window.close()
    return root, log


@pytest.fixture
def window(qtbot, trained_root):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    assert win.open_project(trained_root[0] / "project")
    return win


def test_train_and_predict_jobs_write_every_video_and_report_in_the_log(trained_root):
    root, log = trained_root
    project = Project.open(root / "project")
    for record in project.videos:
        assert record.predictions_path.is_file()
        table = read_labels(record.predictions_path, behaviors=project.behaviors)
        assert table.n_frames == N_FRAMES
    assert "Train" in log and "Predict" in log


def test_predictions_are_shown_for_the_open_video(window):
    window.open_video("sample_002")
    assert window.predictions is not None
    assert window.predictions.probs.shape == (N_FRAMES, len(window.project.behaviors))
    assert window.video_list.item(2, 2).text() == "yes"
    assert window.actions_by_name["accept"].isEnabled()


def test_threshold_slider_redraws_the_predicted_rows(window):
    window.open_video("sample_002")
    window.review.set_threshold(1, 0.01)
    low = window.predicted[:, 1].sum()
    probs = window.predictions.probs[:, 1]
    assert low == (probs >= 0.01).sum()
    window.review.set_threshold(1, 0.99)
    assert window.predicted[:, 1].sum() == (probs >= 0.99).sum()
    window.review.reset()
    np.testing.assert_allclose(
        window.review.thresholds(), window.predictions.thresholds, atol=0.005
    )


def test_next_uncertain_selects_the_next_stretch_and_accept_fills_only_unlabeled(window):
    window.open_video("sample_002")
    thresholds = window.review.thresholds()
    found = uncertain_runs(window.predictions.probs, thresholds)
    if len(found) == 0:  # a model this tiny is rarely sure; make it unsure everywhere
        for k in range(1, len(thresholds)):
            window.review.set_threshold(k, float(np.median(window.predictions.probs[:, k])))
        thresholds = window.review.thresholds()
        found = uncertain_runs(window.predictions.probs, thresholds)
    assert len(found) > 0
    window.jump_to(0)
    window.next_uncertain()
    first = tuple(int(v) for v in found[found[:, 0] > 0][0]) if (found[:, 0] > 0).any() else None
    first = first or tuple(int(v) for v in found[0])
    assert window.selection == first
    assert window.player.index == first[0]
    start, stop = first
    window.paint(1, start, start + 1, 1)  # one frame labeled by hand inside the stretch
    window.accept_predictions(only_unlabeled=True)
    values = window.document.values
    assert values[start, 1] == 1  # kept
    np.testing.assert_array_equal(
        values[start + 1 : stop, 1:], window.predicted[start + 1 : stop, 1:]
    )
    assert (values[stop:] == -1).all()


def test_next_disagreement_goes_where_labels_and_predictions_differ(window):
    window.open_video("sample_000")  # fully labeled
    found = disagreement_runs(window.document.values, window.predicted)
    assert len(found) > 0  # a tiny model disagrees somewhere
    window.jump_to(0)
    window.next_disagreement()
    start, stop = window.selection
    assert [start, stop] in found.tolist()
    window.accept_predictions()
    np.testing.assert_array_equal(window.document.values[start:stop], window.predicted[start:stop])
    window.undo()
    assert len(disagreement_runs(window.document.values, window.predicted)) == len(found)


def test_predictions_of_another_model_can_be_shown(window):
    window.open_video("sample_002")
    newest = window.predictions.probs.copy()
    features = window.project.latest_model("features")
    window.show_model(features)
    assert window.predictions.model_dir == features
    assert window.predictions.probs.shape == newest.shape
    assert not np.allclose(window.predictions.probs, newest)
    window.show_model(None)
    np.testing.assert_array_equal(window.predictions.probs, newest)
