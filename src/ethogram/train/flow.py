"""Unsupervised training of a MotionNet flow generator on a project's videos.

``ethogram train PROJECT --stage flow`` calls :func:`train_flow`. Frames are resized to
``flow.size``; each step draws random stacks of ``flow.stack_frames`` consecutive frames (with
random flips), and the network learns to reconstruct frame ``t`` from frame ``t + 1`` warped by its
flow (:func:`ethogram.flow.losses.motionnet_loss`). The last 20% of each video's frames are held
out for the validation loss. The model directory gets ``config.yaml``, ``checkpoint.pt`` (every
epoch, for resume), ``best.pt`` (lowest validation loss), ``metrics.json`` and ``figures/``
(training curves and ``flow_examples.png``: frames, color-coded flows and reconstructions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ethogram.errors import ConfigError, FlowError, ModelError, ProjectError

if TYPE_CHECKING:
    import torch

    from ethogram.config import Settings
    from ethogram.project import Project

logger = logging.getLogger(__name__)

VAL_FRACTION = 0.2
MAX_BYTES_PER_VIDEO = 150_000_000  # frames kept in memory per video (at flow.size) ...
MAX_BYTES_TOTAL = 1_500_000_000  # ... and for all videos together
CLIP_FRAMES = 300  # length of the clips read from videos too long to keep whole
MAX_VAL_STACKS = 48
FIGURE_NAME = "figures/flow_examples.png"
MOTIONNET_MIN_SIZE = 64


@dataclass
class Segment:
    """Consecutive frames of one video, resized: ``frames[i]`` is video frame ``start + i``."""

    stem: str
    start: int
    frames: np.ndarray  # (T, s, s, 3) uint8

    def describe(self) -> list[Any]:
        return [self.stem, self.start, self.start + len(self.frames)]


def _read_segments(path: Path, stem: str, size: int, max_bytes: int) -> list[Segment]:
    """Read a video resized to ``size``; long videos as evenly spaced clips (bounded memory)."""
    from ethogram.flow.dis import resize_frames
    from ethogram.io.video import VideoReader

    segments = []
    with VideoReader(path, cache_size=1) as reader:
        n_frames = len(reader)
        budget = max(max_bytes // (size * size * 3), CLIP_FRAMES)
        if n_frames <= budget:
            spans = [(0, n_frames)]
        else:
            n_clips = budget // CLIP_FRAMES
            starts = np.linspace(0, n_frames - CLIP_FRAMES, n_clips).astype(int)
            spans = [(int(s), int(s) + CLIP_FRAMES) for s in starts]
        for start, stop in spans:
            chunks = [resize_frames(f, size) for _, f in reader.iter_chunks(256, start, stop)]
            if chunks:
                segments.append(Segment(stem, start, np.concatenate(chunks)))
    return segments


def _hold_out(segments: list[Segment], n_val: int) -> tuple[list[Segment], list[Segment]]:
    """Split a video's segments: its last ``n_val`` frames for validation, the rest for training."""
    train: list[Segment] = []
    val: list[Segment] = []
    for seg in reversed(segments):
        if n_val <= 0:
            train.insert(0, seg)
        elif len(seg.frames) <= n_val:
            val.insert(0, seg)
            n_val -= len(seg.frames)
        else:
            cut = len(seg.frames) - n_val
            train.insert(0, Segment(seg.stem, seg.start, seg.frames[:cut]))
            val.insert(0, Segment(seg.stem, seg.start + cut, seg.frames[cut:]))
            n_val = 0
    return train, val


