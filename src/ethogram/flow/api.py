"""The one interface to optical flow: DIS or a learned MotionNet, chosen by ``settings.method``.

::

    from ethogram.flow.api import compute_flow, load_motionnet, video_flow

    flow = compute_flow(frames, settings.flow)        # (T-1, 2, size, size) float32
    net = load_motionnet("project/models/250101_120000_flow")
    flow = video_flow("mouse.mp4", settings.flow, model=net)

MotionNet flow slides non-overlapping stacks of ``stack_frames`` frames along the video (each stack
shares its first frame with the previous stack's last), takes the finest flows, upsamples them to
``size`` x ``size`` and rescales them to pixels per frame there; the pairs at the end of the video
come from one last stack aligned with the video's end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ethogram.config import FlowSettings
from ethogram.errors import FlowError, ModelError
from ethogram.flow.dis import DisFlowStream, check_frames, resize_frames
from ethogram.progress import progress_bar

if TYPE_CHECKING:
    from torch import nn

METHODS = ("dis", "motionnet")
CHUNK_SIZE = 256


def flow_settings(settings: Any) -> FlowSettings:
    """Return the flow section of ``settings`` (a full Settings or FlowSettings)."""
    return getattr(settings, "flow", settings)


class MotionNetFlowStream:
    """MotionNet flow over frames that arrive in chunks.

    Parameters
    ----------
    model
        A flow network from :mod:`ethogram.nn.motionnet`.
    size
        Frames are resized to ``size`` x ``size``; flows are returned at that size.
    batch_size
        Stacks per forward pass.
    source
        Name used in error messages (e.g. the video file).
    """

    def __init__(self, model: nn.Module, size: int, batch_size: int = 8, source: str = "frames"):
        self.model = model
        self.size = size
        self.batch_size = batch_size
        self.source = source
        self.n = int(model.num_images)
        self._pending: list[np.ndarray] = []  # frames of the next stack, from its first frame
        self._tail: deque[np.ndarray] = deque(maxlen=self.n)  # the last n frames seen
        self.n_frames = 0

    def push(self, frames: np.ndarray) -> np.ndarray:
        """Add frames ``(n, H, W, 3)`` uint8; return the flows completed, ``(m, 2, size, size)``."""
        resized = resize_frames(frames, self.size)
        self.n_frames += len(resized)
        stacks = []
        for frame in resized:
            self._pending.append(frame)
            self._tail.append(frame)
            if len(self._pending) == self.n:
                stacks.append(np.stack(self._pending))
                self._pending = self._pending[-1:]
        return self._run(stacks)

    def finish(self) -> np.ndarray:
        """Return the flows of the frames after the last full stack (from a stack at the end)."""
        remaining = len(self._pending) - 1
        if self.n_frames < self.n:
            raise FlowError(
                f"{self.source}: MotionNet flow needs at least {self.n} frames (one stack), "
                f"found {self.n_frames}"
            )
        if remaining <= 0:
            return self._run([])
        self._pending = self._pending[-1:]
        return self._run([np.stack(self._tail)])[-remaining:]

    def _run(self, stacks: list[np.ndarray]) -> np.ndarray:
        import torch

        from ethogram.nn.motionnet import resize_flow

        if not stacks:
            return np.zeros((0, 2, self.size, self.size), np.float32)
        device = next(self.model.parameters()).device
        out = []
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                for i in range(0, len(stacks), self.batch_size):
                    batch = np.stack(stacks[i : i + self.batch_size])  # (B, N, H, W, 3)
                    x = torch.from_numpy(batch).to(device).permute(0, 1, 4, 2, 3).float() / 255
                    finest = self.model(self.model.input_from_stack(x))[0]
                    flow = resize_flow(finest, (self.size, self.size))
                    out.append(flow.view(-1, 2, self.size, self.size).float().cpu().numpy())
        finally:
            self.model.train(was_training)
        return np.concatenate(out).astype(np.float32, copy=False)


def resize_flow_array(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize flows ``(n, 2, h, w)`` to ``size = (H, W)`` (bilinear), rescaling to pixels there.

    Parameters
    ----------
    flow
        float32 flows in pixels per frame at ``(h, w)``.
    size
        Target ``(height, width)``.

    Returns
    -------
    numpy.ndarray
        float32 ``(n, 2, H, W)`` in pixels per frame at ``(H, W)``.
    """
    import cv2

    height, width = size
    h, w = flow.shape[-2:]
    if (h, w) == (height, width):
        return flow.astype(np.float32, copy=False)
    out = np.empty((len(flow), 2, height, width), np.float32)
    for i, field in enumerate(flow):
        out[i, 0] = cv2.resize(field[0], (width, height), interpolation=cv2.INTER_LINEAR)
        out[i, 1] = cv2.resize(field[1], (width, height), interpolation=cv2.INTER_LINEAR)
    out[:, 0] *= width / w
    out[:, 1] *= height / h
    return out


