"""Mouse decisions of the ethogram without events: which drag a press starts, its label edit."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from ethogram.gui.ethogram_geometry import EthogramGeometry  # noqa: E402
from ethogram.gui.ethogram_mouse import (  # noqa: E402
    autoscroll_window,
    describe_point,
    drag_op,
    over_edge,
    start_drag,
)

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def geo() -> EthogramGeometry:
    geometry = EthogramGeometry()
    geometry.layout((700, 300), 100, 30, 2, probabilities=False, predictions=False)
    geometry.set_n_frames(300, span=100, frame=0)  # 6 px per frame
    return geometry


@pytest.fixture
def labels() -> np.ndarray:
    values = np.zeros((300, 2), dtype=np.int8)
    values[40:60, 1] = 1
    return values


def label_y(geo: EthogramGeometry, behavior: int) -> float:
    row = geo.row(behavior, "label")
    return row.y + row.height / 2


def test_press_on_a_bout_end_grabs_its_right_edge(geo, labels):
    drag = start_drag(geo, labels, geo.frame_to_detail_x(60) + 1, label_y(geo, 1), LEFT, NONE)
    assert (drag.kind, drag.anchor, drag.edge_side, drag.limit) == ("edge", 60, "right", 40)
    assert over_edge(geo, labels, geo.frame_to_detail_x(60) + 1, label_y(geo, 1))


def test_right_edge_dragged_left_erases_and_stops_at_the_bout_start(geo, labels):
    drag = start_drag(geo, labels, geo.frame_to_detail_x(60), label_y(geo, 1), LEFT, NONE)
    assert drag_op(geo, drag, geo.frame_to_detail_x(50)) == (1, 50, 60, 0)
    assert drag_op(geo, drag, geo.frame_to_detail_x(10)) == (1, 40, 60, 0)
    assert drag_op(geo, drag, geo.frame_to_detail_x(70)) == (1, 60, 70, 1)


def test_shift_press_inside_a_row_starts_an_erase_not_an_edge_move(geo, labels):
    x = geo.frame_to_detail_x(60)
    drag = start_drag(geo, labels, x, label_y(geo, 1), LEFT, Qt.KeyboardModifier.ShiftModifier)
    assert (drag.kind, drag.value) == ("paint", 0)


def test_paint_drag_edits_only_after_moving_past_the_threshold(geo, labels):
    x0 = geo.frame_to_detail_x(80.5)
    drag = start_drag(geo, labels, x0, label_y(geo, 0), Qt.MouseButton.RightButton, NONE)
    assert not drag.track(x0 + 1, label_y(geo, 0))
    assert drag_op(geo, drag, x0 + 1) is None
    x1 = geo.frame_to_detail_x(90.5)
    assert drag.track(x1, label_y(geo, 0))
    assert drag_op(geo, drag, x1) == (0, 80, 91, 0)


def test_press_on_the_time_axis_only_scrubs(geo, labels):
    drag = start_drag(geo, labels, geo.frame_to_detail_x(60), geo.axis.y + 2, LEFT, NONE)
    assert drag.kind == "scrub"
    assert drag_op(geo, drag, geo.frame_to_detail_x(80)) is None


def test_autoscroll_steps_further_the_further_the_mouse_is_past_the_end(geo):
    geo.set_window(100, 100)
    assert autoscroll_window(geo, geo.x0 + 10) is None
    assert autoscroll_window(geo, geo.x0 + geo.width + 10) == (101, 100)
    assert autoscroll_window(geo, geo.x0 - 200) == (95, 100)


def test_tooltip_names_the_row_and_its_label(geo, labels):
    text = describe_point(
        geo, geo.frame_to_detail_x(45.5), label_y(geo, 1), ["bg", "rear"], 30.0, labels, None, None
    )
    assert text.splitlines() == ["frame 45  (0:01.5)", "rear, labeled present"]