def load_flow_data(
    project: Project, size: int, stack: int
) -> tuple[list[Segment], list[Segment], dict[str, Any]]:
    """Read a project's videos at ``size`` and split them into training and validation segments.

    Returns
    -------
    train, val : list of Segment
        Segments of at least ``stack`` frames.
    split : dict
        ``{"train": [[stem, start, stop], ...], "val": [...], "note": ...}`` for ``metrics.json``.
    """
    videos = project.videos
    if not videos:
        raise ProjectError(
            f"{project.root}: the project has no videos; add some with `ethogram add` first"
        )
    train: list[Segment] = []
    val: list[Segment] = []
    too_short = []
    max_bytes = min(MAX_BYTES_PER_VIDEO, MAX_BYTES_TOTAL // len(videos))
    for record in videos:
        segments = _read_segments(record.video_path, record.stem, size, max_bytes)
        total = sum(len(s.frames) for s in segments)
        if total < stack:
            too_short.append(f"{record.video_path.name} ({total} frames)")
            continue
        n_val = max(int(round(VAL_FRACTION * total)), stack)
        if total - n_val >= stack:
            video_train, video_val = _hold_out(segments, n_val)
        else:  # too short to hold frames out: train on all of it
            video_train, video_val = segments, []
        train += [s for s in video_train if len(s.frames) >= stack]
        val += [s for s in video_val if len(s.frames) >= stack]
    if not train:
        raise FlowError(
            f"{project.root}: flow training needs videos of at least {stack} frames "
            f"(flow.stack_frames); found {', '.join(too_short)}"
        )
    note = "last 20% of each video's frames held out for validation"
    if not val:
        val = train
        note = "videos too short to hold frames out: validation loss is on training frames"
    split = {
        "train": [s.describe() for s in train],
        "val": [s.describe() for s in val],
        "note": note,
    }
    return train, val, split


def sample_batch(segments: list[Segment], stack: int, batch_size: int, augment: bool = True):
    """Draw random stacks ``(B, N, 3, s, s)`` in [0, 1] (global NumPy RNG, seeded per epoch)."""
    import torch

    weights = np.array([len(s.frames) - stack + 1 for s in segments], np.float64)
    choice = np.random.choice(len(segments), size=batch_size, p=weights / weights.sum())
    stacks = []
    for index in choice:
        seg = segments[index]
        start = np.random.randint(0, len(seg.frames) - stack + 1)
        clip = seg.frames[start : start + stack]
        if augment:
            if np.random.rand() < 0.5:
                clip = clip[:, :, ::-1]
            if np.random.rand() < 0.5:
                clip = clip[:, ::-1]
        stacks.append(np.ascontiguousarray(clip))
    batch = torch.from_numpy(np.stack(stacks)).permute(0, 1, 4, 2, 3)
    return batch.float() / 255


def validation_stacks(segments: list[Segment], stack: int, limit: int = MAX_VAL_STACKS):
    """Fixed validation stacks ``(n, N, 3, s, s)``, evenly spread over the segments."""
    import torch

    candidates = [
        (i, start)
        for i, seg in enumerate(segments)
        for start in range(0, len(seg.frames) - stack + 1, stack - 1)
    ]
    picks = np.linspace(0, len(candidates) - 1, min(limit, len(candidates))).astype(int)
    stacks = [segments[i].frames[s : s + stack] for i, s in (candidates[p] for p in picks)]
    return torch.from_numpy(np.stack(stacks)).permute(0, 1, 4, 2, 3).float() / 255


def _resolve_resume(resume: Path) -> Path:
    """The model directory to resume (it holds config.yaml, and checkpoint.pt after an epoch)."""
    resume = Path(resume)
    model_dir = resume.parent if resume.is_file() else resume
    if not (model_dir / "config.yaml").is_file():
        raise ModelError(f"{resume}: not a flow model directory (no config.yaml) to resume")
    return model_dir


def train_flow(
    project: Project,
    settings: Settings | None = None,
    resume: Path | None = None,
    progress: bool = True,
) -> Path:
    """Train a MotionNet flow generator on a project's videos, without ground-truth flow.

    Parameters
    ----------
    project
        The project; all its videos are used.
    settings
        Settings (``flow`` section: arch, size, stack_frames, epochs, batch_size, lr,
        steps_per_epoch, smooth_weight, ssim_weight; plus ``device`` and ``seed``).
        Default: the project's settings.
    resume
        A flow model directory (or its checkpoint.pt) to continue: training goes on from the epoch
        after the last saved one (from the start if none finished), with that directory's saved
        settings; only ``flow.epochs`` comes from ``settings`` (so a finished run can be extended).
    progress
        Show progress bars. Notes (one line per epoch) go to the logger ``ethogram.train.flow``.

    Returns
    -------
    pathlib.Path
        The model directory (``config.yaml``, ``checkpoint.pt``, ``best.pt``, ``metrics.json``,
        ``figures/flow_examples.png``).
    """
    import torch

    from ethogram.config import read_settings, save_settings
    from ethogram.flow.losses import motionnet_loss
    from ethogram.models.device import choose_device
    from ethogram.nn.motionnet import build_motionnet
    from ethogram.progress import progress_iter
    from ethogram.train.common import fit, seed_everything
    from ethogram.train.distributed import current

    dist = current()
    progress = progress and dist.is_main
    settings = settings if settings is not None else project.settings()
    model_dir = None
    if resume is not None:
        model_dir = _resolve_resume(resume)
        saved = read_settings(model_dir / "config.yaml")
        flow = saved.flow.model_copy(update={"epochs": settings.flow.epochs})
        settings = saved.model_copy(update={"flow": flow})
    fs = settings.flow
    if fs.arch == "MotionNet" and fs.size < MOTIONNET_MIN_SIZE:
        raise ConfigError(
            f"MotionNet downsamples frames 32x and needs flow.size >= {MOTIONNET_MIN_SIZE}, "
            f"got {fs.size}; use a larger flow.size or flow.arch=TinyMotionNet"
        )
    device = choose_device(settings.device)
    # read the videos before creating the model folder: bad input leaves no empty folder behind
    train_segments, val_segments, split = load_flow_data(project, fs.size, fs.stack_frames)
    if dist.is_main:
        if model_dir is None:
            model_dir = project.new_model_dir("flow", fs.arch.lower())
        save_settings(settings, model_dir / "config.yaml")
    model_dir = dist.broadcast(model_dir)

    seed_everything(settings.seed)
    val_batch = validation_stacks(val_segments, fs.stack_frames)
    model = build_motionnet(fs.arch, fs.stack_frames).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=fs.lr)
    meta = {**model.config(), "size": fs.size, "stage": "flow"}
    if dist.active and settings.train.sync_batchnorm:
        from ethogram.train.batchnorm_sync import synchronize_batchnorm

        synchronize_batchnorm(model)  # statistics of the whole batch, as in one process
    network = dist.wrap(model, device)  # DDP around the model with several ranks

    def train_epoch(epoch: int) -> dict[str, float]:
        totals: dict[str, float] = {}
        n_stacks = 0
        steps = progress_iter(
            range(fs.steps_per_epoch), fs.steps_per_epoch, f"flow epoch {epoch}", progress
        )
        for _ in steps:
            # every rank draws the same global batch (same seed) and trains on its share
            whole = sample_batch(train_segments, fs.stack_frames, fs.batch_size)
            batch = dist.shard(whole).to(device)
            loss, parts = motionnet_loss(batch, network(model.input_from_stack(batch)), fs)
            optimizer.zero_grad(set_to_none=True)
            (loss * (len(batch) * dist.world_size / len(whole))).backward()
            optimizer.step()
            for key, value in parts.items():
                totals[key] = totals.get(key, 0.0) + value * len(batch)
            n_stacks += len(batch)
        *sums, n_stacks = dist.sum([*totals.values(), n_stacks])
        return {("train_loss" if k == "total" else f"train_{k}"): v / n_stacks
                for k, v in zip(totals, sums, strict=True)}  # fmt: skip

    def validate(epoch: int) -> dict[str, float]:
        parts = evaluate_loss(model, val_batch, fs, device)
        return {("val_loss" if k == "total" else f"val_{k}"): v for k, v in parts.items()}

    fit(
        model_dir,
        model,
        optimizer,
        epochs=fs.epochs,
        train_epoch=train_epoch,
        validate=validate,
        monitor="val_loss",
        mode="min",
        metrics_header={"stage": "flow", "arch": fs.arch, "size": fs.size, "split": split},
        extra_state=lambda: meta,
        seed=settings.seed,
        resume=resume is not None,
        log=logger.info,
    )
    from ethogram.models.checkpoint import load_training_checkpoint
    from ethogram.models.folder import BEST_NAME

    if not dist.is_main:
        return model_dir
    if (model_dir / BEST_NAME).is_file():  # absent only if every validation loss was NaN
        model.load_state_dict(load_training_checkpoint(model_dir / BEST_NAME)["model"])
    save_flow_figure(model, val_batch[:1].to(device), model_dir / FIGURE_NAME)
    return model_dir


