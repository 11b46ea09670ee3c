"""Colours of the labeling GUI: one per behavior, and the fixed colours of the label states.

Behavior 0 is the background and gets a neutral sand colour; the others take a qualitative palette
that stays distinguishable next to the grey hatch of unlabeled frames. Pure Python: no Qt import,
so the colours can be used by reports and tests alike.
"""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]

#: Background (behavior 0): neutral, and unlike both the greys of unlabeled frames and white.
BACKGROUND_RGB: RGB = (206, 192, 150)

#: Behaviors 1..10 (tab10 without its grey, which would look like unlabeled frames).
BEHAVIOR_RGBS: tuple[RGB, ...] = (
    (31, 119, 180),  # blue
    (255, 127, 14),  # orange
    (44, 160, 44),  # green
    (214, 39, 40),  # red
    (148, 103, 189),  # purple
    (140, 86, 75),  # brown
    (227, 119, 194),  # pink
    (188, 189, 34),  # olive
    (23, 190, 207),  # cyan
)

#: A frame labeled 0 (the behavior is absent): near-white, so a row reads as "empty".
EMPTY_RGB: RGB = (250, 250, 250)

#: A frame labeled -1 (not labeled yet): diagonal hatch of these two greys.
UNLABELED_RGB: RGB = (150, 150, 150)
UNLABELED_STRIPE_RGB: RGB = (118, 118, 118)

#: Around the strips and in the name column.
PANEL_RGB: RGB = (226, 226, 226)
TEXT_RGB: RGB = (30, 30, 30)
GRID_RGB: RGB = (170, 170, 170)

#: The current-frame line.
CURSOR_RGB: RGB = (220, 0, 0)


def behavior_colors(n: int, background_first: bool = True) -> list[RGB]:
    """Distinct colours for ``n`` behaviors.

    Parameters
    ----------
    n : int
        Number of behaviors.
    background_first : bool
        Give behavior 0 the neutral :data:`BACKGROUND_RGB` (the project convention that behavior 0
        is the background).

    Returns
    -------
    list of (int, int, int)
        One RGB triple (0-255) per behavior. Past the fixed palette, hues follow the golden angle.

    Examples
    --------
    >>> behavior_colors(3)
    [(206, 192, 150), (31, 119, 180), (255, 127, 14)]
    """
    colors: list[RGB] = []
    if background_first and n > 0:
        colors.append(BACKGROUND_RGB)
    i = 0
    while len(colors) < n:
        if i < len(BEHAVIOR_RGBS):
            colors.append(BEHAVIOR_RGBS[i])
        else:
            hue = (0.11 + 0.618034 * (i - len(BEHAVIOR_RGBS))) % 1.0
            r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.85)
            colors.append((round(r * 255), round(g * 255), round(b * 255)))
        i += 1
    return colors


def text_color_on(rgb: RGB) -> RGB:
    """Black or white, whichever reads better on ``rgb`` (by perceived luminance).

    Examples
    --------
    >>> text_color_on((250, 250, 250))
    (0, 0, 0)
    >>> text_color_on((31, 119, 180))
    (255, 255, 255)
    """
    r, g, b = rgb
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    return (0, 0, 0) if luminance > 140 else (255, 255, 255)
