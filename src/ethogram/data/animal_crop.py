"""Animal-centred crops for the spatial stream: find the animal by background subtraction.

In a top-down open-field video the animal covers a few percent of the frame; resized to the
spatial network's input (64 px in the ``fast`` preset) a mouse is 10-15 pixels long and its
posture (rearing, grooming) is a handful of pixels. With ``features.crop = "animal"`` the
spatial stream sees instead a square window of ``features.crop_size`` times the frame's longer
side, centred on the animal, resized to ``features.input_size``: the same network cost, several
times the resolution on the animal. With ``features.crop_motion`` (the default) the motion
stream's flow is computed inside the same windows (:mod:`ethogram.data.window_flow`); without it
the motion stream sees the flow of whole frames.

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

This assumes one animal that moves at some point of the video, seen by a fixed camera. It is not
DeepEthogram's behavior (which sees whole frames). :func:`inspect_video` measures, on the
background's sample frames, how often an animal is found, how large it is and whether a second
object moves too (:class:`CropCheck`); ``features.crop = "auto"`` crops only when every labeled
video passes (resolved when training starts and saved with the model; the default), and
extraction warns about a video that does not pass. ``auto`` also sizes the window to the
animal: when the animal is too large for a window of ``features.crop_size``, the window grows
(in steps of 5 % of the frame, up to :data:`MAX_AUTO_WINDOW`) until it fits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ethogram.config import Settings

__all__ = [
    "AnimalTracker",
    "BACKGROUND_SAMPLES",
    "MAX_AUTO_WINDOW",
    "CropCheck",
    "Detection",
    "crop_frames",
    "frame_window",
    "inspect_video",
    "median_background",
    "resolve_crop",
    "video_background",
]

logger = logging.getLogger(__name__)

BACKGROUND_SAMPLES = 100
DETECTION_SIDE = 160
MIN_CONTRAST = 15.0
# features.crop = "auto" crops when, in every training video: an animal is found in at least
# MIN_DETECTED of the sampled frames, it spans at most MAX_EXTENT of the window, and a second
# region is rarely (90th percentile) more than MAX_CROWDED of its area.
MIN_DETECTED = 0.8
MAX_EXTENT = 0.7
MAX_CROWDED = 0.3
MAX_AUTO_WINDOW = 0.7
"""``features.crop = "auto"`` grows the window to fit a large animal up to this fraction of the
frame's longer side; an animal larger still gets whole frames."""
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
    return median_background(_sample_frames(video_path, n_samples))


def _sample_frames(video_path: str | Path, n_samples: int) -> list[np.ndarray]:
    from ethogram.io.video import VideoReader

    with VideoReader(video_path, cache_size=1) as reader:
        n_frames = len(reader)
        wanted = np.unique(np.linspace(0, n_frames - 1, min(n_samples, n_frames)).astype(int))
        return [reader[int(i)] for i in wanted]


@dataclass
class CropCheck:
    """Whether a video suits animal-centred crops, measured on its background sample frames.

    Attributes
    ----------
    video
        The video's name.
    detected
        Fraction of the sampled frames in which a region differing from the background was found.
    extent
        90th percentile of the region's bounding-box longer side, fraction of the frame's
        longer side.
    crowded
        90th percentile of the second largest region's area relative to the largest (another
        animal, a hand).
    """

    video: str
    detected: float
    extent: float
    crowded: float

    @property
    def window_needed(self) -> float:
        """The smallest window (fraction of the frame's longer side) this animal fits in."""
        return self.extent / MAX_EXTENT

    def problem(self, crop_size: float) -> str | None:
        """Why ``crop_size`` windows would not suit this video, or None."""
        if self.detected < MIN_DETECTED:
            return (f"an animal was found in only {self.detected:.0%} of the frames checked (it "
                    "stays still, or the camera moves)")  # fmt: skip
        if self.extent > MAX_EXTENT * crop_size:
            return (f"the animal spans {self.extent:.0%} of the frame, too much for a window of "
                    f"{crop_size:.0%}")  # fmt: skip
        if self.crowded > MAX_CROWDED:
            return "a second object (another animal?) moves in most frames checked"
        return None


