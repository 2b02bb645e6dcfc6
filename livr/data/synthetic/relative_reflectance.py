"""relative_reflectance: Mondrian-like grid of grey regions; A and B on two different regions;
"about the same" pairs have rel <= SAME_MAX_REL, others rel >= DIFFERENT_MIN_REL (paper rule:
rel <= 0.10 -> same), so no pair sits near the threshold."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from livr.data.registry import TASK_SPECS
from livr.data.synthetic.drawing import SCENE_MAX, SCENE_MIN, mark_points, ring_radius
from livr.data.synthetic.sampling import sample_until

SAME_MAX_REL = 0.06
DIFFERENT_MIN_REL = 0.45
GRID_TRIES = 10_000
GREY_TRIES = 10_000
POINT_TRIES = 1000


def srgb_to_linear(v: float) -> float:
    """sRGB 8-bit value -> linear luminance in [0, 1] (grey pixels: Y equals the channel value)."""
    c = v / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def reflectance_label(ya: float, yb: float, threshold: float = 0.10) -> str:
    """The paper's rule: rel = |YA - YB| / max(YA, YB, 1e-8) <= 0.10 -> C (about the same), else the darker."""
    rel = abs(ya - yb) / max(ya, yb, 1e-8)
    if rel <= threshold:
        return "C"
    return "A" if ya < yb else "B"


def _greys(rng, label):
    """(grey of A, grey of B) drawn for the label; the constraint is checked by the caller."""
    if label == "C":
        va = int(rng.integers(60, SCENE_MAX + 1))
        vb = va + int(rng.integers(-3, 4))
        return va, min(max(vb, SCENE_MIN), SCENE_MAX)
    dark = int(rng.integers(SCENE_MIN, 140))
    light = int(rng.integers(dark, SCENE_MAX + 1))
    return (dark, light) if label == "A" else (light, dark)


def _rel(va: int, vb: int) -> float:
    ya, yb = srgb_to_linear(va), srgb_to_linear(vb)
    return abs(ya - yb) / max(ya, yb)


def generate(rng, S, label):
    k = S / 112
    margin = ring_radius(k) + 3
    min_size = 2 * margin + 4

    def grid():
        ncols, nrows = int(rng.integers(2, 4)), int(rng.integers(2, 4))
        xs = sorted(rng.uniform(0, S, size=ncols - 1).round().astype(int).tolist())
        ys = sorted(rng.uniform(0, S, size=nrows - 1).round().astype(int).tolist())
        return [0, *xs, S], [0, *ys, S]

    xe, ye = sample_until(
        grid,
        lambda g: (
            None
            if min(np.diff(g[0])) >= min_size and min(np.diff(g[1])) >= min_size
            else f"a region narrower than {min_size} px"
        ),
        GRID_TRIES,
        "relative_reflectance: region grid",
    )
    ncols, nrows = len(xe) - 1, len(ye) - 1
    regions = [(xe[c], ye[r], xe[c + 1], ye[r + 1]) for r in range(nrows) for c in range(ncols)]
    ia, ib = (int(v) for v in rng.choice(len(regions), size=2, replace=False))
    grey = [int(v) for v in rng.integers(SCENE_MIN, SCENE_MAX + 1, size=len(regions))]
    if label == "C":
        ok = lambda v: None if _rel(*v) <= SAME_MAX_REL else f"rel > {SAME_MAX_REL}"  # noqa: E731
    else:
        ok = lambda v: None if _rel(*v) >= DIFFERENT_MIN_REL else f"rel < {DIFFERENT_MIN_REL}"  # noqa: E731
    va, vb = sample_until(lambda: _greys(rng, label), ok, GREY_TRIES, f"relative_reflectance: greys for answer {label}")
    grey[ia], grey[ib] = va, vb
    img = Image.new("RGB", (S, S))
    d = ImageDraw.Draw(img)
    for (x0, y0, x1, y1), g in zip(regions, grey):
        d.rectangle([x0, y0, x1 - 1, y1 - 1], fill=(g, g, g))

    def point_in(reg):
        x0, y0, x1, y1 = reg
        return (float(rng.uniform(x0 + margin, x1 - margin)), float(rng.uniform(y0 + margin, y1 - margin)))

    min_dist = 2 * ring_radius(k) + 6
    pa, pb = sample_until(
        lambda: (point_in(regions[ia]), point_in(regions[ib])),
        lambda p: None if math.dist(*p) >= min_dist else f"rings closer than {min_dist} px",
        POINT_TRIES,
        "relative_reflectance: points A and B",
    )
    mark_points(img, {"A": pa, "B": pb}, k)
    ya, yb = srgb_to_linear(va), srgb_to_linear(vb)
    if reflectance_label(ya, yb) != label:  # the bands above keep every pair off the 0.10 threshold
        raise RuntimeError(f"relative_reflectance: greys {va}, {vb} give {reflectance_label(ya, yb)}, not {label}")
    meta = {
        "YA": ya,
        "YB": yb,
        "rel": abs(ya - yb) / max(ya, yb, 1e-8),
        "grey_A": va,
        "grey_B": vb,
        "point_A": [round(v, 2) for v in pa],
        "point_B": [round(v, 2) for v in pb],
        "regions": [list(r) for r in regions],
        "region_grey": grey,
        "luminance": "linear (sRGB decoded); the image is pure albedo, no shading",
    }
    return [img], list(TASK_SPECS["relative_reflectance"].choices), label, meta, {}
