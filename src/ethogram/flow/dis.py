"""Classical optical flow: OpenCV's DIS (dense inverse search) on resized grayscale frames.

DIS gives usable flow at hundreds of frame pairs per second on a CPU, so it is the default flow of
the ``fast`` preset::

    flow = dis_flow(frames, size=64)             # (T-1, 2, 64, 64) float32, pixels per frame
    flow = video_flow("mouse.mp4", settings.flow) # a whole video, streamed in chunks
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ethogram.errors import FlowError

if TYPE_CHECKING:
    from ethogram.config import FlowSettings

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def check_frames(frames: np.ndarray, source: str = "frames") -> np.ndarray:
    """Return ``frames`` as a uint8 ``(T, H, W, 3)`` array, or raise FlowError saying what is wrong.

    Grayscale ``(T, H, W)`` input is repeated into three channels.
    """
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise FlowError(f"{source}: expected frames of shape (T, H, W, 3), found {frames.shape}")
    if frames.dtype != np.uint8:
        raise FlowError(f"{source}: expected uint8 frames, found dtype {frames.dtype}")
    return frames


def resize_frames(frames: np.ndarray, size: int | None, gray: bool = False) -> np.ndarray:
    """Resize uint8 frames ``(T, H, W, 3)`` to ``size`` x ``size`` (INTER_AREA), optionally to gray.

    Parameters
    ----------
    frames
        RGB frames, uint8.
    size
        Side of the square output; None keeps the resolution.
    gray
        Convert to grayscale, giving ``(T, size, size)``.

    Returns
    -------
    numpy.ndarray
        uint8 frames ``(T, size, size, 3)`` or ``(T, size, size)`` if ``gray``.
    """
    out = []
    for frame in frames:
        if gray:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if size is not None and frame.shape[:2] != (size, size):
            frame = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
        out.append(frame)
    if not out:
        shape = frames.shape[1:3] if size is None else (size, size)
        return np.zeros((0, *shape) + (() if gray else (3,)), np.uint8)
    return np.stack(out)


class DisFlowStream:
    """DIS flow over frames that arrive in chunks; the last frame is carried across chunk borders.

    Parameters
    ----------
    size
        Frames are resized to ``size`` x ``size`` before flow (None: keep the resolution).
    preset
        ``ultrafast``, ``fast`` or ``medium``.
    """

    def __init__(self, size: int | None = None, preset: str = "ultrafast") -> None:
        if preset not in DIS_PRESETS:
            raise FlowError(f"unknown DIS preset '{preset}', expected one of {list(DIS_PRESETS)}")
        self.size = size
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
        self._previous: np.ndarray | None = None
        self.n_frames = 0

    def push(self, frames: np.ndarray) -> np.ndarray:
        """Add frames ``(n, H, W, 3)`` uint8; return the flows they complete, ``(m, 2, h, w)``."""
        gray = resize_frames(frames, self.size, gray=True)
        self.n_frames += len(gray)
        flows = []
        for frame in gray:
            if self._previous is not None:
                flow = self._dis.calc(self._previous, frame, None)
                flows.append(flow.transpose(2, 0, 1))
            self._previous = frame
        if not flows:
            shape = gray.shape[1:] if len(gray) else (self.size or 0, self.size or 0)
            return np.zeros((0, 2, *shape), np.float32)
        return np.stack(flows).astype(np.float32, copy=False)

    def finish(self) -> np.ndarray:
        """Return the flows still pending at the end of the video (none for DIS)."""
        shape = self._previous.shape if self._previous is not None else (0, 0)
        return np.zeros((0, 2, *shape), np.float32)


def dis_flow(frames: np.ndarray, size: int | None = None, preset: str = "ultrafast") -> np.ndarray:
    """Compute DIS optical flow between consecutive frames.

    Parameters
    ----------
    frames
        RGB frames ``(T, H, W, 3)`` uint8 (grayscale ``(T, H, W)`` also accepted).
    size
        Frames are converted to grayscale and resized to ``size`` x ``size`` (INTER_AREA) first;
        None keeps the resolution.
    preset
        DIS preset: ``ultrafast``, ``fast`` or ``medium``.

    Returns
    -------
    numpy.ndarray
        float32 ``(T-1, 2, h, w)``: dx, dy in pixels per frame at the resized resolution;
        ``flow[t]`` maps frame ``t`` to frame ``t + 1``.
    """
    frames = check_frames(frames)
    if len(frames) < 2:
        raise FlowError(f"frames: optical flow needs at least 2 frames, found {len(frames)}")
    return DisFlowStream(size, preset).push(frames)


def video_flow(video_path: str | Path, settings: FlowSettings, progress: bool = True) -> np.ndarray:
    """Compute DIS flow over a whole video, streamed in chunks, with a progress bar.

    Parameters
    ----------
    video_path
        Video file.
    settings
        Flow settings (``size``, ``dis_preset``); ``method`` is ignored (always DIS).
    progress
        Show a progress bar on stderr.

    Returns
    -------
    numpy.ndarray
        float32 ``(T-1, 2, size, size)`` in pixels per frame at the resized resolution.
    """
    from ethogram.flow import api

    dis_settings = settings.model_copy(update={"method": "dis"})
    return api.video_flow(video_path, dis_settings, progress=progress)
