"""What a mouse press, drag or wheel turn on the ethogram means; decisions only, no widget.

The widget (:mod:`ethogram.gui.ethogram_view`) passes positions, buttons and modifiers here and
acts on the answers: which drag starts (:func:`start_drag`), which label edit a drag would make
(:func:`drag_op`), where the detail window goes (:func:`autoscroll_window`, :func:`wheel_window`)
and what the tooltip says (:func:`describe_point`).
Only Qt's button and modifier enums are used, so this runs without events or a display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt

from ethogram.bouts import find_bouts
from ethogram.gui.ethogram_geometry import EthogramGeometry
from ethogram.gui.ethogram_render import Row, format_time

EDGE_GRAB_PX = 4  # a press this close to a bout's edge moves the edge
DRAG_THRESHOLD_PX = 3  # a press that moves less than this is a click (seek), not a paint
WHEEL_ZOOM = 1.25  # detail span factor per wheel notch
AUTOSCROLL_MS = 50  # while a drag rests past an end of the detail strip, scroll this often
AUTOSCROLL_MAX_FRACTION = 0.05  # of the span per step, reached 100 px past the end

#: A label edit: behavior index, start, stop (exclusive), value (1 fill, 0 erase, -1 clear).
LabelOp = tuple[int, int, int, int]


@dataclass
class Drag:
    """What the current mouse drag does: "overview", "scrub", "paint" or "edge"."""

    kind: str
    button: Qt.MouseButton
    press_x: float
    press_y: float
    behavior: int = -1
    anchor: int = 0  # paint: frame pressed; edge: the edge's boundary (frame index)
    value: int = 1  # paint: 1 fill, 0 erase, -1 clear
    edge_side: str = ""  # edge: "left" or "right" side of the bout
    limit: int = 0  # edge: the far end of the bout (the edge cannot cross it)
    moved: bool = False
    last_seek: int = -1
    last_x: float = 0.0

    def track(self, x: float, y: float) -> bool:
        """Note the mouse at (x, y); True if the drag now scrolls the window past its ends.

        A paint drag starts (and scrolls) once it has moved DRAG_THRESHOLD_PX from the press.
        """
        if self.kind == "paint" and not self.moved:
            self.moved = abs(x - self.press_x) + abs(y - self.press_y) >= DRAG_THRESHOLD_PX
        self.last_x = x
        return self.kind != "paint" or self.moved


def paint_value(button: Qt.MouseButton, mods: Qt.KeyboardModifier) -> int:
    """Label value a drag paints: Alt or middle -1 (clear), right or Shift 0 (erase), else 1."""
    if mods & Qt.KeyboardModifier.AltModifier or button == Qt.MouseButton.MiddleButton:
        return -1
    if button == Qt.MouseButton.RightButton or mods & Qt.KeyboardModifier.ShiftModifier:
        return 0
    return 1


def start_drag(
    geo: EthogramGeometry,
    labels: np.ndarray | None,
    x: float,
    y: float,
    button: Qt.MouseButton,
    mods: Qt.KeyboardModifier,
) -> Drag | None:
    """The drag a press at widget (x, y) starts, or None off the strips.

    Parameters
    ----------
    geo : EthogramGeometry
        The widget's layout and detail window.
    labels : numpy.ndarray or None
        (T, K) int8 labels; without them a label row only scrubs.
    x, y : float
        Press position (widget pixels).
    button, mods : Qt.MouseButton, Qt.KeyboardModifier
        The pressed button and the held modifiers.

    Returns
    -------
    Drag or None
        "overview" on the overview, "edge" within EDGE_GRAB_PX of a bout's edge (plain left
        button), "paint" elsewhere on a label row, "scrub" on the rest of the detail strip.
    """
    area = geo.area_at(x, y)
    if area is None:
        return None
    if area == "overview":
        return Drag("overview", button, x, y)
    row = geo.row_at(y)
    if row is None or row.kind != "label" or labels is None:
        return Drag("scrub", button, x, y)
    plain_left = button == Qt.MouseButton.LeftButton and not (
        mods
        & (
            Qt.KeyboardModifier.ShiftModifier
            | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.ControlModifier
        )
    )
    edge = edge_near(geo, labels, row.behavior, x) if plain_left else None
    if edge is not None:
        boundary, side, limit = edge
        return Drag("edge", button, x, y, row.behavior, boundary, edge_side=side, limit=limit)
    frame = geo.detail_x_to_frame(x)
    return Drag("paint", button, x, y, row.behavior, frame, paint_value(button, mods))


def drag_frame(geo: EthogramGeometry, drag: Drag, x: float) -> int:
    """The frame a drag seeks with the mouse at widget x (overview or detail strip)."""
    if drag.kind == "overview":
        return geo.overview_x_to_frame(x)
    return geo.detail_x_to_frame(x)


def drag_op(geo: EthogramGeometry, drag: Drag, x: float) -> LabelOp | None:
    """The label edit a drag makes if released at widget x (None for seeks and clicks)."""
    if drag.kind == "paint" and drag.moved:
        lo, hi = sorted((drag.anchor, geo.detail_x_to_frame(x)))
        return drag.behavior, lo, hi + 1, drag.value
    if drag.kind == "edge":
        return _edge_op(geo, drag, x)
    return None


def _edge_op(geo: EthogramGeometry, drag: Drag, x: float) -> LabelOp | None:
    start, stop = geo.detail_range()
    per_px = (stop - start) / geo.width
    new = int(round(start + (x - geo.x0) * per_px))
    new = min(max(new, start), stop)
    old = drag.anchor
    if drag.edge_side == "right":
        new = max(new, drag.limit)
        if new > old:
            return drag.behavior, old, new, 1
        if new < old:
            return drag.behavior, new, old, 0
    else:
        new = min(new, drag.limit)
        if new < old:
            return drag.behavior, new, old, 1
        if new > old:
            return drag.behavior, old, new, 0
    return None


def edge_near(
    geo: EthogramGeometry, labels: np.ndarray, behavior: int, x: float
) -> tuple[int, str, int] | None:
    """The bout edge of a label row within EDGE_GRAB_PX of widget x.

    Parameters
    ----------
    geo : EthogramGeometry
        The widget's layout and detail window.
    labels : numpy.ndarray
        (T, K) int8 labels.
    behavior : int
        The label row's behavior.
    x : float
        Widget x.

    Returns
    -------
    (int, str, int) or None
        The boundary (frame index after the edge), the bout's side there ("left" or "right")
        and the bout's far end (the edge cannot cross it); None if no edge is that close.
    """
    start, stop = geo.detail_range()
    per_px = (stop - start) / geo.width
    lo = max(math.floor(start + (x - EDGE_GRAB_PX - geo.x0) * per_px), start)
    hi = min(math.ceil(start + (x + EDGE_GRAB_PX - geo.x0) * per_px) + 1, stop)
    column = labels[:, behavior] == 1
    boundaries = np.arange(lo, hi + 1)
    before = np.zeros(boundaries.size, dtype=bool)
    after = np.zeros(boundaries.size, dtype=bool)
    has_before = boundaries > 0
    has_after = boundaries < geo.n_frames
    before[has_before] = column[boundaries[has_before] - 1]
    after[has_after] = column[boundaries[has_after]]
    edges = boundaries[before != after]
    if edges.size == 0:
        return None
    dist = np.abs(geo.x0 + (edges - start) / per_px - x)
    if dist.min() > EDGE_GRAB_PX:
        return None
    boundary = int(edges[int(np.argmin(dist))])
    bouts = find_bouts(column)
    if boundary > 0 and column[boundary - 1]:
        bout = bouts[bouts[:, 1] == boundary][0]
        return boundary, "right", int(bout[0])
    bout = bouts[bouts[:, 0] == boundary][0]
    return boundary, "left", int(bout[1])


def over_edge(geo: EthogramGeometry, labels: np.ndarray | None, x: float, y: float) -> bool:
    """Whether widget (x, y) is on a label row within EDGE_GRAB_PX of a bout's edge."""
    if labels is None or geo.area_at(x, y) != "detail":
        return False
    row = geo.row_at(y)
    return (
        row is not None
        and row.kind == "label"
        and edge_near(geo, labels, row.behavior, x) is not None
    )


