"""Pure-numpy rendering of ethogram strips: frames -> pixel columns -> RGBA rows, and time ticks.

The widget in :mod:`ethogram.gui.ethogram_view` draws these arrays as images, so a 36,000-frame
video costs the same to draw as a short one: every strip is reduced to one value per pixel column
before any colour is computed. No Qt here, so this is tested without a display.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ethogram.gui import palette

#: Widths (px) of the diagonal hatch that marks unlabeled frames: period and dark-stripe width.
HATCH_PERIOD = 6
HATCH_STRIPE = 2


def column_starts(n_frames: int, width_px: int) -> np.ndarray:
    """First frame (relative to the strip's start) shown by each pixel column.

    Column ``c`` shows frames ``[starts[c], starts[c + 1])``; when frames are wider than a pixel,
    consecutive columns repeat the same frame.

    Examples
    --------
    >>> column_starts(4, 8).tolist()
    [0, 0, 1, 1, 2, 2, 3, 3]
    >>> column_starts(9, 3).tolist()
    [0, 3, 6]
    """
    width_px = max(int(width_px), 1)
    return (np.arange(width_px, dtype=np.int64) * int(n_frames)) // width_px


def _column_lengths(starts: np.ndarray, n_frames: int) -> np.ndarray:
    lengths = np.diff(np.append(starts, n_frames))
    # A repeated start means the column shows one frame (what reduceat does for such indices).
    return np.maximum(lengths, 1)


def reduce_labels(labels: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One label value per pixel column: 1 if any frame is 1, else -1 if most are -1, else 0.

    "Any 1" keeps a one-frame bout visible at any zoom.

    Parameters
    ----------
    labels : numpy.ndarray
        (S, K) int8 values 1 / 0 / -1 of the frames on the strip.
    starts : numpy.ndarray
        From :func:`column_starts`.

    Returns
    -------
    numpy.ndarray
        (W, K) int8.

    Examples
    --------
    >>> lab = np.array([[0], [1], [-1], [-1], [-1], [0]], dtype=np.int8)
    >>> reduce_labels(lab, column_starts(6, 3)).ravel().tolist()
    [1, -1, 0]
    """
    labels = np.asarray(labels)
    if labels.shape[0] == 0:
        return np.zeros((len(starts), labels.shape[1]), dtype=np.int8)
    any_one = np.maximum.reduceat((labels == 1).view(np.uint8), starts, axis=0) > 0
    n_unlabeled = np.add.reduceat((labels == -1).astype(np.int32), starts, axis=0)
    mostly_unlabeled = 2 * n_unlabeled > _column_lengths(starts, labels.shape[0])[:, None]
    out = np.where(mostly_unlabeled, np.int8(-1), np.int8(0)).astype(np.int8)
    out[any_one] = 1
    return out


def reduce_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Column maximum of (S, K) values (probabilities or 0/1 predictions), as float32 (W, K)."""
    values = np.asarray(values, dtype=np.float32)
    if values.shape[0] == 0:
        return np.zeros((len(starts), values.shape[1]), dtype=np.float32)
    return np.maximum.reduceat(values, starts, axis=0)


@functools.lru_cache(maxsize=8)
def hatch_mask(height: int, width: int, y0: int = 0, x0: int = 0) -> np.ndarray:
    """(height, width) bool: True on the dark diagonal stripes of the unlabeled hatch.

    ``y0`` / ``x0`` are the absolute pixel offsets, so stripes line up across rows. Cached (the
    strip sizes change only on resize); the returned array is read-only.
    """
    yy = np.arange(y0, y0 + height, dtype=np.int32)[:, None]
    xx = np.arange(x0, x0 + width, dtype=np.int32)[None, :]
    mask = ((xx + yy) % HATCH_PERIOD) < HATCH_STRIPE
    mask.flags.writeable = False
    return mask


@dataclass(frozen=True)
class Row:
    """One horizontal band of a strip image: ``kind`` is "label", "probability" or "prediction"."""

    kind: str
    behavior: int
    y: int
    height: int


def pack_rgb(rgb: np.ndarray | tuple[int, int, int]) -> np.ndarray:
    """RGB (..., 3) -> opaque 0xAARRGGBB uint32 (Qt's ``Format_RGB32`` pixel values).

    Examples
    --------
    >>> hex(int(pack_rgb((1, 2, 3))))
    '0xff010203'
    """
    rgb = np.asarray(rgb, dtype=np.uint32)
    return np.uint32(0xFF000000) | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def unpack_rgb(pixels: np.ndarray) -> np.ndarray:
    """0xAARRGGBB uint32 (...) -> RGB uint8 (..., 3); the inverse of :func:`pack_rgb`."""
    pixels = np.asarray(pixels, dtype=np.uint32)
    return np.stack([(pixels >> 16) & 255, (pixels >> 8) & 255, pixels & 255], -1).astype(np.uint8)


def darken(pixels: np.ndarray) -> np.ndarray:
    """Packed pixels with each channel at 7/8 (lines between frames when zoomed in)."""
    pixels = np.asarray(pixels, dtype=np.uint32)
    return pixels - ((pixels >> 3) & np.uint32(0x1F1F1F))


def render_rows(
    rows: list[Row],
    height: int,
    width: int,
    colors: list[tuple[int, int, int]],
    labels: np.ndarray | None,
    probabilities: np.ndarray | None = None,
    predictions: np.ndarray | None = None,
    hatch_origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Draw rows of per-column values into an image of packed pixels.

    Parameters
    ----------
    rows : list of Row
        Bands to draw, with ``y`` relative to the image top.
    height, width : int
        Image size in pixels; ``width`` is the number of columns of the value arrays.
    colors : list of (int, int, int)
        One colour per behavior.
    labels : numpy.ndarray or None
        (W, K) reduced labels (:func:`reduce_labels`); None draws label rows as unlabeled.
    probabilities, predictions : numpy.ndarray or None
        (W, K) reduced values in [0, 1]; rows of a kind whose array is None are left empty.
    hatch_origin : (int, int)
        (y, x) of the image in the widget, so the hatch lines up between images.

    Returns
    -------
    numpy.ndarray
        (height, width) uint32 0xAARRGGBB (see :func:`unpack_rgb`), panel-coloured between rows.
    """
    img = np.empty((height, width), dtype=np.uint32)
    img[:] = pack_rgb(palette.PANEL_RGB)
    empty_rgb = np.array(palette.EMPTY_RGB, dtype=np.float32)
    empty, unlabeled, stripe = (
        pack_rgb(palette.EMPTY_RGB),
        pack_rgb(palette.UNLABELED_RGB),
        pack_rgb(palette.UNLABELED_STRIPE_RGB),
    )
    hatch: np.ndarray | None = None
    for row in rows:
        y0, y1 = max(row.y, 0), min(row.y + row.height, height)
        if y1 <= y0:
            continue
        color = pack_rgb(colors[row.behavior])
        if row.kind == "label":
            values = labels[:, row.behavior] if labels is not None else np.full(width, -1, np.int8)
            cols = np.where(values == 1, color, np.where(values == -1, unlabeled, empty))
            if (values == -1).any():
                if hatch is None:
                    hatch = hatch_mask(height, width, hatch_origin[0], hatch_origin[1])
                striped = np.where(values == -1, stripe, cols)
                img[y0:y1] = np.where(hatch[y0:y1], striped[None, :], cols[None, :])
            else:
                img[y0:y1] = cols[None, :]
        else:
            source = probabilities if row.kind == "probability" else predictions
            if source is None:
                continue
            p = np.clip(source[:, row.behavior], 0.0, 1.0)[:, None]
            rgb = np.array(colors[row.behavior], dtype=np.float32)
            img[y0:y1] = pack_rgb((empty_rgb + (rgb - empty_rgb) * p).round())[None, :]
    return img


_SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


def tick_step(n_frames: int, width_px: float, fps: float | None, min_px: float = 70.0) -> int:
    """Frames between labelled ticks so that labels are at least ``min_px`` apart.

    With a frame rate, steps of a second or more are round numbers of seconds (1, 2, 5, 10, 15,
    30 s, 1, 2, 5 min...); below a second, and without a frame rate, 1-2-5 steps of frames.

    Examples
    --------
    >>> tick_step(600, 1000, 30.0)
    60
    >>> tick_step(36000, 1000, 30.0)
    3600
    >>> tick_step(40, 1000, 30.0)
    5
    >>> tick_step(1000, 1000, None)
    100
    """
    min_frames = max(int(n_frames), 1) * min_px / max(width_px, 1.0)
    frame_steps = [m * 10**e for e in range(9) for m in (1, 2, 5)]
    if fps and fps > 0:
        candidates = [s for s in frame_steps if s < fps] + [
            max(round(s * fps), 1) for s in _SECOND_STEPS
        ]
    else:
        candidates = frame_steps
    for step in candidates:
        if step >= min_frames:
            return int(step)
    return int(math.ceil(min_frames))


def format_time(frame: int, fps: float | None, fractional: bool = False) -> str:
    """A frame's time as m:ss (h:mm:ss past an hour), with tenths when ``fractional``.

    Examples
    --------
    >>> format_time(1830, 30.0)
    '1:01'
    >>> format_time(45, 30.0, fractional=True)
    '0:01.5'
    >>> format_time(30 * 3725, 30.0)
    '1:02:05'
    >>> format_time(10, None)
    ''
    """
    if not fps or fps <= 0:
        return ""
    seconds = frame / fps
    if fractional:
        tenths = int(round(seconds * 10))
        whole, tenth = divmod(tenths, 10)
    else:
        whole, tenth = int(round(seconds)), 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{tenth}" if fractional else text
