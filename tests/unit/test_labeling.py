import numpy as np
import pytest

from ethogram.errors import LabelError
from ethogram.labeling import (
    KeyLabeler,
    LabelDocument,
    disagreement_runs,
    next_run,
    uncertain_runs,
    uncertainty,
)

BEHAVIORS = ["background", "groom", "rear", "scratch"]


def blank(n=20):
    return LabelDocument(np.full((n, len(BEHAVIORS)), -1, np.int8), list(BEHAVIORS))


def test_painting_a_behavior_labels_the_frame_and_clears_background():
    doc = blank()
    assert doc.paint(1, 3, 6, 1)
    assert doc.values[3:6].tolist() == [[0, 1, 0, 0]] * 3
    assert (doc.values[:3] == -1).all() and (doc.values[6:] == -1).all()


def test_second_behavior_in_non_exclusive_mode_keeps_the_first():
    doc = blank()
    doc.paint(1, 0, 5, 1)
    doc.paint(2, 2, 4, 1)
    assert doc.values[2].tolist() == [0, 1, 1, 0]
    assert doc.values[0].tolist() == [0, 1, 0, 0]


def test_exclusive_mode_turns_other_behaviors_off():
    doc = blank()
    doc.exclusive = True
    doc.paint(1, 0, 5, 1)
    doc.paint(2, 2, 4, 1)
    assert doc.values[2].tolist() == [0, 0, 1, 0]
    assert doc.values[4].tolist() == [0, 1, 0, 0]


def test_erasing_the_only_behavior_makes_the_frame_background():
    doc = blank()
    doc.paint(1, 0, 5, 1)
    doc.paint(1, 1, 3, 0)
    assert doc.values[1].tolist() == [1, 0, 0, 0]
    assert doc.values[3].tolist() == [0, 1, 0, 0]


def test_background_paint_marks_every_behavior_absent_and_clear_unlabels():
    doc = blank()
    doc.paint(2, 0, 10, 1)
    doc.paint(0, 5, 10, 1)
    assert doc.values[7].tolist() == [1, 0, 0, 0]
    doc.paint(3, 8, 10, -1)
    assert (doc.values[8:10] == -1).all()
    doc.paint(0, 5, 8, 0)  # "not background": back to unlabeled
    assert (doc.values[5:8] == -1).all()
    assert doc.values[4].tolist() == [0, 0, 1, 0]


def test_unlabeled_frames_stay_unlabeled_until_marked_as_background():
    doc = blank()
    doc.paint(1, 4, 6, 1)
    assert (doc.values[:4] == -1).all()
    assert doc.mark_unlabeled_as_background(0, 10)
    assert doc.values[0].tolist() == [1, 0, 0, 0]
    assert doc.values[4].tolist() == [0, 1, 0, 0]
    assert (doc.values[10:] == -1).all()


def test_undo_and_redo_restore_exact_arrays_over_more_than_100_steps():
    doc = blank(300)
    states = [doc.values.copy()]
    rng = np.random.default_rng(0)
    for _ in range(150):
        start = int(rng.integers(0, 290))
        value = int(rng.choice([1, 0, -1]))
        if doc.paint(int(rng.integers(0, 4)), start, start + int(rng.integers(1, 10)), value):
            states.append(doc.values.copy())
    assert len(states) > 101
    for state in reversed(states[:-1]):
        assert doc.undo() is not None
        np.testing.assert_array_equal(doc.values, state)
    assert doc.undo() is None
    for state in states[1:]:
        doc.redo()
        np.testing.assert_array_equal(doc.values, state)
    assert not doc.can_redo


def test_a_new_edit_after_undo_drops_the_redo_history():
    doc = blank()
    doc.paint(1, 0, 2, 1)
    doc.undo()
    doc.paint(2, 0, 2, 1)
    assert not doc.can_redo


