"""EthogramView driven by real mouse events, offscreen: seeks, paints, edge moves, zoom, pixels."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ethogram.errors import LabelError  # noqa: E402
from ethogram.gui import palette  # noqa: E402
from ethogram.gui.ethogram_view import EthogramView  # noqa: E402

NAMES = ["background", "rear", "groom"]
REAR_BOUT = (40, 60)
UNLABELED = (70, 90)


def make_labels(n_frames: int = 300) -> np.ndarray:
    labels = np.zeros((n_frames, 3), dtype=np.int8)
    labels[:, 0] = 1
    labels[REAR_BOUT[0] : REAR_BOUT[1], 0] = 0
    labels[REAR_BOUT[0] : REAR_BOUT[1], 1] = 1
    labels[UNLABELED[0] : UNLABELED[1], :] = -1
    return labels


@pytest.fixture
def view(qtbot) -> EthogramView:
    widget = EthogramView()
    qtbot.addWidget(widget)
    widget.set_behaviors(NAMES)
    widget.set_fps(30.0)
    widget.set_labels(make_labels())
    widget.resize(700, 260)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_detail_span(100)  # about 6 px per frame
    widget.set_current_frame(0)
    assert widget.detail_range() == (0, 100)
    return widget


@pytest.fixture
def emitted(view) -> dict[str, list]:
    seen: dict[str, list] = {"seek": [], "paint": []}
    view.seek_requested.connect(seen["seek"].append)
    view.paint_requested.connect(lambda *args: seen["paint"].append(args))
    return seen


def at_frame(view: EthogramView, frame: float, behavior: int | None = None, kind: str = "label"):
    """The widget point at the middle of ``frame`` on a behavior's row (or the time axis)."""
    rect = view.axis_rect() if behavior is None else view.row_rect(behavior, kind)
    return QPoint(round(view.frame_to_detail_x(frame + 0.5)), rect.center().y())


def at_boundary(view: EthogramView, boundary: int, behavior: int) -> QPoint:
    """The widget point on the line between frames ``boundary - 1`` and ``boundary``."""
    y = view.row_rect(behavior).center().y()
    return QPoint(round(view.frame_to_detail_x(boundary)), y)


