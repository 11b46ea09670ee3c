"""Network inputs of the two-stream feature extractor, shared by training and extraction.

Both paths push the same decoded frames through :class:`FramePreprocessor`, so a model sees
identical inputs when it is trained and when it extracts features:

- **RGB**: frames resized to ``features.input_size`` square (``cv2.INTER_AREA``), kept as uint8
  (with ``features.crop = "animal"``: a window centred on the animal instead of the whole frame,
  see :mod:`ethogram.data.animal_crop`);
  :func:`rgb_to_tensor` scales them to [0, 1] and normalizes with the ImageNet mean and standard
  deviation (:data:`RGB_MEAN`, :data:`RGB_STD`), as the pretrained networks expect.
- **Flow**: optical flow computed at ``flow.size`` by :mod:`ethogram.flow.api` (DIS or MotionNet),
  in pixels per frame, divided by ``FLOW_UNIT * flow.size`` (so 1.0 means a motion of 2 % of the
  frame width per frame, the same at any size) and clipped to +-``FLOW_CLIP``, then resized to
  the motion stream's input size, ``features.flow_input_size`` (default: ``input_size``;
  ``INTER_AREA`` when smaller: computing flow at a finer resolution than the network sees keeps
  small, fast motions such as paws); stored as float16. The spatial stream can thus see finer
  frames than the motion stream, whose cost grows with ``n_flows``. With
  ``features.crop_motion`` the flow is computed inside the animal's window instead of on whole
  frames (:mod:`ethogram.data.window_flow`).
- **Stacks**: the spatial input of frame ``t`` is the ``n_rgb`` frames centered on ``t``; the
  motion input is the ``n_flows`` flow fields centered on ``t`` (flow ``i`` maps frame ``i`` to
  ``i + 1``, so with ``n_flows = 10`` frame ``t`` sees flows ``t-5 .. t+4``, i.e. frames
  ``t-5 .. t+5``). Indices
  past either end of the video repeat the first or last frame/flow (edge padding), see
  :func:`ethogram.data.stacks.stack_indices`.

Caches: :func:`prepare_video` decodes a video once and stores its resized frames and normalized
flow on disk, in ``<video folder>/.cache/``: ``rgb_<key>.raw`` / ``flow_<key>.raw`` with a JSON
sidecar ``<name>.json`` (shape, dtype, settings). The key hashes the video's name, size and
modification time and the settings that change the array, so a new setting or a replaced video
makes a new cache. The data are written under a temporary name and renamed; the sidecar is
written last, so a partial cache never looks complete. Arrays are opened as read-only memmaps:
a 30-minute video never has to sit in RAM.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ethogram.data.array_cache import (  # noqa: F401  (CACHE_DIR, clear_cache: this API)
    CACHE_DIR,
    ArrayCacheWriter,
    cache_paths,
    clear_cache,
    open_array_cache,
)
from ethogram.data.stacks import stack_indices
from ethogram.data.window_flow import WindowFlowStream
from ethogram.errors import FlowError, VideoError
from ethogram.flow.dis import resize_frames

if TYPE_CHECKING:
    import torch

    from ethogram.config import Settings

__all__ = [
    "CACHE_DIR",
    "FLOW_CLIP",
    "FLOW_UNIT",
    "RGB_MEAN",
    "RGB_STD",
    "FramePreprocessor",
    "VideoArrays",
    "cache_key",
    "flow_to_tensor",
    "normalize_flow",
    "prepare_frames",
    "prepare_video",
    "rgb_to_tensor",
]

RGB_MEAN = (0.485, 0.456, 0.406)
RGB_STD = (0.229, 0.224, 0.225)
FLOW_UNIT = 0.02
FLOW_CLIP = 10.0
FLOW_DTYPE = np.float16
CACHE_VERSION = 2
CROP_VERSION = 1  # bump when animal_crop's detection changes (crops are cached)
CHUNK_SIZE = 256


# ---- per-frame transforms -----------------------------------------------------------------------
def normalize_flow(flow: np.ndarray, flow_size: int, out_size: int | None = None) -> np.ndarray:
    """Scale flow in pixels per frame at ``flow_size`` to network units (see module docstring).

    Parameters
    ----------
    flow
        float32 ``(n, 2, flow_size, flow_size)``.
    flow_size
        The resolution the flow was computed at.
    out_size
        Resize the normalized fields to ``out_size`` square (default: keep ``flow_size``).

    Returns
    -------
    numpy.ndarray
        float16 ``(n, 2, out_size, out_size)``, clipped to +-FLOW_CLIP.
    """
    scaled = np.asarray(flow, np.float32) / np.float32(FLOW_UNIT * flow_size)
    scaled = np.clip(scaled, -FLOW_CLIP, FLOW_CLIP)
    if out_size is not None and scaled.shape[-1] != out_size and len(scaled):
        import cv2

        interp = cv2.INTER_AREA if out_size < scaled.shape[-1] else cv2.INTER_LINEAR
        fields = scaled.transpose(0, 2, 3, 1)  # (n, h, w, 2): cv2 resizes both channels at once
        scaled = np.stack(
            [cv2.resize(f, (out_size, out_size), interpolation=interp) for f in fields]
        ).transpose(0, 3, 1, 2)
    elif out_size is not None and not len(scaled):
        scaled = np.zeros((0, 2, out_size, out_size), np.float32)
    return scaled.astype(FLOW_DTYPE)


def rgb_to_tensor(rgb: np.ndarray, three_d: bool = False, device: Any = None) -> torch.Tensor:
    """uint8 stacks ``(B, n_rgb, S, S, 3)`` to a normalized float tensor.

    Returns ``(B, 3 * n_rgb, S, S)`` (frames stacked along channels), or ``(B, 3, n_rgb, S, S)``
    for 3D networks.
    """
    import torch

    x = torch.as_tensor(np.ascontiguousarray(rgb), device=device)
    x = x.permute(0, 1, 4, 2, 3).float().div_(255.0)  # (B, n, 3, S, S)
    mean = torch.tensor(RGB_MEAN, device=x.device).view(1, 1, 3, 1, 1)
    std = torch.tensor(RGB_STD, device=x.device).view(1, 1, 3, 1, 1)
    x = (x - mean) / std
    if three_d:
        return x.permute(0, 2, 1, 3, 4).contiguous()
    return x.flatten(1, 2)


def flow_to_tensor(flow: np.ndarray, device: Any = None) -> torch.Tensor:
    """Normalized flow stacks ``(B, n_flows, 2, s, s)`` to a tensor ``(B, 2 * n_flows, s, s)``.

    Channels alternate dx, dy per flow field (``2 * i`` is dx of field ``i``).
    """
    import torch

    x = torch.as_tensor(np.ascontiguousarray(flow), device=device).float()
    return x.flatten(1, 2)


def _flow_from_rgb(flow_size: int, input_size: int, cropped: bool) -> bool:
    """Flow is computed from the spatial stream's frames when they are whole and the right size."""
    return flow_size == input_size and not cropped