def inspect_video(
    video_path: str | Path, n_samples: int = BACKGROUND_SAMPLES
) -> tuple[np.ndarray, CropCheck]:
    """The video's background (as :func:`video_background`) and its :class:`CropCheck`."""
    frames = _sample_frames(video_path, n_samples)
    background = median_background(frames)
    tracker = AnimalTracker(background)
    found = [d for d in (tracker.detect(f) for f in frames) if d is not None]
    extent = float(np.percentile([d.extent for d in found], 90)) if found else 0.0
    crowded = float(np.percentile([d.second_area / d.area for d in found], 90)) if found else 0.0
    check = CropCheck(Path(video_path).name, len(found) / len(frames), extent, crowded)
    return background, check


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
        self._background = np.ascontiguousarray(self._small(background.astype(np.uint8), cv2))
        self._last = np.array([self.width / 2, self.height / 2])

    def _small(self, image: np.ndarray, cv2) -> np.ndarray:
        if self.scale == 1.0:
            return image
        return cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)

    def detect(self, frame: np.ndarray) -> Detection | None:
        """The largest region of ``frame`` ``(H, W, 3)`` that differs from the background."""
        import cv2

        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(
                f"frame {frame.shape[1]}x{frame.shape[0]} differs from the background "
                f"{self.width}x{self.height}"
            )
        # |frame - background|, largest over the channels (numpy's max over a last axis of 3
        # is several times slower than two elementwise maxima)
        diff = cv2.absdiff(np.ascontiguousarray(self._small(frame, cv2)), self._background)
        diff = np.maximum(np.maximum(diff[..., 0], diff[..., 1]), diff[..., 2])
        diff = cv2.GaussianBlur(diff.astype(np.float32), (0, 0), _BLUR_SIGMA)
        peak = float(diff.max())
        if peak < MIN_CONTRAST:
            return None
        mask = (diff > max(MIN_CONTRAST, 0.4 * peak)).astype(np.uint8)
        n, _, stats, centroids = cv2.connectedComponentsWithStats(mask)
        areas = stats[1:, cv2.CC_STAT_AREA]
        if n < 2 or areas.max() < _MIN_AREA:
            return None
        order = np.argsort(-areas)
        k = 1 + int(order[0])
        scale2 = self.scale**2
        side = max(self.height, self.width)
        return Detection(
            centre=(centroids[k] + 0.5) / self.scale - 0.5,
            area=float(areas[order[0]]) / scale2 / side**2,
            extent=float(max(stats[k, cv2.CC_STAT_WIDTH], stats[k, cv2.CC_STAT_HEIGHT]))
            / self.scale
            / side,
            second_area=float(areas[order[1]]) / scale2 / side**2 if len(areas) > 1 else 0.0,
        )

    def centres(self, frames: np.ndarray) -> np.ndarray:
        """Centres ``(n, 2)`` (x, y in frame pixels) of the animal in frames ``(n, H, W, 3)``.

        Frames must come in video order: a frame without foreground keeps the previous centre.
        """
        out = np.zeros((len(frames), 2))
        for i, frame in enumerate(frames):
            found = self.detect(frame)
            if found is not None:
                self._last = found.centre
            out[i] = self._last
        return out


@dataclass
class Detection:
    """The animal found in one frame; sizes are fractions of the frame's longer side.

    Attributes
    ----------
    centre
        x, y in frame pixels.
    area
        Region area / side squared.
    extent
        Longer side of the region's bounding box / side.
    second_area
        The next largest region's area / side squared (0 if none): a second animal, a hand.
    """

    centre: np.ndarray
    area: float
    extent: float
    second_area: float


