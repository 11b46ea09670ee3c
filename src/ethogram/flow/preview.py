"""Color coding of optical flow for figures and preview videos.

Direction is hue and magnitude is brightness (HSV coding, as in the Middlebury flow figures):
a pixel moving right is red, down is yellow-green, left cyan, up blue-purple; still pixels are
black.
"""

from __future__ import annotations

import cv2
import numpy as np


def robust_max_magnitude(flow: np.ndarray, percentile: float = 99.0) -> float:
    """Return a magnitude to scale color coding by: a high percentile of ``|flow|`` (at least 1e-6).

    Parameters
    ----------
    flow
        ``(..., 2, H, W)`` flows.
    percentile
        Percentile of the magnitudes that maps to full brightness.
    """
    flow = np.asarray(flow, np.float32)
    magnitude = np.sqrt(flow[..., 0, :, :] ** 2 + flow[..., 1, :, :] ** 2)
    if magnitude.size == 0:
        return 1e-6
    return max(float(np.percentile(magnitude, percentile)), 1e-6)


def flow_to_rgb(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Color-code flow fields: hue = direction, brightness = magnitude.

    Parameters
    ----------
    flow
        ``(2, H, W)`` or ``(T, 2, H, W)``, dx and dy in pixels.
    max_magnitude
        Magnitude shown at full brightness (larger ones saturate); default: the 99th
        percentile of this input's magnitudes. Pass a fixed value to compare frames.

    Returns
    -------
    numpy.ndarray
        uint8 RGB ``(H, W, 3)`` or ``(T, H, W, 3)``.
    """
    flow = np.asarray(flow, np.float32)
    single = flow.ndim == 3
    if single:
        flow = flow[None]
    if flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected flow of shape (2, H, W) or (T, 2, H, W), got {flow.shape}")
    if max_magnitude is None:
        max_magnitude = robust_max_magnitude(flow)
    out = np.empty((len(flow), *flow.shape[2:], 3), np.uint8)
    hsv = np.empty((*flow.shape[2:], 3), np.uint8)
    hsv[..., 1] = 255
    for i, field in enumerate(flow):
        magnitude, angle = cv2.cartToPolar(field[0], field[1])  # angle in radians, y down
        hsv[..., 0] = np.round(angle * (90 / np.pi)).astype(np.uint8) % 180
        hsv[..., 2] = np.clip(magnitude / max_magnitude * 255, 0, 255).astype(np.uint8)
        out[i] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return out[0] if single else out