def test_revision_and_dirty_follow_edits_and_saves():
    doc = blank()
    assert not doc.dirty
    doc.paint(1, 0, 2, 1)
    assert doc.dirty
    doc.mark_saved()
    assert not doc.dirty
    assert not doc.paint(1, 0, 2, 1)  # no change, no new revision
    assert not doc.dirty
    doc.undo()
    assert doc.dirty


def test_values_cannot_be_written_directly():
    doc = blank()
    with pytest.raises(ValueError):
        doc.values[0, 0] = 1


def test_keys_fill_forward_erase_backward_and_undo_as_one_step():
    doc = blank(30)
    keys = KeyLabeler(doc)
    assert keys.toggle(1, 5)
    keys.move(5, 6)
    keys.move(6, 12)
    assert (doc.values[5:13, 1] == 1).all()
    keys.move(12, 9)  # back: frames 10..12 erased
    assert (doc.values[5:10, 1] == 1).all()
    assert doc.values[10:13, 1].tolist() == [0, 0, 0]
    assert doc.values[10, 0] == 1
    assert not keys.toggle(1, 9)
    assert doc.undo() == (5, 13)
    assert (doc.values == -1).all()


def test_background_key_turns_other_keys_off():
    doc = blank(30)
    keys = KeyLabeler(doc)
    keys.toggle(1, 0)
    keys.toggle(2, 0)
    assert keys.active == [1, 2]
    keys.toggle(0, 3)
    assert keys.active == [0]
    keys.move(3, 6)
    assert doc.values[5].tolist() == [1, 0, 0, 0]


def test_accept_predictions_overwrite_or_only_unlabeled():
    doc = blank(10)
    doc.paint(2, 0, 3, 1)
    predicted = np.zeros((10, 4), np.int8)
    predicted[:, 1] = 1
    only = LabelDocument(doc.values, BEHAVIORS)
    assert only.accept(predicted, 0, 10, only_unlabeled=True)
    assert only.values[0].tolist() == [0, 0, 1, 0]  # labeled frames kept
    assert only.values[5].tolist() == [0, 1, 0, 0]
    assert doc.accept(predicted, 0, 5)
    assert doc.values[0].tolist() == [0, 1, 0, 0]
    assert (doc.values[5:] == -1).all()
    with pytest.raises(LabelError, match="shape"):
        doc.accept(predicted[:5], 0, 5)


def test_uncertainty_is_highest_at_the_threshold():
    probs = np.array([[0, 0.5, 0.0], [0, 0.99, 0.01], [0, 0.7, 0.2]])
    u = uncertainty(probs, np.array([0.5, 0.5, 0.5]))
    assert u[0] == pytest.approx(1.0)
    assert u[1] < 0.05
    assert u[0] > u[2] > u[1]


def test_next_uncertain_and_next_disagreement_find_stretches_in_order():
    probs = np.zeros((100, 3))
    probs[:, 1] = 0.02
    probs[20:30, 1] = 0.5
    probs[60:64, 1] = 0.45
    found = uncertain_runs(probs, np.array([0.5, 0.5, 0.5]))
    assert found.tolist() == [[20, 30], [60, 64]]
    assert next_run(found, 0) == (20, 30)
    assert next_run(found, 20) == (60, 64)
    assert next_run(found, 70) == (20, 30)  # wraps around
    assert next_run(found, 50, backwards=True) == (20, 30)

    labels = np.full((100, 3), -1, np.int8)
    labels[:50] = [1, 0, 0]
    predicted = np.zeros((100, 3), np.int8)
    predicted[:, 0] = 1
    predicted[40:45] = [0, 1, 0]
    predicted[80:90] = [0, 0, 1]  # unlabeled frames: no disagreement
    assert disagreement_runs(labels, predicted).tolist() == [[40, 45]]


def test_document_rejects_bad_shapes_and_values():
    with pytest.raises(LabelError, match="background"):
        LabelDocument(np.zeros((3, 2), np.int8), ["groom", "background"])
    doc = blank()
    with pytest.raises(LabelError, match="1, 0 or -1"):
        doc.paint(1, 0, 2, 5)
