"""The ethogram under the video: a whole-video overview above a zoomable detail strip.

Layout, top to bottom: the overview (one thin row per behavior over the whole video, a rectangle
for the detail window and the current-frame line), a time axis (frame numbers and m:ss), then per
behavior a label row, a probability row shaded by p (when probabilities are set) and a thin
thresholded-prediction row (when predictions are set). Behavior names sit on the left.

Every strip is reduced to one value per pixel column and drawn as one image
(:mod:`ethogram.gui.ethogram_render`, :mod:`ethogram.gui.ethogram_paint`), so cost does not grow
with the number of bouts or frames; moving the current frame inside the detail window only
repaints two narrow columns. Layout and frame <-> pixel mapping live in
:mod:`ethogram.gui.ethogram_geometry`, what the mouse means in :mod:`ethogram.gui.ethogram_mouse`;
this module holds the widget: its state, its public API and its Qt events.

Mouse: see :class:`EthogramView`. The widget never takes keyboard focus, so the window's shortcuts
keep working while the user drags here.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFontMetrics,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ethogram.errors import LabelError
from ethogram.gui import palette
from ethogram.gui.ethogram_geometry import DEFAULT_SPAN, LABEL_ROW_PX, EthogramGeometry
from ethogram.gui.ethogram_mouse import (
    AUTOSCROLL_MS,
    Drag,
    LabelOp,
    autoscroll_window,
    describe_point,
    drag_frame,
    drag_op,
    over_edge,
    start_drag,
    wheel_window,
)
from ethogram.gui.ethogram_paint import (
    StripFonts,
    cursor_region,
    paint_axis,
    paint_cursor,
    paint_gutter,
    paint_overlays,
    qcolor,
    qrect,
    render_detail,
    render_overview,
)


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
        self._frame = 0
        self._wanted_span = DEFAULT_SPAN  # the user's zoom, kept across videos
        self._highlight: tuple[int, int] | None = None
        self._preview: LabelOp | None = None
        self._drag: Drag | None = None
        self._autoscroll = QTimer(self)
        self._autoscroll.setInterval(AUTOSCROLL_MS)
        self._autoscroll.timeout.connect(self._on_autoscroll_timer)
        self._edge_cursor = False
        self._fonts = StripFonts.for_font(self.font())
        # Layout (widget coordinates) and the detail window; laid out by _relayout.
        self._geo = EthogramGeometry()
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
        if self._geo.n_frames == 0:
            self._frame = max(int(frame), 0)
            return
        frame = min(max(int(frame), 0), self._geo.n_frames - 1)
        if frame == self._frame:
            return
        old = self._frame
        self._frame = frame
        start, stop = self.detail_range()
        if start <= frame < stop or self._drag is not None:
            self.update(cursor_region(self._geo, old) | cursor_region(self._geo, frame))
            return
        self._set_window(self._geo.following_start(frame), self._geo.span)

    def set_detail_span(self, n_frames: int) -> None:
        """Show ``n_frames`` frames in the detail strip (clamped to 30..whole video).

        The current frame keeps its place on screen when it is in view; otherwise the window
        centres on it.
        """
        self._wanted_span = max(int(n_frames), 1)
        span = self._geo.clamped_span(self._wanted_span)
        self._set_window(self._geo.rescaled_start(self._frame, span), span)

    def detail_range(self) -> tuple[int, int]:
        """Frames shown in the detail strip: (start, stop), stop exclusive."""
        return self._geo.detail_range()

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
        return self._geo.frame_to_detail_x(frame)

    def detail_x_to_frame(self, x: float) -> int:
        """Frame under widget x in the detail strip, clamped to the detail window."""
        return self._geo.detail_x_to_frame(x)

    def frame_to_overview_x(self, frame: float) -> float:
        """Widget x of a frame position in the overview."""
        return self._geo.frame_to_overview_x(frame)

    def overview_x_to_frame(self, x: float) -> int:
        """Frame under widget x in the overview, clamped to the video."""
        return self._geo.overview_x_to_frame(x)

    def overview_rect(self) -> QRect:
        """Where the overview strip is drawn."""
        return qrect(self._geo.overview)

    def axis_rect(self) -> QRect:
        """Where the detail strip's time axis is drawn."""
        return qrect(self._geo.axis)

    def row_rect(self, behavior: int, kind: str = "label") -> QRect:
        """Where a behavior's row of ``kind`` ("label", "probability", "prediction") is drawn.

        An empty rectangle when that row is not shown.
        """
        row = self._geo.row(behavior, kind)
        if row is None:
            return QRect()
        return QRect(self._geo.x0, row.y, self._geo.width, row.height)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(900, self._geo.height_for(label_px=22))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(240, self._geo.height_for(label_px=LABEL_ROW_PX[0]))

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
        if n != self._geo.n_frames:
            self._frame = min(self._frame, max(n - 1, 0))
            self._geo.set_n_frames(n, self._wanted_span, self._frame)

    def _set_window(self, start: int, span: int) -> None:
        if not self._geo.set_window(start, span):
            return
        self._invalidate(overview=False)
        self.detail_range_changed.emit(*self._geo.detail_range())

    def _invalidate(self, layout: bool = False, overview: bool = True) -> None:
        if layout:
            self._relayout()
        if overview:
            self._overview_image = None
        self._detail_image = None
        self.update()

    def _relayout(self) -> None:
        fm = QFontMetrics(self.font())
        widest = max((fm.horizontalAdvance(n) for n in self._names), default=40)
        gutter = int(min(max(widest + 30, 84), 200))
        axis_px = 2 * QFontMetrics(self._fonts.small).height() + 6
        self._geo.layout(
            (self.width(), self.height()),
            gutter,
            axis_px,
            len(self._names),
            probabilities=self._probs is not None,
            predictions=self._preds is not None,
        )
        hint = self._geo.height_for(label_px=22)
        if hint != self._last_height_hint:
            # Only when the rows change: set_labels runs this after every edit.
            self._last_height_hint = hint
            self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        self._invalidate(layout=True)
        super().resizeEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setClipRegion(event.region())
        p.fillRect(self.rect(), qcolor(palette.PANEL_RGB))
        geo = self._geo
        if not self._names or geo.n_frames == 0:
            p.setPen(qcolor(palette.TEXT_RGB))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no video")
            return
        if self._overview_image is None:
            self._overview_image = render_overview(geo, self._colors, self._labels, self._preds)
        if self._detail_image is None:
            self._detail_image = render_detail(
                geo, self._colors, self._labels, self._probs, self._preds, self._preview
            )
        fonts = self._fonts.with_normal(self.font())
        paint_gutter(p, geo, self._names, self._colors, fonts, self._fps)
        p.drawImage(geo.overview.x, geo.overview.y, self._overview_image)
        paint_axis(p, geo, fonts, self._fps)
        p.drawImage(geo.x0, geo.rows_top, self._detail_image)
        paint_overlays(p, geo, self._highlight)
        paint_cursor(p, geo, self._frame)
        p.end()

    # ------------------------------------------------------------------ mouse
    def _seek(self, frame: int) -> None:
        if self._drag is not None:
            if frame == self._drag.last_seek:
                return
            self._drag.last_seek = frame
        self.seek_requested.emit(int(frame))

    def _set_preview(self, op: LabelOp | None) -> None:
        if op != self._preview:
            self._preview = op
            self._detail_image = None
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._drag is not None or self._geo.n_frames == 0:
            event.accept()
            return
        x, y = event.position().x(), event.position().y()
        drag = start_drag(self._geo, self._labels, x, y, event.button(), event.modifiers())
        if drag is None:
            event.ignore()
            return
        event.accept()
        self._drag = drag
        if drag.kind == "edge":
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        self._seek(drag_frame(self._geo, drag, x))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        x, y = event.position().x(), event.position().y()
        drag = self._drag
        if drag is None:
            self._update_hover_cursor(x, y)
            return
        event.accept()
        if drag.kind == "overview":
            self._seek(self._geo.overview_x_to_frame(x))
            return
        if drag.track(x, y):
            # Past either end of the strip, the window scrolls: one step per move, and on a
            # timer while the mouse rests there.
            if self._autoscroll_step(x):
                self._autoscroll.start()
            else:
                self._autoscroll.stop()
        self._drag_detail_to(x)

    def _autoscroll_step(self, x: float) -> bool:
        window = autoscroll_window(self._geo, x)
        if window is None:
            return False
        self._set_window(*window)
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
        self._set_preview(drag_op(self._geo, drag, x))
        self._seek(self._geo.detail_x_to_frame(x))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        drag = self._drag
        if drag is None or event.button() != drag.button:
            event.ignore()
            return
        event.accept()
        self._autoscroll.stop()
        op = drag_op(self._geo, drag, event.position().x())
        self._drag = None
        self._set_preview(None)
        self._update_hover_cursor(event.position().x(), event.position().y())
        if op is not None:
            self.paint_requested.emit(*op)

    def _update_hover_cursor(self, x: float, y: float) -> None:
        on_edge = over_edge(self._geo, self._labels, x, y)
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
        return describe_point(
            self._geo, x, y, self._names, self._fps, self._labels, self._probs, self._preds
        )

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
        if self._geo.n_frames == 0:
            event.ignore()
            return
        delta = event.angleDelta()
        horizontal = delta.x() != 0 and delta.y() == 0
        notches = (delta.x() if horizontal else delta.y()) / 120.0
        if notches == 0:
            event.ignore()
            return
        event.accept()
        pan = horizontal or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        x, y = event.position().x(), event.position().y()
        start, span = wheel_window(self._geo, notches, pan, x, y)
        if not pan:
            self._wanted_span = span
        self._set_window(start, span)
