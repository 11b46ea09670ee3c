"""Where the ethogram's parts are drawn and which frames its detail strip shows; no Qt.

:class:`EthogramGeometry` lays out the overview, the time axis and the behavior rows in widget
pixels, holds the detail window (first frame and span) and maps frames to pixel x and back. The
widget (:mod:`ethogram.gui.ethogram_view`) measures fonts and asks this class the rest, so the
arithmetic is tested without a display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ethogram.gui.ethogram_render import Row

DEFAULT_SPAN = 600  # frames in the detail strip before the user zooms (20 s at 30 fps)
MIN_SPAN = 30  # the deepest zoom, in frames

LABEL_ROW_PX = (16, 28)  # label row height: min, max (grows with the widget)
PROBABILITY_ROW_PX = 10
PREDICTION_ROW_PX = 6
SUBROW_GAP_PX = 1  # between a label row and its probability / prediction rows
GROUP_GAP_PX = 4  # between behaviors
MARGIN_PX = 6


@dataclass(frozen=True)
class Box:
    """A rectangle in widget pixels, with Qt's ``QRect`` conventions (``bottom`` is inclusive)."""

    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0

    @property
    def bottom(self) -> int:
        """The last pixel row inside the box (``y + height - 1``, as ``QRect.bottom()``)."""
        return self.y + self.height - 1


