"""Synthetic videos of a top-down "animal" in an arena, with exact per-frame behavior labels.

The sample data of the demo and the end-to-end tests. A semi-Markov process picks one behavior per
frame (bouts of 0.5-4 s); a kinematic simulator turns it into a pose (position, heading, body
bend, head and forepaw positions) and a renderer draws the pose over a textured arena with
vignetting, lighting flicker, sensor noise and occasional distractor motion.

The behaviors are built so that motion, not a single frame, tells them apart: a grooming frame
has the posture of a sitting animal, turning and walking both move many pixels, rearing is still.
A rule thresholding the amount of frame-to-frame change does not solve the task.

Examples
--------
>>> frames, labels = render_sample(n_frames=90, seed=0, size=64)
>>> frames.shape, labels.shape
((90, 64, 64, 3), (90, 5))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ethogram.errors import EthogramError

SAMPLE_BEHAVIORS = ["background", "locomotion", "grooming", "turning", "rearing"]
"""Behaviors of the sample videos; ``background`` (rest, sitting, slow exploring) first."""

BACKGROUND, LOCOMOTION, GROOMING, TURNING, REARING = range(5)
STILL, SITTING, EXPLORING = range(3)  # sub-modes of background
FACE, FLANK = range(2)  # sub-modes of grooming

# Bout durations in seconds: (median, log-sd, min, max).
_DURATION_S = {
    BACKGROUND: (1.6, 0.5, 0.5, 4.0),
    LOCOMOTION: (1.3, 0.5, 0.5, 4.0),
    GROOMING: (2.0, 0.4, 0.8, 4.0),
    TURNING: (0.8, 0.3, 0.5, 1.6),
    REARING: (1.0, 0.35, 0.5, 2.0),
}
# Probability of the next bout's behavior given the current one (rows sum to 1). Background may
# follow background (a change of sub-mode), so rest periods can last longer than one bout.
_TRANSITIONS = np.array(
    [
        [0.25, 0.33, 0.20, 0.15, 0.07],
        [0.50, 0.00, 0.10, 0.32, 0.08],
        [0.70, 0.15, 0.00, 0.12, 0.03],
        [0.42, 0.50, 0.04, 0.00, 0.04],
        [0.65, 0.20, 0.00, 0.15, 0.00],
    ]
)
_POSE_TAU_FRAMES = 2.5  # time constant with which the posture follows the behavior


@dataclass
class SampleVideo:
    """One generated video and its label file."""

    video_path: Path
    labels_path: Path
    stem: str


@dataclass
class Trajectory:
    """What the simulated animal does and how it is posed, frame by frame (arrays of length T).

    Lengths are in units of ``body_length_px`` unless named ``_px``; angles in radians.
    """

    behavior: np.ndarray  # int, index into SAMPLE_BEHAVIORS
    mode: np.ndarray  # int, sub-mode of the behavior (STILL/SITTING/EXPLORING, FACE/FLANK)
    x_px: np.ndarray
    y_px: np.ndarray
    heading: np.ndarray
    length: np.ndarray  # body stretch (1 = walking length; < 1 hunched or foreshortened)
    width: np.ndarray
    bend: np.ndarray  # curvature of the spine, radians over one body length
    lateral: np.ndarray  # sideways offset of the body (gait wobble)
    head_yaw: np.ndarray
    head_length: np.ndarray
    head_scale: np.ndarray  # > 1 when the head is lifted towards the camera (rearing)
    head_bright: np.ndarray
    paws: np.ndarray  # (T, 3): visibility, position along the body, lateral spread
    tail_phase: np.ndarray
    body_length_px: float
    fps: float
    arena: dict  # floor geometry: {"shape": "square", "rect": ...} or {"shape": "round", ...}

    def labels(self) -> np.ndarray:
        """One-hot labels, int8 (T, K), columns :data:`SAMPLE_BEHAVIORS`."""
        out = np.zeros((len(self.behavior), len(SAMPLE_BEHAVIORS)), dtype=np.int8)
        out[np.arange(len(self.behavior)), self.behavior] = 1
        return out


def _check_args(n_frames: int, size: int, fps: float) -> None:
    if int(n_frames) < 1:
        raise EthogramError(f"sample: expected at least 1 frame, got n_frames={n_frames}")
    if int(size) < 32 or int(size) % 2:
        raise EthogramError(f"sample: expected an even frame size >= 32 pixels, got size={size}")
    if not fps > 0:
        raise EthogramError(f"sample: expected fps > 0, got fps={fps}")


def _arena_bounds(size: int, rng: np.random.Generator) -> dict:
    """Geometry of the arena floor: a square (rect) or a round arena, slightly off-centre."""
    if rng.random() < 0.6:
        margins = rng.uniform(0.05, 0.1, size=4) * size
        return {
            "shape": "square",
            "rect": (margins[0], margins[1], size - margins[2], size - margins[3]),
        }
    radius = rng.uniform(0.41, 0.46) * size
    centre = size / 2 + rng.uniform(-0.02, 0.02, size=2) * size
    return {"shape": "round", "centre": centre, "radius": radius}


def _inside(arena: dict, x: float, y: float, margin: float) -> bool:
    if arena["shape"] == "square":
        x0, y0, x1, y1 = arena["rect"]
        return x0 + margin <= x <= x1 - margin and y0 + margin <= y <= y1 - margin
    cx, cy = arena["centre"]
    return (x - cx) ** 2 + (y - cy) ** 2 <= (arena["radius"] - margin) ** 2


def _clamp(arena: dict, x: float, y: float, margin: float) -> tuple[float, float]:
    if arena["shape"] == "square":
        x0, y0, x1, y1 = arena["rect"]
        return float(np.clip(x, x0 + margin, x1 - margin)), float(
            np.clip(y, y0 + margin, y1 - margin)
        )
    cx, cy = arena["centre"]
    dx, dy, r = x - cx, y - cy, arena["radius"] - margin
    d = np.hypot(dx, dy)
    return (x, y) if d <= r else (cx + dx * r / d, cy + dy * r / d)


def _arena_centre(arena: dict) -> tuple[float, float]:
    if arena["shape"] == "square":
        x0, y0, x1, y1 = arena["rect"]
        return (x0 + x1) / 2, (y0 + y1) / 2
    return tuple(arena["centre"])


def _wrap(angle: float) -> float:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _bout_schedule(n_frames: int, fps: float, rng: np.random.Generator):
    """Semi-Markov sequence of (behavior, sub-mode, n_frames) bouts covering ``n_frames``."""
    bouts, total = [], 0
    state = int(rng.choice([BACKGROUND, LOCOMOTION, GROOMING], p=[0.6, 0.25, 0.15]))
    while total < n_frames:
        median, sd, lo, hi = _DURATION_S[state]
        seconds = float(np.clip(median * np.exp(sd * rng.standard_normal()), lo, hi))
        length = max(1, int(round(seconds * fps)))
        if state == BACKGROUND:
            mode = int(rng.choice([STILL, SITTING, EXPLORING], p=[0.25, 0.3, 0.45]))
        elif state == GROOMING:
            mode = int(rng.choice([FACE, FLANK], p=[0.7, 0.3]))
        else:
            mode = 0
        bouts.append((state, mode, min(length, n_frames - total)))
        total += length
        state = int(rng.choice(len(SAMPLE_BEHAVIORS), p=_TRANSITIONS[state]))
    return bouts


def simulate(n_frames: int, seed: int = 0, size: int = 128, fps: float = 30, index: int = 0):
    """Simulate the behavior and pose of the animal of one sample video.

    Parameters
    ----------
    n_frames, seed, size, fps, index
        As in :func:`render_sample`.

    Returns
    -------
    Trajectory
        Per-frame behavior, sub-mode and pose; ``trajectory.labels()`` gives the label array.
    """
    _check_args(n_frames, size, fps)
    sim_rng, _ = _rngs(seed, index)
    arena = _arena_bounds(size, sim_rng)
    return _simulate(n_frames, size, fps, sim_rng, arena)


def _rngs(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator]:
    sim_seq, scene_seq = np.random.SeedSequence([int(seed), int(index)]).spawn(2)
    return np.random.default_rng(sim_seq), np.random.default_rng(scene_seq)


def _simulate(n_frames, size, fps, rng, arena) -> Trajectory:
    T, dt = n_frames, 1.0 / fps
    body_px = size * rng.uniform(0.15, 0.2)
    margin = 0.45 * body_px
    cx, cy = _arena_centre(arena)
    while True:  # random start inside the arena
        x, y = cx + rng.uniform(-0.4, 0.4) * size, cy + rng.uniform(-0.4, 0.4) * size
        if _inside(arena, x, y, margin):
            break
    heading = rng.uniform(-np.pi, np.pi)

    behavior, mode = np.zeros(T, int), np.zeros(T, int)
    xs, ys, hs = np.zeros(T), np.zeros(T), np.zeros(T)
    names = ["length", "width", "bend", "head_yaw", "head_length", "head_scale", "head_bright",
             "paw_vis", "paw_s", "paw_l", "wobble", "groom", "sway"]  # fmt: skip
    target = {name: np.zeros(T) for name in names}
    freq = {"gait": np.zeros(T), "groom": np.zeros(T), "sway": np.zeros(T)}
    sway_amp = np.zeros(T)

    speed = omega = 0.0  # body lengths / s, rad / s
    wander = 0.0  # random heading drift while walking or exploring (rad / s)
    alpha = 1 - np.exp(-1.0 / _POSE_TAU_FRAMES)
    t = 0
    for state, sub, n in _bout_schedule(T, fps, rng):
        side = rng.choice([-1.0, 1.0])
        p = dict(length=0.86, width=1.0, bend=rng.uniform(-0.3, 0.3), head_yaw=0.0,
                 head_length=0.85, head_scale=1.0, head_bright=0.0, paw_vis=0.0, paw_s=0.36,
                 paw_l=0.055, wobble=0.0, groom=0.0, sway=0.0)  # fmt: skip
        f_sway, a_sway, v_goal, w_goal, f_gait, f_groom = rng.uniform(0.3, 1.0), 0.0, 0.0, 0.0, 0, 0
        if state == BACKGROUND and sub == STILL:
            p.update(length=0.8, width=1.05, bend=rng.uniform(-0.6, 0.6), head_length=0.78)
        elif state == BACKGROUND and sub == SITTING:
            p.update(paw_vis=1.0, head_length=0.78, head_yaw=rng.uniform(-0.2, 0.2))
            a_sway = rng.uniform(0.1, 0.25)
        elif state == BACKGROUND:  # slow exploring: drifting, sniffing around
            p.update(length=rng.uniform(0.92, 1.0), head_length=1.0)
            v_goal, a_sway, f_sway = (
                rng.uniform(0.1, 0.35),
                rng.uniform(0.25, 0.5),
                rng.uniform(0.4, 1.3),
            )
        elif state == LOCOMOTION:
            v_goal = rng.uniform(0.8, 2.8)
            f_gait = 2.5 + 1.0 * v_goal
            p.update(length=1.06, width=0.93, head_length=1.0, wobble=1.0, bend=0.0)
            a_sway = rng.uniform(0.0, 0.15)
        elif state == GROOMING:
            f_groom = rng.uniform(5.0, 8.0)
            if sub == FACE:
                p.update(length=0.82, paw_vis=1.0, head_length=0.76, groom=rng.uniform(0.7, 1.2))
            else:  # grooming a flank: curled, head turned to the side
                p.update(length=0.8, bend=side * 1.0, head_yaw=side * 0.9, head_length=0.8,
                         paw_vis=0.6, paw_s=0.33, groom=rng.uniform(0.7, 1.2))  # fmt: skip
        elif state == TURNING:
            w_goal = side * np.deg2rad(rng.uniform(150, 320))
            p.update(length=0.9, bend=side * 1.0, head_yaw=side * 0.35, head_length=0.95)
        else:  # rearing: upright, so foreshortened from above; the head nears the camera
            p.update(length=0.62, width=1.1, head_length=0.72, head_scale=1.3, head_bright=1.0,
                     paw_vis=1.0, paw_s=0.47, paw_l=0.1)  # fmt: skip
            a_sway, f_sway = rng.uniform(0.15, 0.35), rng.uniform(0.3, 0.8)
        for k in range(t, t + n):
            behavior[k], mode[k] = state, sub
            for name, value in p.items():
                target[name][k] = value
            freq["gait"][k], freq["groom"][k], freq["sway"][k] = f_gait, f_groom, f_sway
            sway_amp[k] = a_sway
            # kinematics: speed and turning rate follow their goals smoothly
            wander += -wander * dt / 0.5 + 1.2 * np.sqrt(dt) * rng.standard_normal()
            speed += (v_goal - speed) * alpha
            w = w_goal if state == TURNING else (wander if v_goal > 0 else 0.0)
            if v_goal > 0:  # near a wall, turn to follow it (as mice do) rather than hit it
                look = 0.5 * body_px + 0.3 * speed * body_px
                ax, ay = x + look * np.cos(heading), y + look * np.sin(heading)
                if not _inside(arena, ax, ay, margin):
                    bx, by = _clamp(arena, ax, ay, margin)
                    inward = np.arctan2(by - ay, bx - ax)
                    along = inward + np.pi / 2 * (1 if _wrap(heading - inward) > 0 else -1)
                    w += float(np.clip(5.0 * _wrap(along - heading), -4.0, 4.0))
            omega += (w - omega) * alpha
            if state == TURNING:  # pivot about the hips
                px, py = x - 0.2 * body_px * np.cos(heading), y - 0.2 * body_px * np.sin(heading)
                heading = _wrap(heading + omega * dt)
                x, y = px + 0.2 * body_px * np.cos(heading), py + 0.2 * body_px * np.sin(heading)
            else:
                heading = _wrap(heading + omega * dt)
            x += speed * body_px * dt * np.cos(heading)
            y += speed * body_px * dt * np.sin(heading)
            x, y = _clamp(arena, x, y, margin)
            xs[k], ys[k], hs[k] = x, y, heading
        t += n

    # posture follows its targets smoothly; oscillations ride on smoothed amplitudes
    from scipy.signal import lfilter

    smooth = {
        name: lfilter([alpha], [1, alpha - 1], v, zi=[v[0] * (1 - alpha)])[0]
        for name, v in target.items()
    }
    phase = {
        name: 2 * np.pi * np.cumsum(f) * dt + rng.uniform(0, 2 * np.pi) for name, f in freq.items()
    }
    breathe = np.sin(2 * np.pi * np.cumsum(np.full(T, rng.uniform(2.5, 3.5))) * dt)
    sway = lfilter([alpha], [1, alpha - 1], sway_amp)
    groom, gp = smooth["groom"], phase["groom"]
    wobble, gait = smooth["wobble"], phase["gait"]
    return Trajectory(
        behavior=behavior,
        mode=mode,
        x_px=xs,
        y_px=ys,
        heading=hs,
        length=smooth["length"] * (1 + 0.012 * breathe),
        width=smooth["width"] * (1 + 0.02 * breathe),
        bend=smooth["bend"] + 0.08 * wobble * np.sin(gait),
        lateral=0.03 * wobble * np.sin(gait + 0.5) + 0.012 * groom * np.sin(gp + 1.6),
        head_yaw=smooth["head_yaw"]
        + sway * np.sin(phase["sway"])
        + 0.22 * groom * np.sin(gp + 0.8),
        head_length=smooth["head_length"] + 0.1 * groom * np.sin(gp),
        head_scale=smooth["head_scale"],
        head_bright=smooth["head_bright"],
        paws=np.stack(
            [
                smooth["paw_vis"],
                smooth["paw_s"] + 0.08 * groom * np.sin(gp + 0.3),
                smooth["paw_l"] + 0.035 * groom * np.cos(gp),
            ],
            axis=1,
        ),
        tail_phase=0.6 * gait + 0.3 * phase["sway"],
        body_length_px=float(body_px),
        fps=float(fps),
        arena=arena,
    )


# ----------------------------------------------------------------------------------------------
# rendering

# Body outline along the spine, from tail base (-0.5) to nose (+0.5), in body lengths; the
# head starts at the neck (0.2).
_SPINE_S = np.array([-0.5, -0.44, -0.37, -0.3, -0.22, -0.14, -0.06, 0.0, 0.06, 0.13, 0.2,
                     0.26, 0.32, 0.38, 0.43, 0.47, 0.5])  # fmt: skip
_SPINE_R = np.array([0.08, 0.14, 0.18, 0.2, 0.205, 0.2, 0.19, 0.18, 0.17, 0.155, 0.13,
                     0.125, 0.115, 0.095, 0.07, 0.045, 0.025])  # fmt: skip
_NECK = 0.2
_SHIFT = 4  # cv2 sub-pixel drawing: coordinates in 1/16 pixel


def _smooth_noise(shape, sigma: float, rng: np.random.Generator) -> np.ndarray:
    import cv2

    n = rng.standard_normal(shape).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), sigma)
    return n / max(float(n.std()), 1e-6)


def _make_scene(traj: Trajectory, size: int, rng: np.random.Generator) -> dict:
    """Static arena image, colours, fur texture, lighting and distractors of one video."""
    import cv2

    arena, T, fps = traj.arena, len(traj.behavior), traj.fps
    light_animal = rng.random() < 0.2
    if light_animal:  # a white mouse on a dark floor
        floor_rgb = rng.uniform(60, 110) * np.array([1, 1, rng.uniform(1.0, 1.25)])
        animal_rgb = rng.uniform(185, 225) * np.array(
            [1, rng.uniform(0.95, 1), rng.uniform(0.9, 1)]
        )
        detail_rgb = np.array([225.0, 160, 165])
    else:  # a black or agouti mouse on a light floor
        floor_rgb = rng.uniform(150, 215) * rng.uniform(0.94, 1.06, size=3)
        if rng.random() < 0.6:
            animal_rgb = rng.uniform(22, 45) * np.array([1.1, 1.0, 0.95])
        else:
            animal_rgb = rng.uniform(70, 110) * np.array([1.15, 0.95, 0.75])
        detail_rgb = 0.55 * animal_rgb + 0.45 * np.array([190.0, 130, 130])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    if arena["shape"] == "square":
        x0, y0, x1, y1 = arena["rect"]
        sides = np.stack([xx - x0, yy - y0, x1 - xx, y1 - yy])
        d_in = sides.min(axis=0)
        wall_shade = rng.uniform(0.55, 0.95, size=4)[sides.argmin(axis=0)]
    else:
        cx, cy = arena["centre"]
        d_in = arena["radius"] - np.hypot(xx - cx, yy - cy)
        light = rng.uniform(-np.pi, np.pi)
        wall_shade = 0.75 + 0.2 * np.cos(np.arctan2(yy - cy, xx - cx) - light)
    texture = (
        0.035 * _smooth_noise((size, size), size / 6, rng)
        + 0.02 * _smooth_noise((size, size), 1.5, rng)
        + 0.012 * _smooth_noise((size, size), 0.5, rng)
    )
    scratches = np.zeros((size, size), np.float32)
    for _ in range(rng.integers(2, 8)):
        p0, p1 = rng.uniform(0, size, 2), rng.uniform(0, size, 2)
        cv2.line(scratches, tuple(int(v) for v in p0), tuple(int(v) for v in p1),
                 float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.05)), 1, cv2.LINE_AA)  # fmt: skip
    texture += cv2.GaussianBlur(scratches, (0, 0), 0.6)
    depth = np.clip(-d_in / (0.08 * size), 0, 1)
    floor = np.where(
        d_in >= 0,
        1 - 0.2 * np.exp(-np.maximum(d_in, 0) / (0.04 * size)),  # darker along the walls
        wall_shade * (1 - 0.55 * depth),
    )
    floor *= 1 - 0.3 * np.exp(-(d_in**2) / 1.0)  # seam at the foot of the wall
    image = (floor * (1 + texture))[..., None] * floor_rgb[None, None, :]
    centre = size / 2 + rng.uniform(-0.1, 0.1, size=2) * size
    r2 = ((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (0.5 * size) ** 2
    vignette = 1 - rng.uniform(0.12, 0.3) * r2
    t = np.arange(T) / fps
    flicker = 1 + rng.uniform(0.003, 0.01) * np.sin(2 * np.pi * rng.uniform(0.2, 2) * t)
    flicker += np.cumsum(rng.normal(0, 0.0015, T)) * 0.3
    flicker -= flicker.mean() - 1
    streaks = cv2.GaussianBlur(
        rng.standard_normal((64, 64)).astype(np.float32), (0, 0), 2.5, sigmaY=0.6
    )
    fur = 1 + 0.05 * _smooth_noise((64, 64), 2.0, rng) + 0.05 * streaks / streaks.std()
    tail_curl = 0.5 * np.sin(
        2 * np.pi * np.cumsum(rng.uniform(0.05, 0.2, T)) / fps + rng.uniform(0, 6.3)
    )
    return {
        "floor": image.astype(np.float32),
        "vignette": vignette.astype(np.float32),
        "flicker": flicker.astype(np.float32),
        "noise_sd": rng.uniform(1.5, 3.5),
        "animal_rgb": animal_rgb.astype(np.float32),
        "detail_rgb": detail_rgb.astype(np.float32),
        "fur": fur.astype(np.float32),
        "tail_curl": tail_curl,
        "flies": _plan_flies(traj, size, rng),
        "shadows": _plan_shadows(T, fps, size, rng),
    }


def _plan_flies(traj: Trajectory, size: int, rng: np.random.Generator) -> np.ndarray:
    """Positions (T, 2) of a fly walking in the arena now and then (NaN when absent)."""
    T, fps = len(traj.behavior), traj.fps
    out = np.full((T, 2), np.nan)
    t = int(rng.exponential(12 * fps))
    while t < T:
        n = int(rng.uniform(1, 4) * fps)
        while True:
            x, y = rng.uniform(0.1, 0.9, 2) * size
            if _inside(traj.arena, x, y, 2):
                break
        dash, direction = 0, 0.0
        for k in range(t, min(t + n, T)):
            if dash == 0 and rng.random() < 0.08:
                dash, direction = int(rng.integers(3, 9)), rng.uniform(-np.pi, np.pi)
            if dash:
                step = rng.uniform(1.0, 2.5) * size / 128
                x, y = _clamp(traj.arena, x + step * np.cos(direction),
                              y + step * np.sin(direction), 2)  # fmt: skip
                dash -= 1
            out[k] = x, y
        t += n + int(rng.exponential(12 * fps))
    return out


def _plan_shadows(T: int, fps: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Soft shadows (a hand, a cable) passing over the edge of the image: (T, 4) x, y, sd, depth."""
    out = np.zeros((T, 4))
    t = int(rng.exponential(30 * fps))
    while t < T:
        n = int(rng.uniform(1.0, 2.5) * fps)
        angle = rng.uniform(-np.pi, np.pi)
        edge = size / 2 + 0.75 * size * np.array([np.cos(angle), np.sin(angle)])
        inward = -np.array([np.cos(angle), np.sin(angle)]) * rng.uniform(0.15, 0.4) * size
        sd, depth = rng.uniform(0.12, 0.22) * size, rng.uniform(0.06, 0.15)
        for i, k in enumerate(range(t, min(t + n, T))):
            reach = np.sin(np.pi * (i + 0.5) / n)
            out[k] = (*(edge + reach * inward), sd, depth)
        t += n + int(rng.exponential(30 * fps))
    return out