def _check_method(settings: FlowSettings, source: str = "settings") -> None:
    if settings.method not in METHODS:
        raise FlowError(
            f"{source}: unknown flow method '{settings.method}', expected one of {list(METHODS)}"
        )


def make_stream(
    settings: Any, model: nn.Module | None = None, source: str = "frames"
) -> DisFlowStream | MotionNetFlowStream:
    """Build the streaming flow computer that ``settings.method`` names.

    Parameters
    ----------
    settings
        Settings or FlowSettings.
    model
        A loaded MotionNet (method ``motionnet``); default: loaded from ``settings.model_dir``.
    source
        Name used in error messages.
    """
    settings = flow_settings(settings)
    _check_method(settings)
    if settings.method == "dis":
        return DisFlowStream(settings.size, settings.dis_preset)
    if model is None:
        if not settings.model_dir:
            raise FlowError(
                "flow method 'motionnet' needs a trained model: set flow.model_dir=DIR "
                "(train one with `ethogram train PROJECT --stage flow`) or pass a model"
            )
        model = load_motionnet(settings.model_dir)
    return MotionNetFlowStream(model, settings.size, settings.batch_size, source=source)


def compute_flow(frames: np.ndarray, settings: Any, model: nn.Module | None = None) -> np.ndarray:
    """Compute optical flow between consecutive frames with the method the settings choose.

    Parameters
    ----------
    frames
        RGB frames ``(T, H, W, 3)`` uint8.
    settings
        Settings or FlowSettings: ``method`` (``dis`` or ``motionnet``), ``size``, ``dis_preset``,
        ``model_dir`` (used when ``model`` is None).
    model
        A loaded MotionNet for method ``motionnet`` (see :func:`load_motionnet`).

    Returns
    -------
    numpy.ndarray
        float32 ``(T-1, 2, size, size)``: dx, dy in pixels per frame at ``size`` x ``size``.
    """
    frames = check_frames(frames)
    settings = flow_settings(settings)
    _check_method(settings)
    if len(frames) < 2:
        raise FlowError(f"frames: optical flow needs at least 2 frames, found {len(frames)}")
    stream = make_stream(settings, model)
    return np.concatenate([stream.push(frames), stream.finish()])