class EthogramGeometry:
    """Layout of the ethogram widget and its detail window.

    Attributes
    ----------
    x0, width : int
        Left edge and width (px) of every strip; the behavior names sit left of ``x0``.
    overview, axis : Box
        The whole-video overview and the detail strip's time axis.
    rows : list of Row
        The detail strip's rows, in widget y.
    rows_top, rows_bottom : int
        First pixel row of the detail rows and the row just below the last one.
    overview_row_px : int
        Height of one behavior's row in the overview.
    n_frames, start, span : int
        Frames of the video, first frame of the detail window and its length.
    """

    def __init__(self) -> None:
        self.x0 = 0
        self.width = 1
        self.overview = Box()
        self.axis = Box()
        self.rows: list[Row] = []
        self.rows_top = 0
        self.rows_bottom = 0
        self.overview_row_px = 1
        self.n_frames = 0
        self.start = 0
        self.span = DEFAULT_SPAN
        # What the layout holds; kept for height_for.
        self._n_behaviors = 0
        self._axis_px = 0
        self._probabilities = False
        self._predictions = False

    # ------------------------------------------------------------------ layout
    def layout(
        self,
        widget_size: tuple[int, int],
        gutter_px: int,
        axis_px: int,
        n_behaviors: int,
        probabilities: bool,
        predictions: bool,
    ) -> None:
        """Place the overview, the time axis and the rows in a widget of ``widget_size``.

        Parameters
        ----------
        widget_size : (int, int)
            Widget width and height (px).
        gutter_px : int
            Width left of the strips, for the behavior names.
        axis_px : int
            Height of the time axis (two lines of text).
        n_behaviors : int
            One label row per behavior.
        probabilities, predictions : bool
            Whether each behavior also has a probability row and a prediction row.
        """
        self._n_behaviors = n_behaviors
        self._axis_px = axis_px
        self._probabilities = probabilities
        self._predictions = predictions
        widget_w, widget_h = widget_size
        self.x0 = gutter_px
        self.width = max(widget_w - gutter_px - MARGIN_PX, 10)
        ov_row, ov_h = self._overview_px()
        self.overview = Box(self.x0, MARGIN_PX, self.width, ov_h)
        self.axis = Box(self.x0, self.overview.bottom + 11, self.width, axis_px)
        self.rows_top = self.axis.bottom + 4
        fixed = self._group_px(0)
        avail = widget_h - self.rows_top - MARGIN_PX
        label_px = LABEL_ROW_PX[0]
        if n_behaviors:
            label_px = int(min(max(avail // n_behaviors - fixed, LABEL_ROW_PX[0]), LABEL_ROW_PX[1]))
        rows: list[Row] = []
        y = self.rows_top
        for b in range(n_behaviors):
            rows.append(Row("label", b, y, label_px))
            y += label_px
            if probabilities:
                y += SUBROW_GAP_PX
                rows.append(Row("probability", b, y, PROBABILITY_ROW_PX))
                y += PROBABILITY_ROW_PX
            if predictions:
                y += SUBROW_GAP_PX
                rows.append(Row("prediction", b, y, PREDICTION_ROW_PX))
                y += PREDICTION_ROW_PX
            y += GROUP_GAP_PX
        self.rows = rows
        self.rows_bottom = y - GROUP_GAP_PX if rows else self.rows_top
        self.overview_row_px = ov_row

    def height_for(self, label_px: int) -> int:
        """Widget height (px) that gives label rows of ``label_px`` with the current rows."""
        _, ov_h = self._overview_px()
        k = max(self._n_behaviors, 1)
        return MARGIN_PX + ov_h + 10 + self._axis_px + 3 + k * self._group_px(label_px) + MARGIN_PX

    def _overview_px(self) -> tuple[int, int]:
        """Overview row height and overview height."""
        k = max(self._n_behaviors, 1)
        ov_row = int(min(max(40 // k, 3), 6))
        return ov_row, ov_row * k

    def _group_px(self, label_px: int) -> int:
        px = label_px + GROUP_GAP_PX
        if self._probabilities:
            px += SUBROW_GAP_PX + PROBABILITY_ROW_PX
        if self._predictions:
            px += SUBROW_GAP_PX + PREDICTION_ROW_PX
        return px

    def row(self, behavior: int, kind: str) -> Row | None:
        """The detail row of ``kind`` ("label", "probability", "prediction"), or None if hidden."""
        for row in self.rows:
            if row.behavior == behavior and row.kind == kind:
                return row
        return None

    def row_at(self, y: float) -> Row | None:
        """The detail row under widget y, or None."""
        for row in self.rows:
            if row.y <= y < row.y + row.height:
                return row
        return None

    def area_at(self, x: float, y: float) -> str | None:
        """What is under widget point (x, y): "overview", "detail" (axis or rows) or None."""
        if x < self.x0 - 2 or x > self.x0 + self.width + 2:
            return None
        ov = self.overview
        if ov.y - 4 <= y <= ov.bottom + 4:
            return "overview"
        if self.axis.y <= y < self.rows_bottom:
            return "detail"
        return None

    # ------------------------------------------------------------------ frame <-> pixel
    def detail_range(self) -> tuple[int, int]:
        """Frames shown in the detail strip: (start, stop), stop exclusive."""
        span = self.clamped_span(self.span)
        return self.start, self.start + span

    def frame_to_detail_x(self, frame: float) -> float:
        """Widget x of a frame position in the detail strip (frame f spans f..f+1)."""
        start, stop = self.detail_range()
        return self.x0 + (frame - start) * self.width / max(stop - start, 1)

    def detail_x_to_frame(self, x: float) -> int:
        """Frame under widget x in the detail strip, clamped to the detail window."""
        start, stop = self.detail_range()
        span = max(stop - start, 1)
        frame = start + math.floor((x - self.x0) * span / self.width)
        return int(min(max(frame, start), max(stop - 1, start)))

    def frame_to_overview_x(self, frame: float) -> float:
        """Widget x of a frame position in the overview."""
        return self.x0 + frame * self.width / max(self.n_frames, 1)

    def overview_x_to_frame(self, x: float) -> int:
        """Frame under widget x in the overview, clamped to the video."""
        frame = math.floor((x - self.x0) * self.n_frames / self.width)
        return int(min(max(frame, 0), max(self.n_frames - 1, 0)))

    # ------------------------------------------------------------------ the detail window
    def clamped_span(self, span: int) -> int:
        """``span`` limited to MIN_SPAN (or the whole video, if shorter) .. the whole video."""
        if self.n_frames == 0:
            return max(span, 1)
        return int(min(max(span, min(MIN_SPAN, self.n_frames)), self.n_frames))

    def clamped_start(self, start: int, span: int) -> int:
        """``start`` limited so that a window of ``span`` frames stays inside the video."""
        return int(min(max(start, 0), max(self.n_frames - span, 0)))

    def set_window(self, start: int, span: int) -> bool:
        """Show ``span`` frames from ``start`` (both clamped); True if the window changed."""
        span = self.clamped_span(span)
        start = self.clamped_start(int(start), span)
        if (start, span) == (self.start, self.span):
            return False
        self.start, self.span = start, span
        return True

    def set_n_frames(self, n_frames: int, span: int, frame: int) -> None:
        """A video of ``n_frames``: a window of ``span`` frames from 0, or around ``frame``."""
        self.n_frames = n_frames
        self.span = self.clamped_span(span)
        self.start = 0
        if not 0 <= frame - self.start < self.span:
            self.start = self.clamped_start(frame - self.span // 2, self.span)

    def following_start(self, frame: int) -> int:
        """Where the window starts once ``frame``, outside it, is shown.

        Just past an end the window pages (the frame lands near the side it came from); further
        away it centres on the frame.
        """
        start, stop = self.detail_range()
        span = self.span
        if stop <= frame < stop + span // 2:
            return frame - span // 10
        if start - span // 2 <= frame < start:
            return frame - span + 1 + span // 10
        return frame - span // 2

    def rescaled_start(self, frame: int, span: int) -> int:
        """Where a window of ``span`` frames starts so ``frame`` keeps its place on screen.

        When ``frame`` is not in the window the new window centres on it.
        """
        start, stop = self.detail_range()
        if start <= frame < stop and self.span > 0:
            fraction = (frame - start) / self.span
            return round(frame - fraction * span)
        return frame - span // 2
