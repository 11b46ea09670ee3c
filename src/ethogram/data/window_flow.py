"""Optical flow inside the animal's window (``features.crop_motion``).

With ``features.crop = "animal"`` the spatial stream sees a window centred on the animal. By
default the motion stream still sees the flow of whole frames, where a small animal's paws and
head move by a fraction of a pixel once the frame is resized to the network's input. With
``features.crop_motion`` the flow is computed inside the same window: flow ``t`` (frame ``t``
to ``t + 1``) compares two crops of frames ``t`` and ``t + 1`` taken **at the same place**, the
window of frame ``t``. The arena under the window does not move between the two crops, so the
flow is the animal's own motion, at the window's resolution.

>>> import numpy as np
>>> frames = np.zeros((3, 96, 96, 3), np.uint8)
>>> stream = WindowFlowStream(side=40, size=32)
>>> stream.push(frames[:2], np.full((2, 2), 48.0)).shape
(1, 2, 32, 32)
>>> stream.push(frames[2:], np.full((1, 2), 48.0)).shape
(1, 2, 32, 32)
"""

from __future__ import annotations

import cv2
import numpy as np

from ethogram.data.animal_crop import frame_window
from ethogram.flow.dis import DIS_PRESETS

__all__ = ["WindowFlowStream", "window_gray"]


def window_gray(frame: np.ndarray, centre: np.ndarray, side: int, size: int) -> np.ndarray:
    """Grayscale ``size`` x ``size`` image of the square window of ``side`` pixels at ``centre``.

    The window is :func:`ethogram.data.animal_crop.frame_window`'s (the spatial stream's crop).
    """
    window = frame_window(frame, centre, side)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.cvtColor(cv2.resize(window, (size, size), interpolation=interpolation),
                        cv2.COLOR_RGB2GRAY)  # fmt: skip


class WindowFlowStream:
    """DIS flow between consecutive frames, both cropped at the earlier frame's window.

    Frames arrive in chunks, with the animal's centre in each (from
    :class:`ethogram.data.animal_crop.AnimalTracker`); the last frame and its centre are carried
    across chunk borders.

    Parameters
    ----------
    side
        Window side in frame pixels.
    size
        The window is resized to ``size`` square (``flow.size``) before the flow.
    preset
        DIS preset: ``ultrafast``, ``fast`` or ``medium``.
    """

    def __init__(self, side: int, size: int, preset: str = "ultrafast") -> None:
        self.side = max(1, int(side))
        self.size = size
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
        self._previous: np.ndarray | None = None
        self._centre: np.ndarray | None = None

    def push(self, frames: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """Add frames ``(n, H, W, 3)`` uint8 and their centres ``(n, 2)``.

        Returns
        -------
        numpy.ndarray
            float32 ``(m, 2, size, size)``: the flows these frames complete, in pixels per frame
            at ``size`` (one per frame after the video's first).
        """
        flows = []
        for frame, centre in zip(frames, centres, strict=True):
            if self._previous is not None:
                before = window_gray(self._previous, self._centre, self.side, self.size)
                after = window_gray(frame, self._centre, self.side, self.size)
                flows.append(self._dis.calc(before, after, None).transpose(2, 0, 1))
            self._previous, self._centre = frame, np.asarray(centre, float)
        if self._previous is not None:  # the reader may reuse the chunk's memory
            self._previous = self._previous.copy()
        if not flows:
            return np.zeros((0, 2, self.size, self.size), np.float32)
        return np.stack(flows).astype(np.float32, copy=False)

    def finish(self) -> np.ndarray:
        """The flows still pending at the end of the video (none)."""
        return np.zeros((0, 2, self.size, self.size), np.float32)