def _window_flow(settings: Settings) -> bool:
    """Flow inside the animal's window (``features.crop_motion`` with animal crops)."""
    return settings.features.crop == "animal" and settings.features.crop_motion


def background_image(video_path: str | Path, settings: Settings) -> np.ndarray | None:
    """The video's background for ``features.crop == "animal"`` (None when not cropping).

    Warns (:class:`UserWarning`) when the video does not look suited to animal-centred crops
    (:meth:`~ethogram.data.animal_crop.CropCheck.problem`).
    """
    if settings.features.crop != "animal":
        return None
    import warnings

    from ethogram.data.animal_crop import inspect_video

    background, check = inspect_video(video_path)
    problem = check.problem(settings.features.crop_size)
    if problem:
        warnings.warn(f"{check.video}: {problem}; the crops (features.crop=animal) may miss "
                      "the animal in this video", stacklevel=2)  # fmt: skip
    return background


# ---- streaming preprocessing --------------------------------------------------------------------
class FramePreprocessor:
    """Turn decoded frames, chunk by chunk, into resized RGB and normalized flow.

    Parameters
    ----------
    settings
        Full settings (``features.input_size``, ``features.flow_input_size``, ``flow.*``).
    flow_model
        A loaded MotionNet when ``flow.method == "motionnet"`` (default: from
        ``flow.model_dir``).
    source
        Name used in error messages (the video file).
    background
        The video's background image (:func:`background_image`); needed, and only used, when
        ``features.crop == "animal"`` (``"auto"``, unresolved, is treated as ``"none"``).
    spatial
        False when only the flow will be used (the statistics pass of ``features.video_norm``):
        frames are then resized, never cropped, and no background is needed unless the flow
        is computed inside the animal's window (``features.crop_motion``). The flow is the same
        either way.
    """

    def __init__(
        self,
        settings: Settings,
        flow_model: Any = None,
        source: str = "frames",
        background: np.ndarray | None = None,
        spatial: bool = True,
    ):
        from ethogram.flow.api import make_stream

        feat = settings.features
        self.input_size = feat.input_size
        self.motion_size = feat.motion_size
        self.flow_size = settings.flow.size
        self.tracker = None
        self.spatial = spatial
        # "auto" is resolved when training starts (animal_crop.resolve_crop); settings
        # that were never resolved get whole frames, as "none"
        self.from_rgb = _flow_from_rgb(self.flow_size, self.input_size, feat.crop == "animal")
        self.window_flow = _window_flow(settings)
        if feat.crop == "animal" and (spatial or self.window_flow):
            from ethogram.data.animal_crop import AnimalTracker

            if background is None:
                raise ValueError("features.crop='animal' needs the video's background image")
            self.tracker = AnimalTracker(background)
            self.crop_side = round(feat.crop_size * max(background.shape[:2]))
        if self.window_flow:
            if settings.flow.method != "dis":
                raise FlowError(
                    "features.crop_motion needs flow.method=dis (the flow is computed inside "
                    f"the animal's window), not {settings.flow.method}"
                )
            self.stream = WindowFlowStream(self.crop_side, self.flow_size, settings.flow.dis_preset)
        else:
            self.stream = make_stream(settings.flow, flow_model, source=source)
        self.source = source
        self.n_frames = 0

    def push(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add decoded RGB frames ``(n, H, W, 3)`` uint8.

        Returns
        -------
        rgb : numpy.ndarray
            uint8 ``(n, input_size, input_size, 3)``.
        flow : numpy.ndarray
            float16 ``(m, 2, s, s)`` with ``s = features.motion_size``: the normalized flows these
            frames complete (DIS: one per frame after the first; MotionNet: whole stacks at a
            time).
        """
        centres = None if self.tracker is None else self.tracker.centres(frames)
        if centres is None or not self.spatial:
            rgb = resize_frames(frames, self.input_size)
        else:
            from ethogram.data.animal_crop import crop_frames

            rgb = crop_frames(frames, centres, self.crop_side, self.input_size)
        self.n_frames += len(frames)
        if self.window_flow:
            flow = self.stream.push(frames, centres)
        else:
            # flow from the already resized frames when sizes agree (cheaper, same in both paths)
            flow = self.stream.push(rgb if self.from_rgb else frames)
        return rgb, normalize_flow(flow, self.flow_size, self.motion_size)

    def finish(self) -> np.ndarray:
        """Normalized flows still pending at the end of the video."""
        if self.n_frames < 2:
            raise FlowError(f"{self.source}: optical flow needs at least 2 frames, found "
                            f"{self.n_frames}")  # fmt: skip
        return normalize_flow(self.stream.finish(), self.flow_size, self.motion_size)


# ---- caches -------------------------------------------------------------------------------------
@dataclass
class VideoArrays:
    """Preprocessed inputs of one video (read-only memmaps or in-memory arrays).

    Attributes
    ----------
    rgb
        uint8 ``(T, S, S, 3)``: frames at ``features.input_size``.
    flow
        float16 ``(T-1, 2, s, s)``: normalized flow at ``features.motion_size``.
    source
        The video file (for messages).
    """

    rgb: np.ndarray
    flow: np.ndarray
    source: str = ""

    @property
    def n_frames(self) -> int:
        """Number of frames T."""
        return int(len(self.rgb))

    def stacks(self, frames: np.ndarray, n_rgb: int, n_flows: int) -> tuple[np.ndarray, np.ndarray]:
        """RGB stacks ``(B, n_rgb, S, S, 3)`` and flow stacks ``(B, n_flows, 2, s, s)``."""
        frames = np.asarray(frames)
        rgb_idx = stack_indices(frames, n_rgb, len(self.rgb))
        flow_idx = stack_indices(frames, n_flows, len(self.flow))
        return self.rgb[rgb_idx], self.flow[flow_idx]


def _flow_key_settings(settings: Settings) -> dict[str, Any]:
    flow = settings.flow
    out: dict[str, Any] = {"method": flow.method, "size": flow.size}
    if flow.method == "dis":
        out["dis_preset"] = flow.dis_preset
    else:
        out.update(arch=flow.arch, stack_frames=flow.stack_frames, model_dir=flow.model_dir)
        if flow.model_dir:
            for name in ("best.pt", "checkpoint.pt"):
                weights = Path(flow.model_dir) / name
                if weights.is_file():
                    out["weights_mtime_ns"] = weights.stat().st_mtime_ns
                    break
    # flow is computed from frames resized to input_size when the sizes agree
    out["from_resized"] = _flow_from_rgb(flow.size, settings.features.input_size,
                                         settings.features.crop == "animal")  # fmt: skip
    out["input_size"] = settings.features.motion_size  # the size the flow is resized to
    if _window_flow(settings):
        out.update(window=settings.features.crop_size, crop_version=CROP_VERSION)
    return out


def cache_key(video_path: str | Path, kind: str, settings: Settings) -> str:
    """Hash of the video's identity and the settings that change the ``kind`` array."""
    video_path = Path(video_path)
    stat = video_path.stat()
    relevant: dict[str, Any] = {"kind": kind, "version": CACHE_VERSION}
    if kind == "rgb":
        relevant["input_size"] = settings.features.input_size
        if settings.features.crop == "animal":
            relevant.update(crop=settings.features.crop, crop_size=settings.features.crop_size,
                            crop_version=CROP_VERSION)  # fmt: skip
    elif kind == "flow":
        relevant.update(_flow_key_settings(settings), unit=FLOW_UNIT, clip=FLOW_CLIP)
    else:
        raise ValueError(f"unknown cache kind {kind!r}")
    relevant["video"] = [video_path.name, stat.st_size, stat.st_mtime_ns]
    text = json.dumps(relevant, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def prepare_frames(
    chunks: Iterable[np.ndarray],
    settings: Settings,
    flow_model: Any = None,
    source: str = "frames",
    background: np.ndarray | None = None,
) -> VideoArrays:
    """Preprocess frames given as chunks of uint8 ``(n, H, W, 3)`` into in-memory arrays.

    ``background`` is needed with ``features.crop == "animal"`` (see :class:`FramePreprocessor`).
    """
    pre = FramePreprocessor(settings, flow_model, source, background)
    rgb, flow = [], []
    for frames in chunks:
        r, f = pre.push(frames)
        rgb.append(r)
        flow.append(f)
    flow.append(pre.finish())
    return VideoArrays(np.concatenate(rgb), np.concatenate(flow), source)


def _video_chunks(video_path: Path, progress: bool) -> Iterator[np.ndarray]:
    from ethogram.data.prefetch import prefetch
    from ethogram.io.video import VideoReader
    from ethogram.progress import progress_bar

    with VideoReader(video_path, cache_size=1) as reader:
        n_frames = len(reader)
        with progress_bar(n_frames, f"preprocess {video_path.name}", progress) as advance:
            # decoded in a thread of its own, while the caller computes flow (two cores)
            for _, frames in prefetch(reader.iter_chunks(CHUNK_SIZE, 0, n_frames)):
                yield frames
                advance(len(frames))


def prepare_video(
    video_path: str | Path,
    settings: Settings,
    progress: bool = True,
    flow_model: Any = None,
    background: np.ndarray | None = None,
) -> VideoArrays:
    """Resized frames and normalized flow of a video, from the on-disk cache or computed once.

    Parameters
    ----------
    video_path
        Video file; the cache goes to ``<its folder>/.cache/``.
    settings
        Full settings (``features.input_size``, ``features.flow_input_size`` and ``flow``).
    progress
        Show a progress bar while decoding.
    flow_model
        A loaded MotionNet for ``flow.method == "motionnet"`` (default: from ``flow.model_dir``).
    background
        The video's background for ``features.crop == "animal"``, if already known (default:
        :func:`background_image`, read only when the cache has to be built).

    Returns
    -------
    VideoArrays
        Read-only memmaps ``rgb`` (T, S, S, 3) uint8 and ``flow`` (T-1, 2, s, s) float16.
    """
    video_path = Path(video_path)
    if not video_path.is_file():
        raise VideoError(f"{video_path}: video file not found")
    paths = {kind: cache_paths(video_path, kind, cache_key(video_path, kind, settings))
             for kind in ("rgb", "flow")}  # fmt: skip
    arrays = {kind: open_array_cache(*paths[kind]) for kind in paths}
    if all(a is not None for a in arrays.values()):
        return VideoArrays(arrays["rgb"], arrays["flow"], str(video_path))

    meta = {"video": video_path.name, "settings": settings.model_dump(mode="json")}
    writers = {kind: ArrayCacheWriter(*paths[kind], meta) for kind in paths if arrays[kind] is None}
    try:
        if background is None:
            background = background_image(video_path, settings)
        pre = FramePreprocessor(settings, flow_model, str(video_path), background)
        for frames in _video_chunks(video_path, progress):
            rgb, flow = pre.push(frames)
            if "rgb" in writers:
                writers["rgb"].write(rgb)
            if "flow" in writers:
                writers["flow"].write(flow)
        last = pre.finish()
        if "flow" in writers:
            writers["flow"].write(last)
        if pre.n_frames < 2:
            raise VideoError(f"{video_path}: expected at least 2 frames, found {pre.n_frames}")
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    for writer in writers.values():
        writer.close()
    arrays = {kind: open_array_cache(*paths[kind]) for kind in paths}
    return VideoArrays(arrays["rgb"], arrays["flow"], str(video_path))