def frame_window(frame: np.ndarray, centre: np.ndarray, side: int) -> np.ndarray:
    """The square window of ``side`` pixels at ``centre`` (x, y) of ``frame`` ``(H, W, ...)``.

    Where the window overhangs the frame, the frame's edge pixels repeat.
    """
    import cv2

    height, width = frame.shape[:2]
    x0 = int(round(centre[0] - side / 2))
    y0 = int(round(centre[1] - side / 2))
    if x0 < 0 or y0 < 0 or x0 + side > width or y0 + side > height:
        pad = side // 2 + 1
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0 = min(max(x0 + pad, 0), frame.shape[1] - side)
        y0 = min(max(y0 + pad, 0), frame.shape[0] - side)
    return frame[y0 : y0 + side, x0 : x0 + side]


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
    interpolation = cv2.INTER_AREA if side > out_size else cv2.INTER_LINEAR
    out = np.empty((len(frames), out_size, out_size, 3), np.uint8)
    for i, (frame, centre) in enumerate(zip(frames, centres, strict=True)):
        window = frame_window(frame, centre, side)
        out[i] = cv2.resize(window, (out_size, out_size), interpolation=interpolation)
    return out


def resolve_crop(
    videos: dict[str, str | Path], settings: Settings
) -> tuple[Settings, dict[str, np.ndarray]]:
    """Settings with ``features.crop = "auto"`` resolved to ``"animal"`` or ``"none"``.

    ``"animal"`` when every video of ``videos`` (name -> file) passes
    :meth:`~ethogram.data.animal_crop.CropCheck.problem` with a window of ``features.crop_size``,
    or of the smallest larger one (in steps of 0.05, at most :data:`MAX_AUTO_WINDOW`) that the
    largest animal fits in: ``features.crop_size`` is then set to it. Otherwise ``"none"``. The
    choice is logged (``ethogram.data.animal_crop``), with the videos that failed and why.
    Other values are returned unchanged. ``features.crop_motion`` is turned off (and logged)
    when the flow method computes the flow of whole frames (MotionNet).

    Returns
    -------
    settings : Settings
        The resolved settings.
    backgrounds : dict
        Video name -> background image, measured on the way, when the result crops (so that
        preprocessing does not read the videos for them again); else empty.
    """
    settings = _resolve_window_flow(settings)
    feat = settings.features
    if feat.crop != "auto":
        return settings, {}
    checks, backgrounds = {}, {}
    for stem, path in videos.items():
        backgrounds[stem], checks[stem] = inspect_video(path)
    crop_size = _auto_window(feat.crop_size, checks.values())
    problems = [f"{stem}: {p}" for stem, c in checks.items() if (p := c.problem(crop_size))]
    crop = "none" if problems else "animal"
    if problems:
        logger.info("features.crop=auto -> none (whole frames): " + "; ".join(problems[:3]))
    else:
        motion = ("the motion stream the flow inside it" if feat.crop_motion
                  else "the motion stream whole frames")  # fmt: skip
        grown = (f" (grown from {feat.crop_size:.0%} to fit the animal)"
                 if crop_size > feat.crop_size else "")  # fmt: skip
        logger.info(f"features.crop=auto -> animal: the spatial stream sees a window of "
                    f"{crop_size:.0%} of the frame{grown} centred on the animal, "
                    f"{motion}")  # fmt: skip
    update = {"crop": crop} if problems else {"crop": crop, "crop_size": crop_size}
    resolved = settings.model_copy(update={"features": feat.model_copy(update=update)})
    return resolved, ({} if problems else backgrounds)


def _auto_window(crop_size: float, checks: Iterable[CropCheck]) -> float:
    """``crop_size``, or the smallest multiple of 0.05 up to :data:`MAX_AUTO_WINDOW` that every
    checked animal fits in (the largest window tried when none fits: the checks then say why)."""
    needed = max((c.window_needed for c in checks), default=0.0)
    if needed <= crop_size:
        return crop_size
    grown = math.ceil(round(needed / 0.05, 6)) * 0.05
    return round(grown, 2) if grown <= MAX_AUTO_WINDOW + 1e-9 else max(crop_size, MAX_AUTO_WINDOW)


def _resolve_window_flow(settings: Settings) -> Settings:
    """``features.crop_motion`` off (and logged) when the flow method cannot crop (MotionNet)."""
    feat = settings.features
    if not feat.crop_motion or feat.crop == "none" or settings.flow.method == "dis":
        return settings
    logger.info(f"features.crop_motion -> false: flow.method={settings.flow.method} computes "
                "the flow of whole frames")  # fmt: skip
    return settings.model_copy(update={"features": feat.model_copy(update={"crop_motion": False})})
