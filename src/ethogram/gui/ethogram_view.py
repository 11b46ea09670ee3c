"""The ethogram under the video: a whole-video overview above a zoomable detail strip.

Layout, top to bottom: the overview (one thin row per behavior over the whole video, a rectangle
for the detail window and the current-frame line), a time axis (frame numbers and m:ss), then per
behavior a label row, a probability row shaded by p (when probabilities are set) and a thin
thresholded-prediction row (when predictions are set). Behavior names sit on the left.

Every strip is reduced to one value per pixel column and drawn as one image
(:mod:`ethogram.gui.ethogram_render`), so cost does not grow with the number of bouts or frames;
moving the current frame inside the detail window only repaints two narrow columns.

Mouse: see :class:`EthogramView`. The widget never takes keyboard focus, so the window's shortcuts
keep working while the user drags here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ethogram.bouts import find_bouts
from ethogram.errors import LabelError
from ethogram.gui import palette
from ethogram.gui.ethogram_render import (
    Row,
    column_starts,
    darken,
    format_time,
    reduce_labels,
    reduce_max,
    render_rows,
    tick_step,
)

DEFAULT_SPAN = 600  # frames in the detail strip before the user zooms (20 s at 30 fps)
MIN_SPAN = 30  # the deepest zoom, in frames
EDGE_GRAB_PX = 4  # a press this close to a bout's edge moves the edge
DRAG_THRESHOLD_PX = 3  # a press that moves less than this is a click (seek), not a paint
WHEEL_ZOOM = 1.25  # detail span factor per wheel notch
AUTOSCROLL_MS = 50  # while a drag rests past an end of the detail strip, scroll this often
AUTOSCROLL_MAX_FRACTION = 0.05  # of the span per step, reached 100 px past the end

LABEL_ROW_PX = (16, 28)  # label row height: min, max (grows with the widget)
PROBABILITY_ROW_PX = 10
PREDICTION_ROW_PX = 6
SUBROW_GAP_PX = 1  # between a label row and its probability / prediction rows
GROUP_GAP_PX = 4  # between behaviors
MARGIN_PX = 6


def _qcolor(rgb: tuple[int, int, int], alpha: int = 255) -> QColor:
    return QColor(rgb[0], rgb[1], rgb[2], alpha)


def _to_qimage(pixels: np.ndarray) -> QImage:
    """(H, W) uint32 0xAARRGGBB -> an opaque QImage (the fast path onto the backing store)."""
    h, w = pixels.shape
    data = np.ascontiguousarray(pixels, dtype=np.uint32)
    return QImage(data.data, w, h, w * 4, QImage.Format.Format_RGB32).copy()


@dataclass
class _Drag:
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


class EthogramView(QWidget):
    """Overview + detail ethogram of one video; emits seeks and paint requests, never edits.

    Mouse bindings
    --------------
    - Overview: press or drag = seek to the frame under the cursor (scrub).
    - Detail, time axis / probability / prediction rows: press = seek, drag = scrub.
    - Detail, a behavior's label row: press = seek; then left-drag = fill (value 1), right-drag or
      Shift+left-drag = erase (value 0), Alt+drag or middle-drag = clear to unlabeled (-1).
      Pressing within 4 px of a bout's edge (the cursor becomes a resize arrow) and dragging moves
      that edge. A live preview is drawn during the drag; one ``paint_requested`` is emitted on
      release. The dragged frames are also sought, so the video shows the frame under the cursor.
    - Wheel: zoom the detail strip around the cursor (30 frames to the whole video);
      Shift+wheel or a horizontal wheel: pan it.

    Signals
    -------
    seek_requested(int)
        Frame the user clicked or scrubbed to.
    paint_requested(int, int, int, int)
        Behavior index, start, stop (exclusive), value (1 fill, 0 erase, -1 clear).
    detail_range_changed(int, int)
        The detail window moved or zoomed: start, stop (exclusive).
    """

    seek_requested = Signal(int)
    paint_requested = Signal(int, int, int, int)
    detail_range_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._names: list[str] = []
        self._colors: list[tuple[int, int, int]] = []
        self._fps: float | None = None
        self._labels: np.ndarray | None = None
        self._probs: np.ndarray | None = None
        self._preds: np.ndarray | None = None
        self._n_frames = 0
        self._frame = 0
        self._start = 0
        self._span = DEFAULT_SPAN
        self._wanted_span = DEFAULT_SPAN  # the user's zoom, kept across videos
        self._highlight: tuple[int, int] | None = None
        self._preview: tuple[int, int, int, int] | None = None
        self._drag: _Drag | None = None
        self._autoscroll = QTimer(self)
        self._autoscroll.setInterval(AUTOSCROLL_MS)
        self._autoscroll.timeout.connect(self._on_autoscroll_timer)
        self._edge_cursor = False
        self._small_font = QFont(self.font())
        self._small_font.setPointSizeF(max(self.font().pointSizeF() - 1.0, 6.0))
        self._tiny_font = QFont(self.font())
        self._tiny_font.setPointSizeF(max(self.font().pointSizeF() - 3.0, 5.0))
        # Geometry (widget coordinates), set by _relayout.
        self._x0 = 0
        self._width = 1
        self._overview = QRect()
        self._axis = QRect()
        self._rows: list[Row] = []
        self._rows_top = 0
        self._rows_bottom = 0
        self._ov_row_px = 1
        self._last_height_hint = -1
        # Cached strip images.
        self._overview_image: QImage | None = None
        self._detail_image: QImage | None = None
        self._relayout()

    # ------------------------------------------------------------------ public API
    def set_behaviors(
        self, names: list[str], colors: list[tuple[int, int, int]] | None = None
    ) -> None:
        """Name the behaviors (one row each); behavior 0 is the background.

        Parameters
        ----------
        names : list of str
            Behavior names, in the label array's column order.
        colors : list of (int, int, int), optional
            RGB per behavior; default :func:`ethogram.gui.palette.behavior_colors`.

        Labels, probabilities and predictions whose column count no longer fits are dropped until
        set again.
        """
        names = [str(n) for n in names]
        if colors is not None and len(colors) != len(names):
            raise LabelError(
                f"behavior colours: expected one per behavior ({len(names)}), found {len(colors)}"
            )
        self._names = names
        self._colors = (
            [tuple(int(c) for c in rgb) for rgb in colors]  # type: ignore[misc]
            if colors is not None
            else palette.behavior_colors(len(names))
        )
        for attr in ("_labels", "_probs", "_preds"):
            arr = getattr(self, attr)
            if arr is not None and arr.shape[1] != len(names):
                setattr(self, attr, None)
        self._update_n_frames()
        self._invalidate(layout=True)

    def set_fps(self, fps: float) -> None:
        """Frame rate, for the m:ss line of the time axis (0 or less hides it)."""
        self._fps = float(fps) if fps and fps > 0 else None
        self.update()

    def set_labels(self, values: np.ndarray) -> None:
        """Show the labels: (T, K) int8, 1 present, 0 absent, -1 unlabeled.

        Called after every edit; it ends any drag preview. A new frame count (another video)
        drops probabilities and predictions of the previous one.
        """
        values = self._checked(values, "labels", np.int8)
        if self._labels is None or values.shape[0] != self._labels.shape[0]:
            for attr in ("_probs", "_preds"):
                arr = getattr(self, attr)
                if arr is not None and arr.shape[0] != values.shape[0]:
                    setattr(self, attr, None)
        self._labels = values
        self._preview = None
        self._update_n_frames()
        self._invalidate(layout=True)

    def set_probabilities(self, probs: np.ndarray | None) -> None:
        """Shade a probability row under each label row: (T, K) floats in [0, 1], or None."""
        self._probs = None if probs is None else self._checked(probs, "probabilities", np.float32)
        self._update_n_frames()
        self._invalidate(layout=True)

    def set_predictions(self, predicted: np.ndarray | None) -> None:
        """Show thresholded predictions in a thin row per behavior: (T, K) 0/1, or None.

        Cheap enough to call on every move of a threshold slider: only the visible window of the
        detail strip is redrawn.
        """
        self._preds = (
            None if predicted is None else self._checked(predicted, "predictions", np.float32)
        )
        self._update_n_frames()
        self._invalidate(layout=True)

    def set_current_frame(self, frame: int) -> None:
        """Move the current-frame line; the detail strip follows when the frame leaves it.

        Inside the window this repaints only two narrow columns (cheap at playback rates). Past
        an edge of the window the window pages (the frame lands near the side it came from);
        a jump further away centres the window on the frame.
        """
        if self._n_frames == 0:
            self._frame = max(int(frame), 0)
            return
        frame = min(max(int(frame), 0), self._n_frames - 1)
        if frame == self._frame:
            return
        old = self._frame
        self._frame = frame
        start, stop = self.detail_range()
        if start <= frame < stop or self._drag is not None:
            self.update(self._cursor_region(old) | self._cursor_region(frame))
            return
        span = self._span
        if stop <= frame < stop + span // 2:
            new_start = frame - span // 10
        elif start - span // 2 <= frame < start:
            new_start = frame - span + 1 + span // 10
        else:
            new_start = frame - span // 2
        self._set_window(new_start, span)

    def set_detail_span(self, n_frames: int) -> None:
        """Show ``n_frames`` frames in the detail strip (clamped to 30..whole video).

        The current frame keeps its place on screen when it is in view; otherwise the window
        centres on it.
        """
        start, stop = self.detail_range()
        self._wanted_span = max(int(n_frames), 1)
        span = self._clamped_span(self._wanted_span)
        if start <= self._frame < stop and self._span > 0:
            fraction = (self._frame - start) / self._span
            new_start = round(self._frame - fraction * span)
        else:
            new_start = self._frame - span // 2
        self._set_window(new_start, span)

    def detail_range(self) -> tuple[int, int]:
        """Frames shown in the detail strip: (start, stop), stop exclusive."""
        span = self._clamped_span(self._span)
        return self._start, self._start + span

    def set_highlight(self, start: int, stop: int | None) -> None:
        """Highlight frames [start, stop) on both strips (e.g. a selection); stop None clears."""
        if stop is None:
            self._highlight = None
        else:
            lo, hi = sorted((int(start), int(stop)))
            self._highlight = (lo, hi)
        self.update()

    # ------------------------------------------------------------------ geometry (public for tests)
    def frame_to_detail_x(self, frame: float) -> float:
        """Widget x of a frame position in the detail strip (frame f spans f..f+1)."""
        start, stop = self.detail_range()
        return self._x0 + (frame - start) * self._width / max(stop - start, 1)

    def detail_x_to_frame(self, x: float) -> int:
        """Frame under widget x in the detail strip, clamped to the detail window."""
        start, stop = self.detail_range()
        span = max(stop - start, 1)
        frame = start + math.floor((x - self._x0) * span / self._width)
        return int(min(max(frame, start), max(stop - 1, start)))

    def frame_to_overview_x(self, frame: float) -> float:
        """Widget x of a frame position in the overview."""
        return self._x0 + frame * self._width / max(self._n_frames, 1)

    def overview_x_to_frame(self, x: float) -> int:
        """Frame under widget x in the overview, clamped to the video."""
        frame = math.floor((x - self._x0) * self._n_frames / self._width)
        return int(min(max(frame, 0), max(self._n_frames - 1, 0)))

    def overview_rect(self) -> QRect:
        """Where the overview strip is drawn."""
        return QRect(self._overview)

    def axis_rect(self) -> QRect:
        """Where the detail strip's time axis is drawn."""
        return QRect(self._axis)

    def row_rect(self, behavior: int, kind: str = "label") -> QRect:
        """Where a behavior's row of ``kind`` ("label", "probability", "prediction") is drawn.

        An empty rectangle when that row is not shown.
        """
        for row in self._rows:
            if row.behavior == behavior and row.kind == kind:
                return QRect(self._x0, row.y, self._width, row.height)
        return QRect()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(900, self._height_for(label_px=22))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(240, self._height_for(label_px=LABEL_ROW_PX[0]))

    # ------------------------------------------------------------------ state helpers
    def _checked(self, values: np.ndarray, what: str, dtype: type) -> np.ndarray:
        arr = np.array(values, dtype=dtype, copy=True)
        k = len(self._names)
        if arr.ndim != 2 or (k and arr.shape[1] != k):
            raise LabelError(
                f"ethogram {what}: expected an array of shape (frames, {k or 'K'}), "
                f"found shape {tuple(arr.shape)}"
            )
        if what != "labels" and self._labels is not None:
            if arr.shape[0] != self._labels.shape[0]:
                raise LabelError(
                    f"ethogram {what}: expected {self._labels.shape[0]} frames (as the labels), "
                    f"found {arr.shape[0]}"
                )
        if not self._names:
            self._names = [f"behavior {i}" for i in range(arr.shape[1])]
            self._colors = palette.behavior_colors(arr.shape[1])
        return arr

    def _update_n_frames(self) -> None:
        n = 0
        for arr in (self._labels, self._probs, self._preds):
            if arr is not None:
                n = arr.shape[0]
                break
        if n != self._n_frames:
            self._n_frames = n
            self._span = self._clamped_span(self._wanted_span)
            self._start = 0
            self._frame = min(self._frame, max(n - 1, 0))
            if not 0 <= self._frame - self._start < self._span:
                self._start = self._clamped_start(self._frame - self._span // 2, self._span)

    def _clamped_span(self, span: int) -> int:
        if self._n_frames == 0:
            return max(span, 1)
        return int(min(max(span, min(MIN_SPAN, self._n_frames)), self._n_frames))

    def _clamped_start(self, start: int, span: int) -> int:
        return int(min(max(start, 0), max(self._n_frames - span, 0)))

    def _set_window(self, start: int, span: int) -> None:
        span = self._clamped_span(span)
        start = self._clamped_start(int(start), span)
        if (start, span) == (self._start, self._span):
            return
        self._start, self._span = start, span
        self._invalidate(overview=False)
        self.detail_range_changed.emit(start, start + span)

    def _invalidate(self, layout: bool = False, overview: bool = True) -> None:
        if layout:
            self._relayout()
        if overview:
            self._overview_image = None
        self._detail_image = None
        self.update()

    # ------------------------------------------------------------------ layout
    def _group_px(self, label_px: int) -> int:
        px = label_px + GROUP_GAP_PX
        if self._probs is not None:
            px += SUBROW_GAP_PX + PROBABILITY_ROW_PX
        if self._preds is not None:
            px += SUBROW_GAP_PX + PREDICTION_ROW_PX
        return px

    def _header_px(self) -> tuple[int, int, int]:
        """Overview row height, overview height and axis height."""
        k = max(len(self._names), 1)
        ov_row = int(min(max(40 // k, 3), 6))
        axis_h = 2 * QFontMetrics(self._small_font).height() + 6
        return ov_row, ov_row * k, axis_h

    def _height_for(self, label_px: int) -> int:
        _, ov_h, axis_h = self._header_px()
        k = max(len(self._names), 1)
        return MARGIN_PX + ov_h + 10 + axis_h + 3 + k * self._group_px(label_px) + MARGIN_PX

    def _relayout(self) -> None:
        fm = QFontMetrics(self.font())
        widest = max((fm.horizontalAdvance(n) for n in self._names), default=40)
        gutter = int(min(max(widest + 30, 84), 200))
        self._x0 = gutter
        self._width = max(self.width() - gutter - MARGIN_PX, 10)
        ov_row, ov_h, axis_h = self._header_px()
        self._overview = QRect(self._x0, MARGIN_PX, self._width, ov_h)
        self._axis = QRect(self._x0, self._overview.bottom() + 11, self._width, axis_h)
        self._rows_top = self._axis.bottom() + 4
        k = len(self._names)
        fixed = self._group_px(0)
        avail = self.height() - self._rows_top - MARGIN_PX
        label_px = LABEL_ROW_PX[0]
        if k:
            label_px = int(min(max(avail // k - fixed, LABEL_ROW_PX[0]), LABEL_ROW_PX[1]))
        rows: list[Row] = []
        y = self._rows_top
        for b in range(k):
            rows.append(Row("label", b, y, label_px))
            y += label_px
            if self._probs is not None:
                y += SUBROW_GAP_PX
                rows.append(Row("probability", b, y, PROBABILITY_ROW_PX))
                y += PROBABILITY_ROW_PX
            if self._preds is not None:
                y += SUBROW_GAP_PX
                rows.append(Row("prediction", b, y, PREDICTION_ROW_PX))
                y += PREDICTION_ROW_PX
            y += GROUP_GAP_PX
        self._rows = rows
        self._rows_bottom = y - GROUP_GAP_PX if rows else self._rows_top
        self._ov_row_px = ov_row
        hint = self._height_for(label_px=22)
        if hint != self._last_height_hint:
            # Only when the rows change: set_labels runs this after every edit.
            self._last_height_hint = hint
            self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        self._invalidate(layout=True)
        super().resizeEvent(event)

    # ------------------------------------------------------------------ rendering
    def _render_overview(self) -> QImage:
        k, row_h = len(self._names), self._ov_row_px
        # With predictions, the lower third of each behavior's row shows them (as in the detail).
        pred_h = max(row_h // 3, 1) if self._preds is not None and row_h >= 3 else 0
        rows: list[Row] = []
        for b in range(k):
            rows.append(Row("label", b, b * row_h, row_h - pred_h))
            if pred_h:
                rows.append(Row("prediction", b, (b + 1) * row_h - pred_h, pred_h))
        h = max(self._overview.height(), 1)
        starts = column_starts(self._n_frames, self._width)
        labels = preds = None
        if self._labels is not None and self._n_frames:
            labels = reduce_labels(self._labels, starts)
        if pred_h and self._n_frames:
            preds = reduce_max(self._preds, starts)
        pixels = render_rows(
            rows,
            h,
            self._width,
            self._colors,
            labels,
            predictions=preds,
            hatch_origin=(self._overview.y(), self._x0),
        )
        return _to_qimage(pixels)

    def _render_detail(self) -> QImage:
        start, stop = self.detail_range()
        starts = column_starts(stop - start, self._width)
        labels = probs = preds = None
        if self._labels is not None and self._n_frames:
            window = self._labels[start:stop]
            if self._preview is not None:
                b, lo, hi, value = self._preview
                window = window.copy()
                window[max(lo - start, 0) : max(hi - start, 0), b] = value
            labels = reduce_labels(window, starts)
        if self._probs is not None:
            probs = reduce_max(self._probs[start:stop], starts)
        if self._preds is not None:
            preds = reduce_max(self._preds[start:stop], starts)
        h = max(self._rows_bottom - self._rows_top, 1)
        rows = [Row(r.kind, r.behavior, r.y - self._rows_top, r.height) for r in self._rows]
        pixels = render_rows(
            rows,
            h,
            self._width,
            self._colors,
            labels,
            probs,
            preds,
            hatch_origin=(self._rows_top, self._x0),
        )
        if self._width / max(stop - start, 1) >= 8:
            # Zoomed in far enough to see single frames: faint lines between them.
            boundaries = np.flatnonzero(np.diff(starts) > 0) + 1
            for row in rows:
                band = pixels[row.y : row.y + row.height, boundaries]
                pixels[row.y : row.y + row.height, boundaries] = darken(band)
        return _to_qimage(pixels)

    def _cursor_region(self, frame: int) -> QRegion:
        x0 = self.frame_to_detail_x(frame)
        x1 = self.frame_to_detail_x(frame + 1)
        detail = QRect(
            int(x0) - 3, self._axis.top(), int(x1 - x0) + 7, self._rows_bottom - self._axis.top()
        )
        ox = int(self.frame_to_overview_x(frame + 0.5))
        overview = QRect(ox - 3, self._overview.top() - 2, 7, self._overview.height() + 4)
        return QRegion(detail) | QRegion(overview)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setClipRegion(event.region())
        p.fillRect(self.rect(), _qcolor(palette.PANEL_RGB))
        if not self._names or self._n_frames == 0:
            p.setPen(_qcolor(palette.TEXT_RGB))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no video")
            return
        if self._overview_image is None:
            self._overview_image = self._render_overview()
        if self._detail_image is None:
            self._detail_image = self._render_detail()
        self._paint_gutter(p)
        p.drawImage(self._overview.topLeft(), self._overview_image)
        self._paint_axis(p)
        p.drawImage(self._x0, self._rows_top, self._detail_image)
        self._paint_overlays(p)
        self._paint_cursor(p)
        p.end()

    def _paint_gutter(self, p: QPainter) -> None:
        fm = QFontMetrics(self.font())
        text_w = self._x0 - 26
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row in self._rows:
            if row.kind != "label":
                p.setFont(self._tiny_font)
                p.setPen(_qcolor((110, 110, 110)))
                caption = "p" if row.kind == "probability" else "pred"
                p.drawText(QRect(0, row.y - 3, self._x0 - 4, row.height + 6), right, caption)
                p.setFont(self.font())
                continue
            y_mid = row.y + row.height // 2
            p.fillRect(QRect(6, y_mid - 5, 10, 10), _qcolor(self._colors[row.behavior]))
            p.setPen(_qcolor(palette.TEXT_RGB))
            name = fm.elidedText(self._names[row.behavior], Qt.TextElideMode.ElideRight, text_w)
            p.drawText(
                QRect(20, row.y, text_w + 4, row.height),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                name,
            )
        p.setFont(self._small_font)
        p.setPen(_qcolor((90, 90, 90)))
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        p.drawText(
            QRect(6, self._overview.y() - 2, self._x0 - 8, self._overview.height() + 4),
            left,
            "whole video",
        )
        line_h = QFontMetrics(self._small_font).height()
        p.drawText(QRect(6, self._axis.y() + 2, self._x0 - 8, line_h), left, "frame")
        if self._fps:
            p.drawText(QRect(6, self._axis.y() + 2 + line_h, self._x0 - 8, line_h), left, "time")
        p.setFont(self.font())

    def _paint_axis(self, p: QPainter) -> None:
        start, stop = self.detail_range()
        axis = self._axis
        p.fillRect(axis, _qcolor((242, 242, 242)))
        step = tick_step(stop - start, self._width, self._fps)
        fractional = bool(self._fps) and step < self._fps  # type: ignore[operator]
        fm = QFontMetrics(self._small_font)
        line_h = fm.height()
        p.setFont(self._small_font)
        first = -(-start // step) * step
        for tick in range(first, stop + 1, step):
            x = round(self.frame_to_detail_x(tick))
            p.setPen(_qcolor(palette.GRID_RGB))
            p.drawLine(x, axis.top(), x, axis.bottom())
            p.setPen(_qcolor(palette.TEXT_RGB))
            texts = [str(tick)]
            if self._fps:
                texts.append(format_time(tick, self._fps, fractional))
            width = max(fm.horizontalAdvance(t) for t in texts)
            if x + 3 + width > axis.right():
                continue
            for i, text in enumerate(texts):
                p.drawText(x + 3, axis.top() + 2 + i * line_h + fm.ascent(), text)
        p.setFont(self.font())

    def _paint_overlays(self, p: QPainter) -> None:
        # Detail window on the overview.
        start, stop = self.detail_range()
        ox0 = self.frame_to_overview_x(start)
        ox1 = max(self.frame_to_overview_x(stop), ox0 + 3)
        ov = self._overview
        window = QRectF(ox0, ov.top() - 2.5, ox1 - ox0, ov.height() + 5)
        p.fillRect(window, QColor(0, 90, 200, 40))
        p.setPen(QPen(QColor(0, 70, 170), 1.5))
        p.drawRect(window)
        if self._highlight is not None:
            lo, hi = self._highlight
            fill = QColor(0, 120, 215, 55)
            hx0, hx1 = self.frame_to_overview_x(lo), self.frame_to_overview_x(hi)
            p.fillRect(QRectF(hx0, ov.top(), max(hx1 - hx0, 1.0), ov.height()), fill)
            dx0 = max(self.frame_to_detail_x(lo), self._x0)
            dx1 = min(self.frame_to_detail_x(hi), self._x0 + self._width)
            if dx1 > dx0:
                top = self._axis.top()
                p.fillRect(QRectF(dx0, top, dx1 - dx0, self._rows_bottom - top), fill)

    def _paint_cursor(self, p: QPainter) -> None:
        start, stop = self.detail_range()
        red = _qcolor(palette.CURSOR_RGB)
        ox = self.frame_to_overview_x(self._frame + 0.5)
        ov = self._overview
        p.setPen(QPen(red, 2))
        p.drawLine(QPointF(ox, ov.top() - 2), QPointF(ox, ov.bottom() + 2))
        if not start <= self._frame < stop:
            return
        x0 = self.frame_to_detail_x(self._frame)
        x1 = self.frame_to_detail_x(self._frame + 1)
        top, bottom = self._axis.top(), self._rows_bottom
        if x1 - x0 >= 4:
            p.setPen(QPen(red, 1.5))
            p.drawRect(QRectF(x0, top, x1 - x0, bottom - top))
        else:
            xm = (x0 + x1) / 2
            p.setPen(QPen(red, 2))
            p.drawLine(QPointF(xm, top), QPointF(xm, bottom))

    # ------------------------------------------------------------------ mouse
    def _row_at(self, y: float) -> Row | None:
        for row in self._rows:
            if row.y <= y < row.y + row.height:
                return row
        return None

    def _area_at(self, x: float, y: float) -> str | None:
        if x < self._x0 - 2 or x > self._x0 + self._width + 2:
            return None
        ov = self._overview
        if ov.top() - 4 <= y <= ov.bottom() + 4:
            return "overview"
        if self._axis.top() <= y < self._rows_bottom:
            return "detail"
        return None

    def _edge_near(self, behavior: int, x: float) -> tuple[int, str, int] | None:
        """The bout edge of a label row within EDGE_GRAB_PX of x: (boundary, side, far end)."""
        if self._labels is None:
            return None
        start, stop = self.detail_range()
        per_px = (stop - start) / self._width
        lo = max(math.floor(start + (x - EDGE_GRAB_PX - self._x0) * per_px), start)
        hi = min(math.ceil(start + (x + EDGE_GRAB_PX - self._x0) * per_px) + 1, stop)
        column = self._labels[:, behavior] == 1
        boundaries = np.arange(lo, hi + 1)
        before = np.zeros(boundaries.size, dtype=bool)
        after = np.zeros(boundaries.size, dtype=bool)
        has_before = boundaries > 0
        has_after = boundaries < self._n_frames
        before[has_before] = column[boundaries[has_before] - 1]
        after[has_after] = column[boundaries[has_after]]
        edges = boundaries[before != after]
        if edges.size == 0:
            return None
        dist = np.abs(self._x0 + (edges - start) / per_px - x)
        if dist.min() > EDGE_GRAB_PX:
            return None
        best = (float(dist.min()), int(edges[int(np.argmin(dist))]))
        boundary = best[1]
        bouts = find_bouts(column)
        if boundary > 0 and column[boundary - 1]:
            bout = bouts[bouts[:, 1] == boundary][0]
            return boundary, "right", int(bout[0])
        bout = bouts[bouts[:, 0] == boundary][0]
        return boundary, "left", int(bout[1])

    def _edge_op(self, drag: _Drag, x: float) -> tuple[int, int, int, int] | None:
        start, stop = self.detail_range()
        per_px = (stop - start) / self._width
        new = int(round(start + (x - self._x0) * per_px))
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

    def _seek(self, frame: int) -> None:
        if self._drag is not None:
            if frame == self._drag.last_seek:
                return
            self._drag.last_seek = frame
        self.seek_requested.emit(int(frame))

    def _set_preview(self, op: tuple[int, int, int, int] | None) -> None:
        if op != self._preview:
            self._preview = op
            self._detail_image = None
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._drag is not None or self._n_frames == 0:
            event.accept()
            return
        x, y = event.position().x(), event.position().y()
        area = self._area_at(x, y)
        button, mods = event.button(), event.modifiers()
        if area is None:
            event.ignore()
            return
        event.accept()
        if area == "overview":
            self._drag = _Drag("overview", button, x, y)
            self._seek(self.overview_x_to_frame(x))
            return
        frame = self.detail_x_to_frame(x)
        row = self._row_at(y)
        if row is None or row.kind != "label" or self._labels is None:
            self._drag = _Drag("scrub", button, x, y)
            self._seek(frame)
            return
        plain_left = button == Qt.MouseButton.LeftButton and not (
            mods
            & (
                Qt.KeyboardModifier.ShiftModifier
                | Qt.KeyboardModifier.AltModifier
                | Qt.KeyboardModifier.ControlModifier
            )
        )
        edge = self._edge_near(row.behavior, x) if plain_left else None
        if edge is not None:
            boundary, side, limit = edge
            self._drag = _Drag(
                "edge", button, x, y, row.behavior, boundary, edge_side=side, limit=limit
            )
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            if mods & Qt.KeyboardModifier.AltModifier or button == Qt.MouseButton.MiddleButton:
                value = -1
            elif button == Qt.MouseButton.RightButton or mods & Qt.KeyboardModifier.ShiftModifier:
                value = 0
            else:
                value = 1
            self._drag = _Drag("paint", button, x, y, row.behavior, frame, value)
        self._seek(frame)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        x, y = event.position().x(), event.position().y()
        drag = self._drag
        if drag is None:
            self._update_hover_cursor(x, y)
            return
        event.accept()
        if drag.kind == "overview":
            self._seek(self.overview_x_to_frame(x))
            return
        if drag.kind == "paint" and not drag.moved:
            drag.moved = abs(x - drag.press_x) + abs(y - drag.press_y) >= DRAG_THRESHOLD_PX
        drag.last_x = x
        if drag.kind != "paint" or drag.moved:
            # Past either end of the strip, the window scrolls: one step per move, and on a
            # timer while the mouse rests there.
            if self._autoscroll_step(x):
                self._autoscroll.start()
            else:
                self._autoscroll.stop()
        self._drag_detail_to(x)

    def _autoscroll_step(self, x: float) -> bool:
        if x < self._x0:
            direction, distance = -1, self._x0 - x
        elif x > self._x0 + self._width:
            direction, distance = 1, x - self._x0 - self._width
        else:
            return False
        start, stop = self.detail_range()
        span = stop - start
        step = max(1, round(span * AUTOSCROLL_MAX_FRACTION * min(distance, 100.0) / 100.0))
        self._set_window(start + direction * step, span)
        return True

    def _on_autoscroll_timer(self) -> None:
        drag = self._drag
        if drag is None or drag.kind == "overview" or not self._autoscroll_step(drag.last_x):
            self._autoscroll.stop()
            return
        self._drag_detail_to(drag.last_x)

    def _drag_detail_to(self, x: float) -> None:
        """Update the current detail drag (scrub, paint or edge) for the mouse at widget x."""
        drag = self._drag
        if drag is None:
            return
        frame = self.detail_x_to_frame(x)
        if drag.kind == "paint":
            if drag.moved:
                lo, hi = sorted((drag.anchor, frame))
                self._set_preview((drag.behavior, lo, hi + 1, drag.value))
        elif drag.kind == "edge":
            drag.moved = True
            self._set_preview(self._edge_op(drag, x))
        self._seek(frame)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        drag = self._drag
        if drag is None or event.button() != drag.button:
            event.ignore()
            return
        event.accept()
        self._autoscroll.stop()
        op: tuple[int, int, int, int] | None = None
        if drag.kind == "paint" and drag.moved:
            frame = self.detail_x_to_frame(event.position().x())
            lo, hi = sorted((drag.anchor, frame))
            op = (drag.behavior, lo, hi + 1, drag.value)
        elif drag.kind == "edge":
            op = self._edge_op(drag, event.position().x())
        self._drag = None
        self._set_preview(None)
        self._update_hover_cursor(event.position().x(), event.position().y())
        if op is not None:
            self.paint_requested.emit(*op)

    def _update_hover_cursor(self, x: float, y: float) -> None:
        on_edge = False
        if self._area_at(x, y) == "detail":
            row = self._row_at(y)
            on_edge = (
                row is not None
                and row.kind == "label"
                and (self._edge_near(row.behavior, x) is not None)
            )
        if on_edge != self._edge_cursor:
            self._edge_cursor = on_edge
            if on_edge:
                self.setCursor(Qt.CursorShape.SizeHorCursor)
            else:
                self.unsetCursor()

    def describe_at(self, x: float, y: float) -> str:
        """What is under widget point (x, y): frame, time and, on a row, its values ("" if none).

        Shown as the tooltip.
        """
        area = self._area_at(x, y)
        if area is None:
            return ""
        frame = self.overview_x_to_frame(x) if area == "overview" else self.detail_x_to_frame(x)
        text = f"frame {frame}"
        if self._fps:
            text += f"  ({format_time(frame, self._fps, fractional=True)})"
        if area == "overview":
            k = int((y - self._overview.top()) // max(self._ov_row_px, 1))
            row = Row("label", k, 0, 0) if 0 <= k < len(self._names) else None
        else:
            row = self._row_at(y)
        if row is None:
            return text
        b = row.behavior
        parts = [self._names[b]]
        if self._labels is not None:
            value = int(self._labels[frame, b])
            parts.append({1: "labeled present", 0: "labeled absent"}.get(value, "unlabeled"))
        if self._probs is not None:
            parts.append(f"p = {self._probs[frame, b]:.2f}")
        if self._preds is not None:
            parts.append("predicted" if self._preds[frame, b] > 0 else "not predicted")
        return text + "\n" + ", ".join(parts)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.describe_at(event.pos().x(), event.pos().y())
            if text and self._drag is None:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self._drag is None and self._edge_cursor:
            self._edge_cursor = False
            self.unsetCursor()
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        if self._n_frames == 0:
            event.ignore()
            return
        delta = event.angleDelta()
        horizontal = delta.x() != 0 and delta.y() == 0
        notches = (delta.x() if horizontal else delta.y()) / 120.0
        if notches == 0:
            event.ignore()
            return
        event.accept()
        start, stop = self.detail_range()
        span = stop - start
        if horizontal or event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._set_window(start - round(notches * span / 10), span)
            return
        x = event.position().x()
        if self._area_at(x, event.position().y()) == "detail":
            anchor = start + (x - self._x0) * span / self._width
        else:
            anchor = start + span / 2
        new_span = self._clamped_span(round(span * WHEEL_ZOOM ** (-notches)))
        if new_span == span and notches > 0:
            new_span = self._clamped_span(span - 1)
        new_start = round(anchor - (anchor - start) * new_span / span)
        self._wanted_span = new_span
        self._set_window(new_start, new_span)
