"""Apply a :class:`~ethogram.sample.styles.SampleStyle` to a sample video's arena, trajectory
and scene (see :mod:`ethogram.sample`).

Each step draws only from the style's own random generator, and the ``default`` style changes
nothing, so default videos keep their bytes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ethogram.sample.simulation import Trajectory
from ethogram.sample.styles import COATS, FLOORS, SampleStyle


def style_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of a video's style (independent of its simulation and scene)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), 7919]))


def restyle_arena(arena: dict, style: SampleStyle, size: int) -> dict:
    """The arena in the style's shape, over about the same part of the frame."""
    if style.arena is None or style.arena == arena["shape"]:
        return arena
    if arena["shape"] == "square":
        x0, y0, x1, y1 = arena["rect"]
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        return {"shape": "round", "centre": centre, "radius": min(x1 - x0, y1 - y0) / 2}
    (cx, cy), r = arena["centre"], 0.95 * arena["radius"]
    return {"shape": "square", "rect": (cx - r, cy - r, cx + r, cy + r)}


def rescale(traj: Trajectory, style: SampleStyle, size: int) -> Trajectory:
    """The trajectory seen from the style's camera distance, with its animal size.

    ``zoom`` scales positions, the arena and the animal about the image centre; ``body_scale``
    the animal only. What the animal does is unchanged.
    """
    zoom, body = float(style.zoom), float(style.body_scale)
    if zoom == 1.0 and body == 1.0:
        return traj
    c = size / 2

    def scale(v):
        return c + zoom * (np.asarray(v, dtype=float) - c)

    arena = dict(traj.arena)
    if arena["shape"] == "square":
        arena["rect"] = tuple(float(v) for v in scale(arena["rect"]))
    else:
        arena["centre"], arena["radius"] = scale(arena["centre"]), zoom * arena["radius"]
    return dataclasses.replace(
        traj,
        x_px=scale(traj.x_px),
        y_px=scale(traj.y_px),
        body_length_px=traj.body_length_px * zoom * body,
        arena=arena,
    )


def _bedding(size: int, inside: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Relative brightness of bedding chips scattered over the floor (H, W)."""
    import cv2

    chips = np.zeros((size, size), np.float32)
    scale = size / 128
    for _ in range(size * size // 14):
        centre = tuple(int(v * 16) for v in rng.uniform(0, size, 2))
        axes = tuple(int(v * 16 * scale) for v in rng.uniform(0.6, 1.8, 2))
        value = float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.35))
        cv2.ellipse(chips, centre, axes, float(rng.uniform(0, 180)), 0, 360, value, -1,
                    cv2.LINE_AA, 4)  # fmt: skip
    return cv2.GaussianBlur(chips, (0, 0), 0.5 * scale) * inside


def restyle_scene(scene: dict, style: SampleStyle, rng: np.random.Generator) -> dict:
    """The scene of :func:`ethogram.sample.render._make_scene` in ``style`` (a new dict)."""
    if not style.changes_scene:
        return scene
    scene = dict(scene)
    size = scene["floor"].shape[0]
    if style.coat is not None:
        body, detail = COATS[style.coat]
        scene["animal_rgb"] = (np.array(body) * rng.uniform(0.94, 1.06, 3)).astype(np.float32)
        scene["detail_rgb"] = np.array(detail, np.float32)
    if style.floor is not None or style.texture != 1.0 or style.bedding > 0:
        floor_rgb = scene["floor_rgb"]
        if style.floor is not None:
            floor_rgb = np.array(FLOORS[style.floor]) * rng.uniform(0.95, 1.05, 3)
        texture = scene["texture"] * style.texture
        if style.bedding > 0:
            texture = texture + style.bedding * _bedding(size, scene["inside"], rng)
        image = (scene["shading"] * (1 + texture))[..., None] * floor_rgb[None, None, :]
        scene["floor"] = image.astype(np.float32)
    gain = scene["vignette"]
    if style.vignette != 1.0:
        gain = 1 - (1 - gain) * style.vignette
    if style.gradient > 0:
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
        angle = rng.uniform(-np.pi, np.pi)
        along = xx * np.cos(angle) + yy * np.sin(angle)  # -0.7 .. 0.7
        gain = gain * (1 + style.gradient * along / 0.7 / 2)
    scene["vignette"] = (np.clip(gain, 0.05, None) * style.light).astype(np.float32)
    if style.flicker != 1.0:
        scene["flicker"] = (1 + (scene["flicker"] - 1) * style.flicker).astype(np.float32)
    scene["noise_sd"] = scene["noise_sd"] * style.noise
    scene.update(body_width=style.body_width, tail=style.tail, blur=style.blur, gray=style.gray,
                 jpeg=style.jpeg)  # fmt: skip
    return scene
