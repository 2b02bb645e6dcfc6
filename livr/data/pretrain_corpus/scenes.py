"""Drawing the corpus's scenes: shapes of named palette colours on plain backgrounds, placed
without overlap, and the names the questions use for them."""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image, ImageDraw

from livr.data.synthetic.drawing import PALETTE, SHAPES, draw_shape
from livr.data.synthetic.sampling import pick, sample_until

# Display names of the scene palette, and jitter so a colour name covers a range of shades.
COLOUR_NAMES = {
    "orange": "orange",
    "purple": "purple",
    "teal": "teal",
    "brown": "brown",
    "pink": "pink",
    "olive": "olive",
    "charcoal": "black",
    "green": "green",
    "sky": "blue",
    "sand": "yellow",
    "crimson": "red",
    "grey": "grey",
}
COLOUR_JITTER = 14
BACKGROUNDS = ((235, 235, 230), (215, 225, 235), (240, 228, 210), (220, 235, 220), (200, 200, 200), (250, 250, 250))
PLACE_TRIES = 2000


def jittered(rng, base, j: int) -> tuple[int, int, int]:
    """`base` with each channel moved by up to +-j, kept in 0-255."""
    return tuple(int(v) for v in np.clip(np.array(base, np.int64) + rng.integers(-j, j + 1, size=3), 0, 255))


def shade_of(rng, name: str) -> tuple[int, int, int]:
    return jittered(rng, PALETTE[name], COLOUR_JITTER)


def background_colour(rng) -> tuple[int, int, int]:
    return jittered(rng, pick(rng, BACKGROUNDS), 8)


@dataclasses.dataclass
class Obj:
    kind: str
    colour: str  # palette name
    cx: float
    cy: float
    half: float


def place_squares(rng, S, n, half_range=(8, 16), gap=3.0) -> list[tuple[float, float, float]]:
    """n non-overlapping squares (cx, cy, half) inside the image."""

    def packing():
        out = []
        for _ in range(60 * n):
            if len(out) == n:
                break
            h = rng.uniform(*half_range)
            cx, cy = rng.uniform(h + 2, S - h - 2, size=2)
            if all(abs(cx - x) >= h + g + gap or abs(cy - y) >= h + g + gap for x, y, g in out):
                out.append((float(cx), float(cy), float(h)))
        return out

    return sample_until(
        packing, lambda p: None if len(p) == n else "shapes overlap", PLACE_TRIES, f"corpus: {n} shapes"
    )


def draw_scene(rng, S, objs: list[Obj], bg=None) -> Image.Image:
    img = Image.new("RGB", (S, S), bg or background_colour(rng))
    d = ImageDraw.Draw(img)
    for o in objs:
        draw_shape(d, o.kind, o.cx, o.cy, o.half, o.half, shade_of(rng, o.colour))
    return img


def random_objects(rng, S, n, distinct_kinds=False, distinct_colours=True, half_range=(8, 16)) -> list[Obj]:
    kinds = pick(rng, SHAPES, n) if distinct_kinds else [pick(rng, SHAPES) for _ in range(n)]
    colours = (
        pick(rng, tuple(COLOUR_NAMES), n) if distinct_colours else [pick(rng, tuple(COLOUR_NAMES)) for _ in range(n)]
    )
    return [Obj(k, c, *p) for k, c, p in zip(kinds, colours, place_squares(rng, S, n, half_range))]


def name_of(o: Obj) -> str:
    return f"{COLOUR_NAMES[o.colour]} {o.kind}"


def other_colours(rng, exclude: set[str], n: int) -> list[str]:
    names = sorted({COLOUR_NAMES[c] for c in COLOUR_NAMES} - {COLOUR_NAMES[c] for c in exclude})
    return pick(rng, names, n)


def redraw(draw, check, what):
    return sample_until(draw, lambda v: None if check(v) else what, PLACE_TRIES, f"corpus: {what}")