def autoscroll_window(geo: EthogramGeometry, x: float) -> tuple[int, int] | None:
    """The detail window (start, span) one autoscroll step on, for a drag at widget x.

    None while x is over the strip; past an end the step grows with the distance, up to
    AUTOSCROLL_MAX_FRACTION of the span at 100 px.
    """
    if x < geo.x0:
        direction, distance = -1, geo.x0 - x
    elif x > geo.x0 + geo.width:
        direction, distance = 1, x - geo.x0 - geo.width
    else:
        return None
    start, stop = geo.detail_range()
    span = stop - start
    step = max(1, round(span * AUTOSCROLL_MAX_FRACTION * min(distance, 100.0) / 100.0))
    return start + direction * step, span


def wheel_window(
    geo: EthogramGeometry, notches: float, pan: bool, x: float, y: float
) -> tuple[int, int]:
    """The detail window (start, span) after turning the wheel ``notches`` at widget (x, y).

    Parameters
    ----------
    geo : EthogramGeometry
        The widget's layout and detail window.
    notches : float
        Wheel turn; positive zooms in (or pans back).
    pan : bool
        Pan by a tenth of the span per notch instead of zooming.
    x, y : float
        Mouse position; over the detail strip the frame under it stays put, elsewhere the centre.

    Returns
    -------
    (int, int)
        Start and span, not yet clamped to the video.
    """
    start, stop = geo.detail_range()
    span = stop - start
    if pan:
        return start - round(notches * span / 10), span
    if geo.area_at(x, y) == "detail":
        anchor = start + (x - geo.x0) * span / geo.width
    else:
        anchor = start + span / 2
    new_span = geo.clamped_span(round(span * WHEEL_ZOOM ** (-notches)))
    if new_span == span and notches > 0:
        new_span = geo.clamped_span(span - 1)
    return round(anchor - (anchor - start) * new_span / span), new_span


