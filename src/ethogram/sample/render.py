"""Rendering of the sample videos: arena, lighting, distractors and the animal's pose as frames.

Draws a simulated :class:`~ethogram.sample.simulation.Trajectory` over a textured arena with
vignetting, lighting flicker, sensor noise and occasional distractor motion.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ethogram.sample.simulation import Trajectory, _clamp, _inside

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
        "shading": floor,  # the arena's shape and walls, for styles that recolour the floor
        "texture": texture,
        "floor_rgb": floor_rgb,
        "inside": d_in >= 0,
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
    tail = p[0] + np.cumsum(
        0.11 * L * scene.get("tail", 1.0) * np.stack([np.cos(tail_angle), np.sin(tail_angle)], 1), 0
    )
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
    if scene.get("body_width", 1.0) != 1.0:
        radii = radii * scene["body_width"]
    size = scene["floor"].shape[0]
    blur = scene.get("blur", 0.0) * size / 128
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
        if blur > 0:  # optics blur before the sensor's noise
            frame = cv2.GaussianBlur(frame, (0, 0), blur)
        # sensor noise: mostly luminance; drawn from a bank, flipped at random, to keep it fast
        flip_y, flip_x = rng.choice([-1, 1], size=2)
        frame += noise[rng.integers(len(noise)), ::flip_y, ::flip_x]
        if scene.get("gray"):
            frame[:] = frame.mean(axis=-1, keepdims=True)
        out = np.clip(frame, 0, 255).astype(np.uint8)
        if scene.get("jpeg"):
            out = _jpeg(out, scene["jpeg"])
        yield out


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    """``frame`` (RGB uint8) compressed as a JPEG of ``quality`` and decoded again."""
    import cv2

    ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].copy() if ok else frame
