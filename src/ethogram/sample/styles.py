"""Appearance styles of the sample videos: animal, arena, lighting, camera, image quality.

A :class:`SampleStyle` changes how the simulated animal and its arena look, never what the animal
does: every style has the same behaviors, and its labels are exact. The ``default`` style is the
original look (each video draws its own floor, coat, arena shape and lighting), and it renders the
same bytes as before styles existed. Other styles fix or change one or more of:

- the animal: coat colour (``coat``), size (``body_scale``), build (``body_width``, ``tail``);
- the arena: shape (``arena``), floor colour (``floor``), floor texture (``texture``,
  ``bedding``), lighting (``light``, ``gradient``, ``vignette``, ``flicker``), monochrome
  (``gray``, an infrared camera);
- the camera: distance (``zoom`` < 1 is farther away), sensor noise (``noise``), blur (``blur``),
  compression (``jpeg`` quality of every frame and the H.264 ``crf`` of the written file), frame
  rate (``fps``).

Styles are named (:data:`STYLES`), combined with ``+`` (``"far-camera+noisy"``: later ones win),
or drawn at random (``"random"`` draws one look from the sample's seed, ``"random-7"`` the look
number 7), see :func:`get_style`.

>>> get_style("far-camera+noisy").zoom, get_style("far-camera+noisy").noise
(0.6, 4.0)
>>> get_style("default") == SampleStyle()
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ethogram.errors import EthogramError

__all__ = [
    "BENCHMARK_STYLES",
    "COATS",
    "FLOORS",
    "STYLES",
    "SampleStyle",
    "get_style",
    "random_style",
    "style_names",
]

COATS = {  # animal colour (RGB) and the colour of its ears, paws and tail
    "black": ((30.0, 28, 27), (110.0, 80, 82)),
    "agouti": ((100.0, 82, 64), (150.0, 112, 100)),
    "brown": ((125.0, 85, 55), (170.0, 120, 105)),
    "gray": ((120.0, 120, 122), (175.0, 140, 145)),
    "white": ((212.0, 208, 200), (225.0, 160, 165)),
}
FLOORS = {  # floor colour (RGB) under even light
    "light": (200.0, 198, 192),
    "white": (228.0, 228, 226),
    "gray": (125.0, 125, 128),
    "dark": (70.0, 72, 80),
    "blue": (70.0, 95, 140),
    "bedding": (175.0, 150, 110),
}


@dataclass(frozen=True)
class SampleStyle:
    """How the sample videos look; every field's default leaves that aspect as in ``default``.

    Attributes
    ----------
    name
        The style's name (as given to :func:`get_style`).
    coat
        Animal colour, a key of :data:`COATS` (None: drawn per video, mostly dark on light).
    body_scale
        Body length relative to the default (drawn per video, 15-20 % of the frame).
    body_width
        Body and head width relative to the default (a stockier or slimmer animal).
    tail
        Tail length relative to the default.
    arena
        ``"square"`` or ``"round"`` (None: drawn per video).
    floor
        Floor colour, a key of :data:`FLOORS` (None: drawn per video to suit the coat).
    texture
        Amplitude of the floor's texture relative to the default.
    bedding
        Strength of bedding chips scattered on the floor (0: none).
    light
        Brightness gain of the whole image (1: as default; 0.4 is a dim room).
    gradient
        Uneven lighting: one side of the image this fraction brighter than the other.
    vignette, flicker, noise
        Vignetting, lighting flicker and sensor noise relative to the default.
    gray
        Monochrome frames (an infrared camera).
    zoom
        Camera distance: the arena and the animal scaled by this about the image centre
        (< 1: farther away, the arena small in the frame; > 1: closer, walls cut off).
    blur
        Gaussian blur (standard deviation in pixels of a 128 px frame; 0: none).
    jpeg
        JPEG quality (1-100) every frame is compressed with (None: not compressed).
    crf
        H.264 quality of the video files written (18: visually lossless; higher is worse).
    fps
        Frame rate (None: the ``fps`` argument, 30 by default).
    description
        One line for the user.
    """

    name: str = "default"
    coat: str | None = None
    body_scale: float = 1.0
    body_width: float = 1.0
    tail: float = 1.0
    arena: str | None = None
    floor: str | None = None
    texture: float = 1.0
    bedding: float = 0.0
    light: float = 1.0
    gradient: float = 0.0
    vignette: float = 1.0
    flicker: float = 1.0
    noise: float = 1.0
    gray: bool = False
    zoom: float = 1.0
    blur: float = 0.0
    jpeg: int | None = None
    crf: int = 18
    fps: float | None = None
    description: str = "the original look: each video draws its floor, coat, arena and lighting"

    def __post_init__(self) -> None:
        problems = []
        if self.coat is not None and self.coat not in COATS:
            problems.append(f"coat {self.coat!r} (expected one of {', '.join(COATS)})")
        if self.floor is not None and self.floor not in FLOORS:
            problems.append(f"floor {self.floor!r} (expected one of {', '.join(FLOORS)})")
        if self.arena not in (None, "square", "round"):
            problems.append(f"arena {self.arena!r} (expected square or round)")
        if not 0.4 <= self.zoom <= 1.3:
            problems.append(f"zoom {self.zoom} (expected 0.4-1.3)")
        if self.jpeg is not None and not 1 <= self.jpeg <= 100:
            problems.append(f"jpeg quality {self.jpeg} (expected 1-100)")
        if self.fps is not None and not self.fps > 0:
            problems.append(f"fps {self.fps} (expected > 0)")
        for name in ("body_scale", "body_width", "tail", "light"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} {getattr(self, name)} (expected > 0)")
        if problems:
            raise EthogramError(f"sample style {self.name!r}: bad " + "; ".join(problems))

    @property
    def changes_scene(self) -> bool:
        """True if the style changes anything drawn (not only the frame rate or the file)."""
        neutral = SampleStyle()
        skip = {"name", "description", "fps", "crf"}
        return any(
            getattr(self, f.name) != getattr(neutral, f.name)
            for f in dataclasses.fields(self)
            if f.name not in skip
        )


def _style(name: str, description: str, **changes) -> SampleStyle:
    return SampleStyle(name=name, description=description, **changes)


# One aspect each, to look at one difference at a time.
_SINGLE = [
    _style("default", SampleStyle.description),
    _style("dark-on-light", "a black mouse on a light floor", coat="black", floor="light"),
    _style("white-mouse", "a white mouse on a dark floor", coat="white", floor="dark"),
    _style("agouti-on-white", "an agouti mouse on a white floor", coat="agouti", floor="white"),
    _style("square-arena", "every arena square", arena="square"),
    _style("round-arena", "every arena round", arena="round"),
    _style("bedding", "a floor of bedding chips", floor="bedding", bedding=0.7, texture=1.5),
    _style("dim", "a dim room: darker image, more sensor noise", light=0.45, noise=2.0),
    _style("uneven-light", "light from one side, strong vignetting", gradient=0.5, vignette=2.0),
    _style("infrared", "a monochrome infrared camera", gray=True, light=0.7, noise=2.0),
    _style("far-camera", "the camera farther away: arena and animal small", zoom=0.6),
    _style("close-camera", "the camera closer: walls cut off, a large animal", zoom=1.2),
    _style(
        "big-animal",
        "a large, stocky animal with a long tail (a rat)",
        body_scale=1.3,
        body_width=1.15,
        tail=1.4,
    ),  # fmt: skip
    _style("small-animal", "a small, slim animal", body_scale=0.75, body_width=0.9),
    _style("noisy", "strong sensor noise", noise=4.0),
    _style("blurry", "out of focus", blur=1.5),
    _style("compressed", "strong compression artefacts", jpeg=20, crf=30),
    _style("fps15", "15 frames per second", fps=15.0),
    _style("fps60", "60 frames per second", fps=60.0),
]
# Several aspects at once, as another lab's setup differs from ours.
_COMBINED = {
    "far-dim": ("far camera in a dim room, round arena",
                ["far-camera", "dim", "round-arena"], {"zoom": 0.65}),
    "bedding-webcam": ("agouti mouse on bedding, a compressing webcam at 25 fps",
                       ["bedding", "compressed", "uneven-light"],
                       {"coat": "agouti", "jpeg": 35, "blur": 0.7, "fps": 25.0}),
    "white-rat": ("a large white animal on a blue floor, closer camera, 15 fps",
                  ["big-animal", "square-arena"],
                  {"coat": "white", "floor": "blue", "zoom": 1.1, "fps": 15.0}),
    "infrared-far": ("infrared camera farther away, slightly blurred, noisy",
                     ["infrared", "round-arena"],
                     {"zoom": 0.75, "blur": 1.0, "noise": 3.0, "coat": "white",
                      "floor": "gray", "light": 0.85}),
    "compressed-uneven": ("small black mouse on a gray floor, uneven light, strong compression",
                          ["small-animal", "uneven-light", "compressed"],
                          {"coat": "black", "floor": "gray", "jpeg": 15, "noise": 2.0}),
}  # fmt: skip


def _combine(name: str, description: str, parts: list[SampleStyle], extra: dict) -> SampleStyle:
    neutral, changes = SampleStyle(), {}
    for part in parts:
        for f in dataclasses.fields(part):
            if f.name not in ("name", "description") and getattr(part, f.name) != getattr(
                neutral, f.name
            ):
                changes[f.name] = getattr(part, f.name)
    changes.update(extra)
    return SampleStyle(name=name, description=description, **changes)


STYLES: dict[str, SampleStyle] = {s.name: s for s in _SINGLE}
"""The named styles (``default`` first)."""
STYLES.update(
    {
        name: _combine(name, text, [STYLES[p] for p in parts], extra)
        for name, (text, parts, extra) in _COMBINED.items()
    }
)

BENCHMARK_STYLES = {
    "choosing": ["default", "far-dim", "bedding-webcam", "big-animal"],
    "held_out": ["white-rat", "infrared-far", "compressed-uneven"],
}
"""Styles of ``benchmarks/accuracy.py``: settings are chosen on ``choosing`` styles only; the
``held_out`` ones are never used to choose settings, only to report."""


def style_names() -> list[str]:
    """Names :func:`get_style` accepts (besides ``random``, ``random-N`` and ``a+b``)."""
    return list(STYLES)


def random_style(number: int) -> SampleStyle:
    """A random look (seeded by ``number``): every aspect drawn from a plausible range.

    Parameters
    ----------
    number
        Which look; the same number gives the same style.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(number), 2817]))
    coat = str(rng.choice(list(COATS)))
    # a floor that the coat stands out from (mean brightness at least 60 apart)
    floors = [f for f in FLOORS if abs(np.mean(FLOORS[f]) - np.mean(COATS[coat][0])) >= 60]
    return SampleStyle(
        name=f"random-{int(number)}",
        description=f"random look number {int(number)}",
        coat=coat,
        floor=str(rng.choice(floors)),
        body_scale=float(rng.uniform(0.75, 1.3)),
        body_width=float(rng.uniform(0.9, 1.15)),
        tail=float(rng.uniform(0.8, 1.4)),
        arena=str(rng.choice(["square", "round"])),
        texture=float(rng.uniform(0.5, 2.0)),
        bedding=float(rng.choice([0.0, 0.0, rng.uniform(0.3, 1.0)])),
        light=float(rng.uniform(0.45, 1.1)),
        gradient=float(rng.uniform(0, 0.5)),
        vignette=float(rng.uniform(0.5, 2.0)),
        flicker=float(rng.uniform(0.5, 3.0)),
        noise=float(rng.uniform(0.5, 4.0)),
        gray=bool(rng.random() < 0.25),
        zoom=float(rng.uniform(0.6, 1.15)),
        blur=float(rng.choice([0.0, rng.uniform(0.5, 1.5)])),
        jpeg=int(rng.integers(15, 60)) if rng.random() < 0.5 else None,
        fps=float(rng.choice([15.0, 25.0, 30.0, 30.0])),
    )


def get_style(name: str | SampleStyle | None = None, seed: int = 0) -> SampleStyle:
    """The style called ``name``.

    Parameters
    ----------
    name
        A name of :data:`STYLES`; ``random`` (the look drawn from ``seed``); ``random-N``; or
        names joined by ``+`` (later ones override earlier ones). None or ``default``: the
        original look. A :class:`SampleStyle` is returned as it is.
    seed
        The sample's seed, for ``random``.

    Raises
    ------
    EthogramError
        An unknown name (the message lists the known ones).
    """
    if isinstance(name, SampleStyle):
        return name
    if name is None or name == "default":
        return STYLES["default"]
    parts = [p.strip() for p in str(name).split("+")]
    styles = []
    for part in parts:
        if part == "random":
            styles.append(random_style(seed))
        elif part.startswith("random-") and part[7:].isdigit():
            styles.append(random_style(int(part[7:])))
        elif part in STYLES:
            styles.append(STYLES[part])
        else:
            raise EthogramError(
                f"unknown sample style {part!r}: expected one of {', '.join(STYLES)}, "
                "random, random-N, or several joined by '+'"
            )
    if len(styles) == 1:
        return styles[0]
    return _combine(str(name), " + ".join(s.description for s in styles), styles, {})