def describe_point(
    geo: EthogramGeometry,
    x: float,
    y: float,
    names: list[str],
    fps: float | None,
    labels: np.ndarray | None,
    probabilities: np.ndarray | None,
    predictions: np.ndarray | None,
) -> str:
    """What is under widget point (x, y): frame, time and, on a row, its values (the tooltip).

    Parameters
    ----------
    geo : EthogramGeometry
        The widget's layout and detail window.
    x, y : float
        Widget point.
    names : list of str
        Behavior names.
    fps : float or None
        Frame rate, for the time; None leaves it out.
    labels, probabilities, predictions : numpy.ndarray or None
        (T, K) arrays shown by the widget.

    Returns
    -------
    str
        "frame N  (m:ss.s)" and, over a behavior's row, a line of its name and values;
        "" off the strips.
    """
    area = geo.area_at(x, y)
    if area is None:
        return ""
    frame = geo.overview_x_to_frame(x) if area == "overview" else geo.detail_x_to_frame(x)
    text = f"frame {frame}"
    if fps:
        text += f"  ({format_time(frame, fps, fractional=True)})"
    if area == "overview":
        k = int((y - geo.overview.y) // max(geo.overview_row_px, 1))
        row = Row("label", k, 0, 0) if 0 <= k < len(names) else None
    else:
        row = geo.row_at(y)
    if row is None:
        return text
    b = row.behavior
    parts = [names[b]]
    if labels is not None:
        value = int(labels[frame, b])
        parts.append({1: "labeled present", 0: "labeled absent"}.get(value, "unlabeled"))
    if probabilities is not None:
        parts.append(f"p = {probabilities[frame, b]:.2f}")
    if predictions is not None:
        parts.append("predicted" if predictions[frame, b] > 0 else "not predicted")
    return text + "\n" + ", ".join(parts)