def iter_video_flow(
    video_path: str | Path,
    settings: Any,
    model: nn.Module | None = None,
    progress: bool = True,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[tuple[int, np.ndarray]]:
    """Stream flow over a video in chunks, with a progress bar.

    Yields
    ------
    first_pair : int
        Index of the first flow of the chunk (flow ``i`` maps frame ``i`` to ``i + 1``).
    flow : numpy.ndarray
        float32 ``(n, 2, size, size)``.
    """
    from ethogram.io.video import VideoReader

    video_path = Path(video_path)
    settings = flow_settings(settings)
    _check_method(settings, str(video_path))
    with VideoReader(video_path, cache_size=1) as reader:
        n_frames = len(reader)
        stack = settings.stack_frames if settings.method == "motionnet" else 2
        if model is not None and settings.method == "motionnet":
            stack = int(model.num_images)
        if n_frames < stack:
            what = f"a stack of {stack} frames for MotionNet" if stack > 2 else "at least 2 frames"
            raise FlowError(f"{video_path}: optical flow needs {what}, found {n_frames} frames")
        stream = make_stream(settings, model, source=str(video_path))
        done = 0
        with progress_bar(n_frames - 1, f"flow {video_path.name}", progress) as advance:
            for _, frames in reader.iter_chunks(chunk_size):
                flow = stream.push(frames)
                if len(flow):
                    yield done, flow
                    done += len(flow)
                    advance(len(flow))
            flow = stream.finish()
            if len(flow):
                yield done, flow
                advance(len(flow))


def video_flow(
    video_path: str | Path,
    settings: Any,
    model: nn.Module | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Compute flow over a whole video with the method the settings choose.

    Parameters
    ----------
    video_path
        Video file.
    settings
        Settings or FlowSettings (see :func:`compute_flow`).
    model
        A loaded MotionNet for method ``motionnet``.
    progress
        Show a progress bar on stderr.

    Returns
    -------
    numpy.ndarray
        float32 ``(T-1, 2, size, size)`` in pixels per frame at ``size`` x ``size``.
    """
    settings = flow_settings(settings)
    chunks = [flow for _, flow in iter_video_flow(video_path, settings, model, progress)]
    return np.concatenate(chunks)


def _build_from_checkpoint(state: dict, path: Path, settings: FlowSettings | None) -> nn.Module:
    from ethogram.nn.motionnet import MOTIONNETS, build_motionnet

    arch = state.get("arch") or (settings.arch if settings else None)
    num_images = state.get("num_images") or (settings.stack_frames if settings else None)
    if arch is None or num_images is None:
        raise ModelError(f"{path}: checkpoint does not say which flow network it holds")
    if arch not in MOTIONNETS:
        raise ModelError(
            f"{path}: unknown flow network '{arch}', expected one of {list(MOTIONNETS)}"
        )
    model = build_motionnet(str(arch), int(num_images), state.get("channel_base"))
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{path}: weights do not fit {arch} with {num_images} input frames ({first})"
        ) from None
    return model


def load_motionnet(model_dir: str | Path, device: str = "cpu") -> nn.Module:
    """Load a trained MotionNet from a model directory (``best.pt``, else ``checkpoint.pt``).

    Parameters
    ----------
    model_dir
        Directory written by :func:`ethogram.train.flow.train_flow` (or a ``.pt`` file in it).
    device
        Torch device to put the network on.

    Returns
    -------
    torch.nn.Module
        The network in eval mode, with ``num_images`` and ``flow_size`` (training size) set.
    """
    from ethogram.config import read_settings
    from ethogram.models.checkpoint import load_training_checkpoint
    from ethogram.models.folder import BEST_NAME, CHECKPOINT_NAME, CONFIG_NAME

    path = Path(model_dir)
    if path.is_file():
        weights, path = path, path.parent
    elif path.is_dir():
        candidates = [path / BEST_NAME, path / CHECKPOINT_NAME]
        weights = next((p for p in candidates if p.is_file()), None)
        if weights is None:
            raise ModelError(
                f"{path}: no best.pt or checkpoint.pt; is this a flow model directory?"
            )
    else:
        raise ModelError(f"{path}: flow model directory not found")
    settings = None
    if (path / CONFIG_NAME).is_file():
        settings = read_settings(path / CONFIG_NAME).flow
    state = load_training_checkpoint(weights)
    meta = {**(state.get("extra") or {}), **{k: v for k, v in state.items() if k != "extra"}}
    if meta.get("stage", "flow") != "flow":
        raise ModelError(f"{weights}: expected a flow model, found stage '{meta.get('stage')}'")
    model = _build_from_checkpoint(meta, weights, settings)
    model.flow_size = int(meta.get("size") or (settings.size if settings else 0)) or None
    return model.to(device).eval()
