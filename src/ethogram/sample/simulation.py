"""Behavior and pose simulation of the sample videos' animal (see :mod:`ethogram.sample`).

A semi-Markov process picks one behavior per frame (bouts of 0.5-4 s); a kinematic simulator turns
it into a pose (position, heading, body bend, head and forepaw positions) inside an arena.
"""

from __future__ import annotations

from dataclasses import dataclass

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