def evaluate_loss(model, stacks: torch.Tensor, settings, device, batch_size: int = 8) -> dict:
    """Mean loss components of ``model`` on fixed stacks (eval mode, no gradients)."""
    import torch

    from ethogram.flow.losses import motionnet_loss

    model.eval()
    sums: dict[str, float] = {}
    with torch.no_grad():
        for i in range(0, len(stacks), batch_size):
            batch = stacks[i : i + batch_size].to(device)
            _, parts = motionnet_loss(batch, model(model.input_from_stack(batch)), settings)
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value * len(batch)
    return {k: v / len(stacks) for k, v in sums.items()}


def save_flow_figure(model, stack: torch.Tensor, path: Path, n_pairs: int = 4) -> Path:
    """Save a figure of example frames, color-coded flows and reconstructions (PNG, atomic).

    Parameters
    ----------
    model
        A flow network.
    stack
        One stack ``(1, N, 3, s, s)`` in [0, 1].
    path
        Output PNG.
    n_pairs
        Frame pairs shown (rows).
    """
    import torch
    from matplotlib.figure import Figure

    from ethogram.flow.losses import warp
    from ethogram.flow.preview import flow_to_rgb, robust_max_magnitude
    from ethogram.io.atomic import atomic_path
    from ethogram.nn.motionnet import resize_flow

    model.eval()
    size = stack.shape[-2:]
    with torch.no_grad():
        flow = resize_flow(model(model.input_from_stack(stack))[0], tuple(size))
        flow = flow.view(-1, 2, *size)  # (N-1, 2, s, s)
        frames = stack[0]
        recon = warp(frames[1:], flow)
    n = min(n_pairs, len(flow))
    flow_np = flow[:n].cpu().numpy()
    max_magnitude = robust_max_magnitude(flow_np)
    colors = flow_to_rgb(flow_np, max_magnitude)
    images = frames.permute(0, 2, 3, 1).cpu().numpy()
    recon_np = recon.permute(0, 2, 3, 1).clamp(0, 1).cpu().numpy()
    unwarped = np.abs(images[1 : n + 1] - images[:n]).mean(-1)
    warped = np.abs(recon_np[:n] - images[:n]).mean(-1)
    vmax = max(float(np.percentile(unwarped, 99)), 1e-3)  # same scale for both errors
    titles = [
        "frame t",
        "frame t+1",
        f"flow t→t+1 (≤{max_magnitude:.1f} px)",
        "t+1 warped to t",
        "|t+1 − t| (no flow)",
        "|warped − t|",
    ]
    fig = Figure(figsize=(2.0 * len(titles), 2.0 * n + 0.4))
    axes = fig.subplots(n, len(titles), squeeze=False)
    for row in range(n):
        panels = [images[row], images[row + 1], colors[row], recon_np[row], unwarped[row]]
        panels.append(warped[row])
        for col, panel in enumerate(panels):
            ax = axes[row, col]
            if panel.ndim == 2:
                ax.imshow(panel, cmap="magma", vmin=0, vmax=vmax)
            else:
                ax.imshow(panel)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(titles[col], fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return path