def drag(view, start: QPoint, stop: QPoint, button=Qt.MouseButton.LeftButton, mods=None):
    mods = mods if mods is not None else Qt.KeyboardModifier.NoModifier
    QTest.mousePress(view, button, mods, start)
    middle = QPoint((start.x() + stop.x()) // 2, (start.y() + stop.y()) // 2)
    QTest.mouseMove(view, middle)
    QTest.mouseMove(view, stop)
    QTest.mouseRelease(view, button, mods, stop)


def pixel(view: EthogramView, point: QPoint) -> tuple[int, int, int]:
    color = view.grab().toImage().pixelColor(point)
    return color.red(), color.green(), color.blue()


def test_click_on_time_axis_seeks_to_frame_under_cursor(view, emitted):
    QTest.mouseClick(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at_frame(view, 37)
    )
    assert len(emitted["seek"]) == 1
    assert abs(emitted["seek"][0] - 37) <= 1
    assert emitted["paint"] == []


def test_click_on_label_row_seeks_without_painting(view, emitted):
    QTest.mouseClick(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at_frame(view, 12, 2)
    )
    assert abs(emitted["seek"][-1] - 12) <= 1
    assert emitted["paint"] == []


def test_drag_on_time_axis_scrubs_through_frames(view, emitted):
    drag(view, at_frame(view, 10), at_frame(view, 50))
    assert abs(emitted["seek"][0] - 10) <= 1
    assert abs(emitted["seek"][-1] - 50) <= 1
    assert len(emitted["seek"]) >= 3
    assert emitted["paint"] == []


def test_overview_click_seeks_in_the_whole_video(view, emitted):
    overview = view.overview_rect()
    x = round(view.frame_to_overview_x(250.5))
    QTest.mouseClick(
        view,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        QPoint(x, overview.center().y()),
    )
    assert abs(emitted["seek"][-1] - 250) <= 1


def test_left_drag_on_label_row_emits_one_fill_request_for_the_dragged_range(view, emitted):
    drag(view, at_frame(view, 10, 2), at_frame(view, 25, 2))
    assert len(emitted["paint"]) == 1
    behavior, start, stop, value = emitted["paint"][0]
    assert (behavior, value) == (2, 1)
    assert abs(start - 10) <= 1 and abs(stop - 26) <= 1


def test_right_to_left_drag_fills_the_same_range(view, emitted):
    drag(view, at_frame(view, 25, 2), at_frame(view, 10, 2))
    behavior, start, stop, value = emitted["paint"][0]
    assert (behavior, value) == (2, 1)
    assert abs(start - 10) <= 1 and abs(stop - 26) <= 1


def test_right_drag_on_label_row_erases(view, emitted):
    drag(view, at_frame(view, 5, 0), at_frame(view, 20, 0), button=Qt.MouseButton.RightButton)
    assert len(emitted["paint"]) == 1
    behavior, start, stop, value = emitted["paint"][0]
    assert (behavior, value) == (0, 0)
    assert abs(start - 5) <= 1 and abs(stop - 21) <= 1


def test_shift_left_drag_on_label_row_erases(view, emitted):
    drag(view, at_frame(view, 5, 0), at_frame(view, 20, 0), mods=Qt.KeyboardModifier.ShiftModifier)
    assert [(p[0], p[3]) for p in emitted["paint"]] == [(0, 0)]


def test_alt_drag_on_label_row_clears_to_unlabeled(view, emitted):
    drag(view, at_frame(view, 5, 2), at_frame(view, 20, 2), mods=Qt.KeyboardModifier.AltModifier)
    assert [(p[0], p[3]) for p in emitted["paint"]] == [(2, -1)]


def test_dragging_a_bouts_right_edge_outward_fills_the_gap(view, emitted):
    drag(view, at_boundary(view, REAR_BOUT[1], 1), at_boundary(view, 66, 1))
    assert len(emitted["paint"]) == 1
    behavior, start, stop, value = emitted["paint"][0]
    assert (behavior, value) == (1, 1)
    assert start == REAR_BOUT[1] and abs(stop - 66) <= 1


def test_dragging_a_bouts_left_edge_inward_erases_the_removed_part(view, emitted):
    drag(view, at_boundary(view, REAR_BOUT[0], 1), at_boundary(view, 48, 1))
    assert len(emitted["paint"]) == 1
    behavior, start, stop, value = emitted["paint"][0]
    assert (behavior, value) == (1, 0)
    assert start == REAR_BOUT[0] and abs(stop - 48) <= 1


def test_shrinking_a_bout_past_its_other_end_erases_only_the_bout(view, emitted):
    drag(view, at_boundary(view, REAR_BOUT[1], 1), at_boundary(view, 20, 1))
    assert emitted["paint"] == [(1, REAR_BOUT[0], REAR_BOUT[1], 0)]


def test_hovering_a_bout_edge_shows_a_resize_cursor(view):
    QTest.mouseMove(view, at_frame(view, 50, 1))
    assert view.cursor().shape() != Qt.CursorShape.SizeHorCursor
    QTest.mouseMove(view, at_boundary(view, REAR_BOUT[1], 1))
    assert view.cursor().shape() == Qt.CursorShape.SizeHorCursor


def test_drag_preview_is_drawn_before_release_and_dropped_without_new_labels(view):
    groom = palette.behavior_colors(3)[2]
    target = at_frame(view, 18, 2)
    assert pixel(view, target) == palette.EMPTY_RGB
    QTest.mousePress(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at_frame(view, 10, 2)
    )
    QTest.mouseMove(view, at_frame(view, 25, 2))
    assert pixel(view, target) == groom
    QTest.mouseRelease(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at_frame(view, 25, 2)
    )
    assert pixel(view, target) == palette.EMPTY_RGB


def test_labeled_frame_has_behavior_colour_and_unlabeled_frame_the_hatch_greys(view):
    rear = palette.behavior_colors(3)[1]
    assert pixel(view, at_frame(view, 50, 1)) == rear
    assert pixel(view, at_frame(view, 50, 2)) == palette.EMPTY_RGB
    hatch = {palette.UNLABELED_RGB, palette.UNLABELED_STRIPE_RGB}
    rect = view.row_rect(1)
    x0 = round(view.frame_to_detail_x(UNLABELED[0] + 1))
    x1 = round(view.frame_to_detail_x(UNLABELED[1] - 1))
    image = view.grab().toImage()
    seen = set()
    for x in range(x0, x1):
        c = image.pixelColor(x, rect.center().y())
        seen.add((c.red(), c.green(), c.blue()))
    assert seen == hatch


def test_new_labels_are_drawn_after_set_labels(view):
    labels = make_labels()
    labels[10:30, 2] = 1
    view.set_labels(labels)
    assert pixel(view, at_frame(view, 20, 2)) == palette.behavior_colors(3)[2]


def test_probability_row_is_shaded_by_probability(view):
    probs = np.zeros((300, 3), dtype=np.float32)
    probs[20:40, 2] = 1.0
    probs[50:60, 2] = 0.5
    view.set_probabilities(probs)
    groom = np.array(palette.behavior_colors(3)[2])
    assert pixel(view, at_frame(view, 30, 2, "probability")) == tuple(groom)
    assert pixel(view, at_frame(view, 10, 2, "probability")) == palette.EMPTY_RGB
    half = np.array(pixel(view, at_frame(view, 55, 2, "probability")))
    expected = (np.array(palette.EMPTY_RGB) + groom) / 2
    assert np.abs(half - expected).max() <= 2


def test_prediction_row_follows_each_new_threshold(view):
    predicted = np.zeros((300, 3), dtype=np.int8)
    view.set_predictions(predicted)
    assert pixel(view, at_frame(view, 30, 2, "prediction")) == palette.EMPTY_RGB
    predicted[25:35, 2] = 1
    view.set_predictions(predicted)
    assert pixel(view, at_frame(view, 30, 2, "prediction")) == palette.behavior_colors(3)[2]
    view.set_predictions(None)
    assert view.row_rect(2, "prediction").isEmpty()


def test_wheel_zooms_the_detail_strip_around_the_cursor(view):
    view.set_detail_span(200)
    start, stop = view.detail_range()
    point = at_frame(view, 50)
    under_cursor = view.detail_x_to_frame(point.x())

    def wheel(steps: int) -> None:
        event = QWheelEvent(
            QPointF(point),
            QPointF(view.mapToGlobal(point)),
            QPoint(0, 0),
            QPoint(0, 120 * steps),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view, event)

    wheel(2)
    zoomed = view.detail_range()
    assert zoomed[1] - zoomed[0] < stop - start
    assert abs(view.detail_x_to_frame(point.x()) - under_cursor) <= 1
    wheel(-40)
    assert view.detail_range() == (0, 300)
    wheel(40)
    assert view.detail_range()[1] - view.detail_range()[0] == 30


def test_set_current_frame_inside_the_window_keeps_it(view):
    view.set_current_frame(60)
    assert view.detail_range() == (0, 100)


def test_set_current_frame_outside_the_window_moves_it_to_show_the_frame(view):
    view.set_current_frame(100)  # playing past the right edge: the window pages
    start, stop = view.detail_range()
    assert start <= 100 < stop and start > 0
    view.set_current_frame(260)  # a jump: the window follows
    start, stop = view.detail_range()
    assert start <= 260 < stop


def test_set_detail_span_sets_the_visible_frame_count(view):
    view.set_detail_span(50)
    start, stop = view.detail_range()
    assert stop - start == 50
    view.set_detail_span(5)
    start, stop = view.detail_range()
    assert stop - start == 30


def test_highlight_tints_the_range_and_none_clears_it(view):
    point = at_frame(view, 20, 2)
    view.set_highlight(10, 30)
    assert pixel(view, point) != palette.EMPTY_RGB
    view.set_highlight(10, None)
    assert pixel(view, point) == palette.EMPTY_RGB


def test_overview_of_a_36000_frame_video_shows_a_bout_at_its_end(qtbot):
    widget = EthogramView()
    qtbot.addWidget(widget)
    names = [f"behavior {i}" for i in range(8)]
    widget.set_behaviors(names)
    labels = np.full((36_000, 8), -1, dtype=np.int8)
    labels[35_000:35_900, 5] = 1
    widget.set_labels(labels)
    widget.resize(1000, 300)
    widget.show()
    qtbot.waitExposed(widget)
    overview = widget.overview_rect()
    row_h = overview.height() // 8
    y = overview.top() + 5 * row_h + row_h // 2
    x = round(widget.frame_to_overview_x(35_450))
    assert pixel(widget, QPoint(x, y)) == palette.behavior_colors(8)[5]
    assert widget.detail_range()[1] - widget.detail_range()[0] < 36_000


def test_labels_with_the_wrong_behavior_count_raise_label_error(view):
    with pytest.raises(LabelError, match="expected an array of shape"):
        view.set_labels(np.zeros((300, 5), dtype=np.int8))


def test_probabilities_of_another_length_raise_label_error(view):
    with pytest.raises(LabelError, match="expected 300 frames"):
        view.set_probabilities(np.zeros((299, 3), dtype=np.float32))


def test_widget_never_takes_keyboard_focus(view):
    assert view.focusPolicy() == Qt.FocusPolicy.NoFocus


def test_description_under_the_cursor_names_frame_behavior_and_values(view):
    probs = np.zeros((300, 3), dtype=np.float32)
    probs[45, 1] = 0.75
    view.set_probabilities(probs)
    point = at_frame(view, 45, 1)
    text = view.describe_at(point.x(), point.y())
    assert text.startswith("frame 45  (0:01.5)")
    assert "rear, labeled present, p = 0.75" in text
    point = at_frame(view, 80, 2)
    assert "groom, unlabeled" in view.describe_at(point.x(), point.y())


def test_overview_shows_predictions_under_each_behavior_when_set(view):
    predicted = np.zeros((300, 3), dtype=np.int8)
    predicted[150:250, 2] = 1
    view.set_predictions(predicted)
    overview = view.overview_rect()
    row_h = overview.height() // 3
    x = round(view.frame_to_overview_x(200))
    assert pixel(view, QPoint(x, overview.top() + 3 * row_h - 1)) == palette.behavior_colors(3)[2]
    assert pixel(view, QPoint(x, overview.top() + 2 * row_h + 1)) == palette.EMPTY_RGB


def test_painting_past_the_right_end_scrolls_the_strip_and_extends_the_range(view, emitted):
    start = at_frame(view, 90, 2)
    outside = QPoint(view.row_rect(2).right() + 60, start.y())
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for _ in range(4):
        QTest.mouseMove(view, outside)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, outside)
    window_start, window_stop = view.detail_range()
    assert window_start > 0
    assert emitted["paint"] == [(2, 90, window_stop, 1)]
    assert emitted["seek"][-1] == window_stop - 1


def test_zoom_is_kept_when_another_video_is_shown(view):
    view.set_detail_span(50)
    view.set_labels(make_labels(1000))
    start, stop = view.detail_range()
    assert stop - start == 50
