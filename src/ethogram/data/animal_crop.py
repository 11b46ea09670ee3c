"""Animal-centred crops for the spatial stream: find the animal by background subtraction.

In a top-down open-field video the animal covers a few percent of the frame; resized to the
spatial network's input (64 px in the ``fast`` preset) a mouse is 10-15 pixels long and its
posture (rearing, grooming) is a handful of pixels. With ``features.crop = "animal"`` the
spatial stream sees instead a square window of ``features.crop_size`` times the frame's longer
side, centred on the animal, resized to ``features.input_size``: the same network cost, several
times the resolution on the animal. The motion stream keeps the whole frame (locomotion is
motion across the arena).

How the animal is found, per video:

1. **Background**: the per-pixel median of :data:`BACKGROUND_SAMPLES` frames spread evenly over
   the video (:func:`video_background`). A moving animal is absent from most of them.
2. **Per frame** (:class:`AnimalTracker`): the largest channel difference from the background,
   at a detection scale of at most :data:`DETECTION_SIDE` pixels, blurred; pixels above
   ``max(MIN_CONTRAST, 0.4 x the frame's largest difference)`` are foreground; the centre is the
   centroid of the largest foreground region. A frame without foreground (the animal still
   for the whole video, or hidden) keeps the previous centre; the first defaults to the frame
   centre.
3. **Crop** (:func:`crop_frames`): the window around the centre, the frame's edge pixels
   repeated where it overhangs the frame, resized with ``INTER_AREA``.

This assumes one animal that moves at some point of the video. It is not DeepEthogram's
behavior (which sees whole frames) and is off by default (``features.crop = "none"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = [
    "AnimalTracker",
    "BACKGROUND_SAMPLES",
    "crop_frames",
    "median_background",
    "video_background",
]

BACKGROUND_SAMPLES = 100
DETECTION_SIDE = 160
MIN_CONTRAST = 15.0
_BLUR_SIGMA = 1.5
_MIN_AREA = 6  # detection pixels


def median_background(frames: Iterable[np.ndarray]) -> np.ndarray:
    """Per-pixel median of frames ``(H, W, 3)`` uint8 (a sequence or an ``(n, H, W, 3)`` array)."""
    stack = np.asarray(list(frames) if not isinstance(frames, np.ndarray) else frames)
    if stack.ndim != 4 or len(stack) == 0:
        raise ValueError(f"expected frames (n, H, W, 3), got shape {stack.shape}")
    return np.median(stack, axis=0).astype(np.uint8)


def video_background(video_path: str | Path, n_samples: int = BACKGROUND_SAMPLES) -> np.ndarray:
    """Background image ``(H, W, 3)`` uint8 of a video: median of evenly spaced frames.

    Frames are read in increasing order: the reader seeks to a keyframe when one lies between
    two wanted frames and decodes forward otherwise (without converting the frames between).

    Parameters
    ----------
    video_path
        The video file.
    n_samples
        Frames the median is taken over (all frames of a shorter video).

    Returns
    -------
    numpy.ndarray
        uint8 ``(H, W, 3)``.
    """
    from ethogram.io.video import VideoReader

    with VideoReader(video_path, cache_size=1) as reader:
        n_frames = len(reader)
        wanted = np.unique(np.linspace(0, n_frames - 1, min(n_samples, n_frames)).astype(int))
        return median_background([reader[int(i)] for i in wanted])


class AnimalTracker:
    """Centre of the animal in each frame, from the difference to a background image.

    Parameters
    ----------
    background
        uint8 ``(H, W, 3)``, from :func:`video_background`.

    Examples
    --------
    >>> background = np.full((48, 64, 3), 200, np.uint8)
    >>> frame = background.copy()
    >>> frame[10:20, 40:50] = 20  # a dark animal
    >>> AnimalTracker(background).centres(frame[None]).round(1)
    array([[44.5, 14.5]])
    """

    def __init__(self, background: np.ndarray):
        import cv2

        background = np.asarray(background)
        if background.ndim != 3 or background.shape[2] != 3:
            raise ValueError(f"background: expected (H, W, 3), got shape {background.shape}")
        self.height, self.width = background.shape[:2]
        self.scale = min(1.0, DETECTION_SIDE / max(self.height, self.width))
        self._size = (
            max(1, round(self.width * self.scale)),
            max(1, round(self.height * self.scale)),
        )
        self._background = self._small(background, cv2).astype(np.int16)
        self._last = np.array([self.width / 2, self.height / 2])

    def _small(self, image: np.ndarray, cv2) -> np.ndarray:
        if self.scale == 1.0:
            return image
        return cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)

    def centres(self, frames: np.ndarray) -> np.ndarray:
        """Centres ``(n, 2)`` (x, y in frame pixels) of the animal in frames ``(n, H, W, 3)``.

        Frames must come in video order: a frame without foreground keeps the previous centre.
        """
        import cv2

        out = np.zeros((len(frames), 2))
        for i, frame in enumerate(frames):
            if frame.shape[:2] != (self.height, self.width):
                raise ValueError(
                    f"frame {frame.shape[1]}x{frame.shape[0]} differs from the background "
                    f"{self.width}x{self.height}"
                )
            diff = np.abs(self._small(frame, cv2).astype(np.int16) - self._background)
            diff = cv2.GaussianBlur(diff.max(axis=2).astype(np.float32), (0, 0), _BLUR_SIGMA)
            peak = float(diff.max())
            if peak >= MIN_CONTRAST:
                mask = (diff > max(MIN_CONTRAST, 0.4 * peak)).astype(np.uint8)
                n, _, stats, centroids = cv2.connectedComponentsWithStats(mask)
                if n > 1:
                    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
                    if stats[k, cv2.CC_STAT_AREA] >= _MIN_AREA:
                        self._last = (centroids[k] + 0.5) / self.scale - 0.5
            out[i] = self._last
        return out


def crop_frames(frames: np.ndarray, centres: np.ndarray, side: int, out_size: int) -> np.ndarray:
    """Square windows of ``side`` pixels around ``centres``, resized to ``out_size``.

    Parameters
    ----------
    frames
        uint8 ``(n, H, W, 3)``.
    centres
        ``(n, 2)`` x, y in frame pixels.
    side
        Window side in frame pixels; where the window overhangs the frame, edge pixels repeat.
    out_size
        Side of the output frames.

    Returns
    -------
    numpy.ndarray
        uint8 ``(n, out_size, out_size, 3)``.
    """
    import cv2

    side = max(1, int(side))
    pad = side // 2 + 1
    out = np.empty((len(frames), out_size, out_size, 3), np.uint8)
    for i, (frame, (x, y)) in enumerate(zip(frames, centres, strict=True)):
        padded = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0 = int(round(x - side / 2)) + pad
        y0 = int(round(y - side / 2)) + pad
        x0 = min(max(x0, 0), padded.shape[1] - side)
        y0 = min(max(y0, 0), padded.shape[0] - side)
        window = padded[y0 : y0 + side, x0 : x0 + side]
        interpolation = cv2.INTER_AREA if side > out_size else cv2.INTER_LINEAR
        out[i] = cv2.resize(window, (out_size, out_size), interpolation=interpolation)
    return out