def _skeletons(traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """Spine points (T, N, 2) in pixels and circle radii (T, N) of every frame."""
    L = traj.body_length_px
    mid = (_SPINE_S[1:] + _SPINE_S[:-1]) / 2
    is_head = mid > _NECK
    angle = traj.heading[:, None] + traj.bend[:, None] * np.minimum(mid, _NECK)[None]
    angle = angle + is_head[None] * traj.head_yaw[:, None]
    seg = np.diff(_SPINE_S)[None] * L * np.where(is_head[None], traj.head_length[:, None],
                                                  traj.length[:, None])  # fmt: skip
    steps = np.stack([seg * np.cos(angle), seg * np.sin(angle)], axis=-1)
    pts = np.concatenate([np.zeros_like(steps[:, :1]), np.cumsum(steps, axis=1)], axis=1)
    origin = int(np.flatnonzero(_SPINE_S == 0)[0])
    normal = np.stack([-np.sin(traj.heading), np.cos(traj.heading)], axis=-1)
    centre = np.stack([traj.x_px, traj.y_px], axis=-1) + traj.lateral[:, None] * L * normal
    pts = pts - pts[:, origin : origin + 1] + centre[:, None]
    head = _SPINE_S > _NECK
    radii = _SPINE_R[None] * L * np.where(head[None], traj.head_scale[:, None], traj.width[:, None])
    return pts, radii


def _pt(p) -> tuple[int, int]:
    return int(round(p[0] * 16)), int(round(p[1] * 16))


def _draw_animal(frame, k, traj, scene, pts, radii) -> None:
    """Composite the animal of frame ``k`` onto ``frame`` (float32 H x W x 3, in place)."""
    import cv2

    L, size = traj.body_length_px, frame.shape[0]
    p, r = pts[k], radii[k]
    neck = int(np.flatnonzero(_SPINE_S == _NECK)[0])
    head_dir = p[-1] - p[neck]
    head_dir /= max(np.hypot(*head_dir), 1e-6)
    head_n = np.array([-head_dir[1], head_dir[0]])
    hl, hs = traj.head_length[k] * L, traj.head_scale[k]
    ears = [p[neck] + 0.06 * hl * head_dir + side * 0.125 * L * hs * head_n for side in (-1, 1)]
    vis, paw_s, paw_l = traj.paws[k]
    paws = [
        p[neck] + (paw_s - _NECK) * hl * head_dir + side * paw_l * L * head_n for side in (-1, 1)
    ]
    # tail: from the tail base, continuing the spine backwards, swaying
    back = p[0] - p[1]
    a0 = np.arctan2(back[1], back[0])
    j = np.arange(1, 9)
    bend = scene["tail_curl"][k] * j / 8 + 0.25 * np.sin(traj.tail_phase[k] - 0.8 * j)
    tail_angle = a0 + np.cumsum(0.15 * bend)
    tail = p[0] + np.cumsum(0.11 * L * np.stack([np.cos(tail_angle), np.sin(tail_angle)], 1), 0)
    tail = np.concatenate([p[:1], tail])

    pad = 3 + int(np.ceil(max(r.max(), 0.06 * L) + 0.15 * L))
    allp = np.concatenate([p, tail, np.array(paws + ears)])
    x0, y0 = np.maximum(np.floor(allp.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(allp.max(axis=0)).astype(int) + pad, size)
    if x1 <= x0 or y1 <= y0:
        return
    h, w, off = y1 - y0, x1 - x0, np.array([x0, y0])
    mask = np.zeros((h, w), np.uint8)
    detail = np.zeros((h, w), np.uint8)
    head = np.zeros((h, w), np.uint8)
    aa = cv2.LINE_AA
    thick = max(1, int(round(0.05 * L)))
    tail_px = [np.array([_pt(q - off) for q in tail[:5]], np.int32),
               np.array([_pt(q - off) for q in tail[4:]], np.int32)]  # fmt: skip
    for img, value in ((mask, 255), (detail, 170)):
        cv2.polylines(img, tail_px[:1], False, value, thick, aa, _SHIFT)
        cv2.polylines(img, tail_px[1:], False, value, 1, aa, _SHIFT)
    for e in ears:
        c, rad = _pt(e - off), int(0.058 * L * hs * 16)
        cv2.circle(mask, c, rad, 255, -1, aa, _SHIFT)
        cv2.circle(detail, c, rad, 120, -1, aa, _SHIFT)
    for i in range(len(p)):
        c, rad = _pt(p[i] - off), int(r[i] * 16)
        cv2.circle(mask, c, rad, 255, -1, aa, _SHIFT)
        cv2.circle(detail, c, rad, 0, -1, aa, _SHIFT)
        if i >= neck and traj.head_bright[k] > 0.02:
            cv2.circle(head, c, rad, int(255 * traj.head_bright[k]), -1, aa, _SHIFT)
    if vis > 0.3:
        for q in paws:
            c, rad = _pt(q - off), int(0.045 * L * min(vis, 1) * 16)
            cv2.circle(mask, c, rad, 255, -1, aa, _SHIFT)
            cv2.circle(detail, c, rad, 255, -1, aa, _SHIFT)

    alpha = cv2.GaussianBlur(mask, (0, 0), 0.5).astype(np.float32) / 255
    shade = cv2.GaussianBlur(mask, (0, 0), 0.1 * L).astype(np.float32) / 255
    scale, (ux, uy) = L / 40, (np.cos(traj.heading[k]), np.sin(traj.heading[k]))
    cx, cy = traj.x_px[k] - x0, traj.y_px[k] - y0
    warp = np.array([[ux * scale, -uy * scale, cx - 32 * scale * (ux - uy)],
                     [uy * scale, ux * scale, cy - 32 * scale * (uy + ux)]])  # fmt: skip
    fur = cv2.warpAffine(scene["fur"], warp, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    d = (detail.astype(np.float32) / 255)[..., None]
    colour = scene["animal_rgb"] * ((0.7 + 0.5 * shade) * fur)[..., None]
    colour = colour * (1 - d) + scene["detail_rgb"] * d
    colour += (35.0 / 255) * cv2.GaussianBlur(head, (0, 0), 0.8).astype(np.float32)[..., None]
    roi = frame[y0:y1, x0:x1]
    roi *= (1 - 0.25 * shade)[..., None]  # soft shadow under the body
    a = alpha[..., None]
    roi[:] = roi * (1 - a) + colour * a


def _iter_frames(traj: Trajectory, scene: dict, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield the frames (uint8 H x W x 3, RGB) of a simulated trajectory."""
    import cv2

    pts, radii = _skeletons(traj)
    size = scene["floor"].shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    fly_r = int(round(0.9 * size / 128 * 16))
    noise = scene["noise_sd"] * (
        rng.standard_normal((16, size, size, 1), dtype=np.float32)
        + 0.4 * rng.standard_normal((16, size, size, 3), dtype=np.float32)
    )
    for k in range(len(traj.behavior)):
        frame = scene["floor"].copy()
        if not np.isnan(scene["flies"][k, 0]):
            cv2.circle(frame, _pt(scene["flies"][k]), max(fly_r, 8), (25.0, 25.0, 25.0), -1,
                       cv2.LINE_AA, _SHIFT)  # fmt: skip
        _draw_animal(frame, k, traj, scene, pts, radii)
        gain = scene["vignette"] * scene["flicker"][k]
        sx, sy, sd, depth = scene["shadows"][k]
        if depth > 0:
            gain = gain * (1 - depth * np.exp(-((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * sd**2)))
        frame *= gain[..., None]
        # sensor noise: mostly luminance; drawn from a bank, flipped at random, to keep it fast
        flip_y, flip_x = rng.choice([-1, 1], size=2)
        frame += noise[rng.integers(len(noise)), ::flip_y, ::flip_x]
        yield np.clip(frame, 0, 255).astype(np.uint8)


def render_sample(
    n_frames: int, seed: int = 0, size: int = 128, fps: float = 30, index: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Render one sample video in memory.

    Parameters
    ----------
    n_frames
        Number of frames.
    seed
        Random seed; the same seed (and index) gives identical frames and labels.
    size
        Frame height and width in pixels (even, >= 32).
    fps
        Frame rate; behaviors are simulated in seconds, so it sets how many frames a bout spans.
    index
        Which video of the sample (``make_sample`` writes video ``i`` with ``index=i``).

    Returns
    -------
    frames : numpy.ndarray
        uint8 (T, H, W, 3), RGB.
    labels : numpy.ndarray
        int8 (T, K), one-hot over :data:`SAMPLE_BEHAVIORS`.
    """
    traj, frames = _generate(n_frames, seed, size, fps, index)
    return np.stack(list(frames)), traj.labels()


def _generate(n_frames, seed, size, fps, index) -> tuple[Trajectory, Iterator[np.ndarray]]:
    _check_args(n_frames, size, fps)
    sim_rng, scene_rng = _rngs(seed, index)
    arena = _arena_bounds(int(size), sim_rng)
    traj = _simulate(int(n_frames), int(size), float(fps), sim_rng, arena)
    scene = _make_scene(traj, int(size), scene_rng)
    return traj, _iter_frames(traj, scene, scene_rng)


def sample_paths(outdir: str | Path, n_videos: int) -> list[SampleVideo]:
    """Paths :func:`make_sample` writes: ``videos/<stem>.mp4`` and ``labels/<stem>_labels.csv``."""
    outdir = Path(outdir)
    out = []
    for i in range(int(n_videos)):
        stem = f"sample_{i:03d}"
        out.append(SampleVideo(outdir / "videos" / f"{stem}.mp4",
                               outdir / "labels" / f"{stem}_labels.csv", stem))  # fmt: skip
    return out


def make_sample(
    outdir: str | Path,
    n_videos: int = 4,
    n_frames: int = 1800,
    seed: int = 0,
    size: int = 128,
    fps: float = 30,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[SampleVideo]:
    """Write synthetic sample videos with their label CSVs.

    Writes ``<outdir>/videos/sample_000.mp4``, ... and ``<outdir>/labels/sample_000_labels.csv``,
    ..., so that ``ethogram add PROJECT <outdir>/videos/*.mp4`` finds the labels.

    Parameters
    ----------
    outdir
        Output folder (created if missing).
    n_videos, n_frames
        How many videos, and frames per video.
    seed
        Random seed; the same arguments write the same frames and labels.
    size, fps
        Frame height and width in pixels (even, >= 32), and frame rate.
    overwrite
        Replace sample files that already exist; otherwise an existing one is an error and
        nothing is written.
    progress
        Called as ``progress(frames_done, frames_total)`` while rendering.

    Returns
    -------
    list of SampleVideo
        The written files, in order.

    Raises
    ------
    EthogramError
        Bad arguments, or a sample file already exists and ``overwrite`` is False.
    """
    from ethogram.io.labels import write_labels
    from ethogram.io.video import VideoWriter

    if int(n_videos) < 1:
        raise EthogramError(f"sample: expected at least 1 video, got n_videos={n_videos}")
    _check_args(n_frames, size, fps)
    videos = sample_paths(outdir, n_videos)
    if not overwrite:
        for video in videos:
            for path in (video.video_path, video.labels_path):
                if path.exists():
                    raise EthogramError(
                        f"sample file {path} already exists; to replace it use --overwrite "
                        "(overwrite=True), or choose another output folder"
                    )
    total, done = int(n_videos) * int(n_frames), 0
    for i, video in enumerate(videos):
        traj, frames = _generate(n_frames, seed, size, fps, i)
        with VideoWriter(video.video_path, fps) as writer:
            for frame in frames:
                writer.write(frame)
                done += 1
                if progress is not None and (done % 50 == 0 or done == total):
                    progress(done, total)
        write_labels(video.labels_path, traj.labels(), SAMPLE_BEHAVIORS, backup=False)
    return videos
