"""Drawing the ethogram with Qt: strip images, names, time axis, detail window, current frame.

The strips are computed as pixel arrays by :mod:`ethogram.gui.ethogram_render` and turned into
images here; :class:`~ethogram.gui.ethogram_view.EthogramView` caches the images and calls the
``paint_*`` functions from its paint event, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen, QRegion

from ethogram.gui import palette
from ethogram.gui.ethogram_geometry import Box, EthogramGeometry
from ethogram.gui.ethogram_mouse import LabelOp
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


def qcolor(rgb: tuple[int, int, int], alpha: int = 255) -> QColor:
    """A QColor from an RGB tuple."""
    return QColor(rgb[0], rgb[1], rgb[2], alpha)


def qrect(box: Box) -> QRect:
    """The QRect of a :class:`~ethogram.gui.ethogram_geometry.Box`."""
    return QRect(box.x, box.y, box.width, box.height)


def to_qimage(pixels: np.ndarray) -> QImage:
    """(H, W) uint32 0xAARRGGBB -> an opaque QImage (the fast path onto the backing store)."""
    h, w = pixels.shape
    data = np.ascontiguousarray(pixels, dtype=np.uint32)
    return QImage(data.data, w, h, w * 4, QImage.Format.Format_RGB32).copy()


@dataclass(frozen=True)
class StripFonts:
    """The widget's font, a smaller one (axis, captions) and a tiny one (row kinds).

    Build it with :meth:`for_font` once; at paint time swap in the widget's current font with
    :meth:`with_normal`.
    """

    normal: QFont
    small: QFont
    tiny: QFont

    @classmethod
    def for_font(cls, font: QFont) -> StripFonts:
        """Fonts 1 and 3 points smaller than ``font`` (at least 6 and 5 points)."""
        small = QFont(font)
        small.setPointSizeF(max(font.pointSizeF() - 1.0, 6.0))
        tiny = QFont(font)
        tiny.setPointSizeF(max(font.pointSizeF() - 3.0, 5.0))
        return cls(QFont(font), small, tiny)

    def with_normal(self, font: QFont) -> StripFonts:
        """The same smaller fonts with ``font`` as the normal one."""
        return StripFonts(font, self.small, self.tiny)


def render_overview(
    geo: EthogramGeometry,
    colors: list[tuple[int, int, int]],
    labels: np.ndarray | None,
    predictions: np.ndarray | None,
) -> QImage:
    """The overview strip: per behavior its labels over the whole video, predictions below.

    Parameters
    ----------
    geo : EthogramGeometry
        Layout (overview size, rows per behavior).
    colors : list of (int, int, int)
        RGB per behavior.
    labels, predictions : numpy.ndarray or None
        (T, K) labels (int8) and thresholded predictions (0/1).

    Returns
    -------
    QImage
        The size of ``geo.overview``.
    """
    k, row_h = len(colors), geo.overview_row_px
    # With predictions, the lower third of each behavior's row shows them (as in the detail).
    pred_h = max(row_h // 3, 1) if predictions is not None and row_h >= 3 else 0
    rows: list[Row] = []
    for b in range(k):
        rows.append(Row("label", b, b * row_h, row_h - pred_h))
        if pred_h:
            rows.append(Row("prediction", b, (b + 1) * row_h - pred_h, pred_h))
    h = max(geo.overview.height, 1)
    starts = column_starts(geo.n_frames, geo.width)
    reduced_labels = reduced_preds = None
    if labels is not None and geo.n_frames:
        reduced_labels = reduce_labels(labels, starts)
    if pred_h and geo.n_frames:
        reduced_preds = reduce_max(predictions, starts)
    pixels = render_rows(
        rows,
        h,
        geo.width,
        colors,
        reduced_labels,
        predictions=reduced_preds,
        hatch_origin=(geo.overview.y, geo.x0),
    )
    return to_qimage(pixels)


def render_detail(
    geo: EthogramGeometry,
    colors: list[tuple[int, int, int]],
    labels: np.ndarray | None,
    probabilities: np.ndarray | None,
    predictions: np.ndarray | None,
    preview: LabelOp | None,
) -> QImage:
    """The detail strip's rows over the detail window, with a drag's edit previewed.

    Parameters
    ----------
    geo : EthogramGeometry
        Layout (rows) and the detail window.
    colors : list of (int, int, int)
        RGB per behavior.
    labels, probabilities, predictions : numpy.ndarray or None
        (T, K) labels (int8), probabilities and thresholded predictions of the whole video.
    preview : (int, int, int, int) or None
        Behavior, start, stop, value of an edit drawn as if made.

    Returns
    -------
    QImage
        ``geo.width`` wide, from ``geo.rows_top`` to ``geo.rows_bottom``.
    """
    start, stop = geo.detail_range()
    starts = column_starts(stop - start, geo.width)
    reduced_labels = probs = preds = None
    if labels is not None and geo.n_frames:
        window = labels[start:stop]
        if preview is not None:
            b, lo, hi, value = preview
            window = window.copy()
            window[max(lo - start, 0) : max(hi - start, 0), b] = value
        reduced_labels = reduce_labels(window, starts)
    if probabilities is not None:
        probs = reduce_max(probabilities[start:stop], starts)
    if predictions is not None:
        preds = reduce_max(predictions[start:stop], starts)
    h = max(geo.rows_bottom - geo.rows_top, 1)
    rows = [Row(r.kind, r.behavior, r.y - geo.rows_top, r.height) for r in geo.rows]
    pixels = render_rows(
        rows,
        h,
        geo.width,
        colors,
        reduced_labels,
        probs,
        preds,
        hatch_origin=(geo.rows_top, geo.x0),
    )
    if geo.width / max(stop - start, 1) >= 8:
        # Zoomed in far enough to see single frames: faint lines between them.
        boundaries = np.flatnonzero(np.diff(starts) > 0) + 1
        for row in rows:
            band = pixels[row.y : row.y + row.height, boundaries]
            pixels[row.y : row.y + row.height, boundaries] = darken(band)
    return to_qimage(pixels)


def cursor_region(geo: EthogramGeometry, frame: int) -> QRegion:
    """What the current-frame line at ``frame`` covers (to repaint only that when it moves)."""
    x0 = geo.frame_to_detail_x(frame)
    x1 = geo.frame_to_detail_x(frame + 1)
    axis_top = geo.axis.y
    detail = QRect(int(x0) - 3, axis_top, int(x1 - x0) + 7, geo.rows_bottom - axis_top)
    ox = int(geo.frame_to_overview_x(frame + 0.5))
    overview = QRect(ox - 3, geo.overview.y - 2, 7, geo.overview.height + 4)
    return QRegion(detail) | QRegion(overview)


def paint_gutter(
    p: QPainter,
    geo: EthogramGeometry,
    names: list[str],
    colors: list[tuple[int, int, int]],
    fonts: StripFonts,
    fps: float | None,
) -> None:
    """Behavior names and colours left of the rows, and captions of the overview and axis."""
    fm = QFontMetrics(fonts.normal)
    x0 = geo.x0
    text_w = x0 - 26
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    for row in geo.rows:
        if row.kind != "label":
            p.setFont(fonts.tiny)
            p.setPen(qcolor((110, 110, 110)))
            caption = "p" if row.kind == "probability" else "pred"
            p.drawText(QRect(0, row.y - 3, x0 - 4, row.height + 6), right, caption)
            p.setFont(fonts.normal)
            continue
        y_mid = row.y + row.height // 2
        p.fillRect(QRect(6, y_mid - 5, 10, 10), qcolor(colors[row.behavior]))
        p.setPen(qcolor(palette.TEXT_RGB))
        name = fm.elidedText(names[row.behavior], Qt.TextElideMode.ElideRight, text_w)
        p.drawText(
            QRect(20, row.y, text_w + 4, row.height),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            name,
        )
    p.setFont(fonts.small)
    p.setPen(qcolor((90, 90, 90)))
    left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    ov = geo.overview
    p.drawText(QRect(6, ov.y - 2, x0 - 8, ov.height + 4), left, "whole video")
    line_h = QFontMetrics(fonts.small).height()
    p.drawText(QRect(6, geo.axis.y + 2, x0 - 8, line_h), left, "frame")
    if fps:
        p.drawText(QRect(6, geo.axis.y + 2 + line_h, x0 - 8, line_h), left, "time")
    p.setFont(fonts.normal)


def paint_axis(p: QPainter, geo: EthogramGeometry, fonts: StripFonts, fps: float | None) -> None:
    """The detail strip's time axis: ticks with frame numbers and, given ``fps``, m:ss."""
    start, stop = geo.detail_range()
    axis = qrect(geo.axis)
    p.fillRect(axis, qcolor((242, 242, 242)))
    step = tick_step(stop - start, geo.width, fps)
    fractional = bool(fps) and step < fps  # type: ignore[operator]
    fm = QFontMetrics(fonts.small)
    line_h = fm.height()
    p.setFont(fonts.small)
    first = -(-start // step) * step
    for tick in range(first, stop + 1, step):
        x = round(geo.frame_to_detail_x(tick))
        p.setPen(qcolor(palette.GRID_RGB))
        p.drawLine(x, axis.top(), x, axis.bottom())
        p.setPen(qcolor(palette.TEXT_RGB))
        texts = [str(tick)]
        if fps:
            texts.append(format_time(tick, fps, fractional))
        width = max(fm.horizontalAdvance(t) for t in texts)
        if x + 3 + width > axis.right():
            continue
        for i, text in enumerate(texts):
            p.drawText(x + 3, axis.top() + 2 + i * line_h + fm.ascent(), text)
    p.setFont(fonts.normal)


def paint_overlays(p: QPainter, geo: EthogramGeometry, highlight: tuple[int, int] | None) -> None:
    """The detail window's rectangle on the overview, and the highlighted frames on both."""
    start, stop = geo.detail_range()
    ox0 = geo.frame_to_overview_x(start)
    ox1 = max(geo.frame_to_overview_x(stop), ox0 + 3)
    ov = geo.overview
    window = QRectF(ox0, ov.y - 2.5, ox1 - ox0, ov.height + 5)
    p.fillRect(window, QColor(0, 90, 200, 40))
    p.setPen(QPen(QColor(0, 70, 170), 1.5))
    p.drawRect(window)
    if highlight is not None:
        lo, hi = highlight
        fill = QColor(0, 120, 215, 55)
        hx0, hx1 = geo.frame_to_overview_x(lo), geo.frame_to_overview_x(hi)
        p.fillRect(QRectF(hx0, ov.y, max(hx1 - hx0, 1.0), ov.height), fill)
        dx0 = max(geo.frame_to_detail_x(lo), geo.x0)
        dx1 = min(geo.frame_to_detail_x(hi), geo.x0 + geo.width)
        if dx1 > dx0:
            top = geo.axis.y
            p.fillRect(QRectF(dx0, top, dx1 - dx0, geo.rows_bottom - top), fill)


def paint_cursor(p: QPainter, geo: EthogramGeometry, frame: int) -> None:
    """The current-frame line on the overview and, when in the window, on the detail strip."""
    start, stop = geo.detail_range()
    red = qcolor(palette.CURSOR_RGB)
    ox = geo.frame_to_overview_x(frame + 0.5)
    ov = geo.overview
    p.setPen(QPen(red, 2))
    p.drawLine(QPointF(ox, ov.y - 2), QPointF(ox, ov.bottom + 2))
    if not start <= frame < stop:
        return
    x0 = geo.frame_to_detail_x(frame)
    x1 = geo.frame_to_detail_x(frame + 1)
    top, bottom = geo.axis.y, geo.rows_bottom
    if x1 - x0 >= 4:
        p.setPen(QPen(red, 1.5))
        p.drawRect(QRectF(x0, top, x1 - x0, bottom - top))
    else:
        xm = (x0 + x1) / 2
        p.setPen(QPen(red, 2))
        p.drawLine(QPointF(xm, top), QPointF(xm, bottom))
