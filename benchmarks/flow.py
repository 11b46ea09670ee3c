"""Optical flow methods side by side: pairs per second and end-point error against known motion.

Synthetic textured sequences (smoothed noise) move with a known flow field: a translation and a
rotation about the image centre. Each method computes flow at the sequence's size; the end-point
error (EPE, mean Euclidean distance to the true flow in pixels per frame) is measured on the central
region (a margin of size/8 is ignored, where content enters or leaves the view). Methods: DIS with
each preset, and TinyMotionNet untrained and briefly trained (unsupervised, on other synthetic
sequences of random translations and rotations at --train-size). Prints one JSON object.

    python benchmarks/flow.py                        # sizes 128 and 224, 250 training steps
    python benchmarks/flow.py --sizes 64 128 --train-steps 50 --threads 2
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import cv2
import numpy as np
import torch

from ethogram.config import FlowSettings
from ethogram.flow.api import compute_flow
from ethogram.flow.dis import dis_flow
from ethogram.flow.losses import motionnet_loss
from ethogram.nn.motionnet import build_motionnet


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smoothed RGB noise, float32 in [0, 255], with features about size/48 pixels wide."""
    noise = rng.random((size, size, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), max(size / 48 / 1.5, 1.0))
    smooth -= smooth.min()
    return smooth / smooth.max() * 255


def synthetic_sequence(
    rng: np.random.Generator,
    n_frames: int,
    size: int,
    shift: tuple[float, float] = (0.0, 0.0),
    degrees: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Frames moving by a translation ``shift`` (px/frame) plus a rotation (degrees/frame).

    Returns
    -------
    frames : uint8 (T, size, size, 3)
    flow : float32 (2, size, size), the same for every pair: frame t at x is frame t+1 at x + flow.
    """
    pad = int(np.ceil(np.hypot(*shift) * n_frames + size * 0.75))
    texture = _texture(rng, size + 2 * pad)
    c = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    theta = np.deg2rad(degrees)
    frames = []
    for t in range(n_frames):
        # frame_t(x) = texture(R(-t theta)(x - c) + c - t * shift + pad)
        a = -t * theta
        u = np.cos(a) * (xs - c) - np.sin(a) * (ys - c) + c - t * shift[0] + pad
        v = np.sin(a) * (xs - c) + np.cos(a) * (ys - c) + c - t * shift[1] + pad
        frame = cv2.remap(texture, u.astype(np.float32), v.astype(np.float32), cv2.INTER_CUBIC)
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
    # x + flow(x) = R(theta)(x - c) + c + shift
    fx = np.cos(theta) * (xs - c) - np.sin(theta) * (ys - c) + c + shift[0] - xs
    fy = np.sin(theta) * (xs - c) + np.cos(theta) * (ys - c) + c + shift[1] - ys
    return np.stack(frames), np.stack([fx, fy]).astype(np.float32)


def endpoint_error(flow: np.ndarray, truth: np.ndarray) -> float:
    """Mean end-point error over pairs, ignoring a margin of size/8."""
    m = truth.shape[-1] // 8
    diff = flow[..., m:-m, m:-m] - truth[None, :, m:-m, m:-m]
    return float(np.sqrt((diff**2).sum(1)).mean())


def eval_sequences(size: int, n_frames: int, seed: int = 123) -> dict[str, tuple]:
    rng = np.random.default_rng(seed)
    scale = size / 128
    return {
        "translation": synthetic_sequence(rng, n_frames, size, shift=(2.5 * scale, -1.5 * scale)),
        "rotation": synthetic_sequence(rng, n_frames, size, degrees=2.0),
    }


def train_tinymotionnet(size: int, steps: int, stack: int, batch: int, seed: int = 0):
    """Train TinyMotionNet briefly, unsupervised, on random synthetic motions at ``size``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_motionnet("TinyMotionNet", num_images=stack)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    settings = FlowSettings(method="motionnet", size=size, stack_frames=stack)
    scale = size / 128
    started = time.perf_counter()
    for _ in range(steps):
        clips = []
        for _ in range(batch):
            shift = tuple(rng.uniform(-3, 3, 2) * scale)
            degrees = rng.uniform(-3, 3) if rng.random() < 0.5 else 0.0
            clips.append(synthetic_sequence(rng, stack, size, shift, degrees)[0])
        x = torch.from_numpy(np.stack(clips)).permute(0, 1, 4, 2, 3).float() / 255
        loss, _ = motionnet_loss(x, net(net.input_from_stack(x)), settings)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return net.eval(), time.perf_counter() - started


def measure(method, sequences: dict, repeats: int) -> dict:
    """Pairs per second (best of ``repeats`` on the translation sequence) and EPE per motion."""
    frames = sequences["translation"][0]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        method(frames)
        best = min(best, time.perf_counter() - started)
    row = {"pairs_per_s": round((len(frames) - 1) / best, 1)}
    for name, (seq, truth) in sequences.items():
        row[f"epe_{name}"] = round(endpoint_error(method(seq), truth), 3)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 224])
    parser.add_argument("--frames", type=int, default=41, help="Frames per test sequence.")
    parser.add_argument("--train-steps", type=int, default=250)
    parser.add_argument("--train-size", type=int, default=128)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--stack", type=int, default=11, help="MotionNet frames per stack.")
    parser.add_argument("--threads", type=int, default=1, help="torch and OpenCV threads.")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    untrained = build_motionnet("TinyMotionNet", num_images=args.stack).eval()
    print(f"training TinyMotionNet for {args.train_steps} steps...", file=sys.stderr)
    trained, train_seconds = train_tinymotionnet(
        args.train_size, args.train_steps, args.stack, args.train_batch
    )

    results: dict[str, dict] = {}
    for size in args.sizes:
        sequences = eval_sequences(size, args.frames)
        zero = {
            f"epe_{name}": round(endpoint_error(np.zeros((1, *truth.shape), np.float32), truth), 3)
            for name, (_, truth) in sequences.items()
        }
        rows = {"zero_flow": zero}
        for preset in ("ultrafast", "fast", "medium"):
            rows[f"dis_{preset}"] = measure(
                lambda f, p=preset: dis_flow(f, None, p), sequences, args.repeats
            )
        settings = FlowSettings(method="motionnet", size=size, stack_frames=args.stack)
        for name, net in (
            ("tinymotionnet_untrained", untrained),
            ("tinymotionnet_trained", trained),
        ):
            rows[name] = measure(
                lambda f, n=net, s=settings: compute_flow(f, s, model=n), sequences, args.repeats
            )
        results[str(size)] = rows
        print(f"size {size} done", file=sys.stderr)

    report = {
        "benchmark": "flow",
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "threads": args.threads,
            "torch": torch.__version__,
            "opencv": cv2.__version__,
        },
        "sequences": {
            "frames": args.frames,
            "translation_px_per_frame": "(2.5, -1.5) * size/128",
            "rotation_deg_per_frame": 2.0,
            "epe_margin": "size/8 ignored on each side",
        },
        "tinymotionnet_training": {
            "steps": args.train_steps,
            "batch": args.train_batch,
            "size": args.train_size,
            "lr": "3e-4, cosine decay",
            "stack": args.stack,
            "seconds": round(train_seconds, 1),
        },
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
