"""art_style: style = texture (stripes, dots, checker, rings, blobs) + palette; the positive
shares both with the reference, the negative differs in both; layout parameters all differ."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS
from livr.data.synthetic.sampling import pick

TEXTURES = ("stripes", "dots", "checker", "rings", "blobs")
PALETTES = {
    "warm": ((225, 200, 160), (200, 80, 40), (120, 40, 30)),
    "cool": ((180, 210, 225), (40, 90, 160), (30, 50, 80)),
    "earth": ((200, 185, 140), (110, 120, 50), (90, 60, 35)),
    "pop": ((225, 225, 60), (220, 40, 160), (40, 200, 220)),
    "pastel": ((225, 215, 225), (170, 200, 160), (200, 160, 210)),
    "mono": ((215, 215, 215), (120, 120, 120), (40, 40, 40)),
}


def _image(rng, S, texture, palette):
    k = S / 112
    c0, c1, c2 = (np.array(c, np.float64) for c in PALETTES[palette])
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float64)
    params: dict = {}
    if texture == "stripes":
        ang, period = rng.uniform(0, math.pi), rng.uniform(20, 30) * k
        phase = rng.uniform(0, period)
        u = (xx * math.cos(ang) + yy * math.sin(ang) + phase) % period
        idx = (u >= period / 2).astype(int) + (u >= 0.8 * period).astype(int)
        params = {"angle": ang, "period": period}
    elif texture == "dots":
        period, r = rng.uniform(26, 32) * k, rng.uniform(7.5, 9.5) * k
        ox, oy = rng.uniform(0, period, size=2)
        dx = (xx + ox) % period - period / 2
        dy = (yy + oy) % period - period / 2
        inside = dx**2 + dy**2 <= r**2
        alt = ((np.floor((xx + ox) / period) + np.floor((yy + oy) / period)) % 2).astype(int)
        idx = np.where(inside, 1 + alt, 0)
        params = {"period": period, "radius": r}
    elif texture == "checker":
        sq = rng.uniform(16, 24) * k
        ox, oy = rng.uniform(0, sq, size=2)
        idx = ((np.floor((xx + ox) / sq) + np.floor((yy + oy) / sq)) % 2).astype(int) * rng.choice([1, 2])
        params = {"square": sq}
    elif texture == "rings":
        cx, cy = rng.uniform(0, S, size=2)
        band = rng.uniform(8, 11) * k
        d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        idx = (np.floor(d / band) % 3).astype(int)
        params = {"center": [cx, cy], "band": band}
    else:  # blobs: large soft-edged strokes
        idx = np.zeros((S, S), int)
        for n in range(int(rng.integers(5, 8))):
            cx, cy = rng.uniform(0, S, size=2)
            a, b = rng.uniform(18, 34) * k, rng.uniform(8, 14) * k
            ang = rng.uniform(0, math.pi)
            u = (xx - cx) * math.cos(ang) + (yy - cy) * math.sin(ang)
            v = -(xx - cx) * math.sin(ang) + (yy - cy) * math.cos(ang)
            idx[(u / a) ** 2 + (v / b) ** 2 <= 1] = 1 + n % 2
        params = {"strokes": int(idx.max())}
    cols = np.stack([c0, c1, c2])
    arr = cols[idx]
    rounded = {
        key: (round(float(v), 3) if not isinstance(v, list) else [round(float(x), 3) for x in v])
        for key, v in params.items()
    }
    return Image.fromarray(arr.astype(np.uint8)), rounded


def generate(rng, S, gold):
    tex = pick(rng, TEXTURES)
    pal = pick(rng, tuple(PALETTES))
    neg_tex = pick(rng, [t for t in TEXTURES if t != tex])
    neg_pal = pick(rng, [p for p in PALETTES if p != pal])
    ref, ref_p = _image(rng, S, tex, pal)
    pos, pos_p = _image(rng, S, tex, pal)
    neg, neg_p = _image(rng, S, neg_tex, neg_pal)
    cands = [None, None]
    cands[gold], cands[1 - gold] = pos, neg
    meta = {
        "reference_style": {"texture": tex, "palette": pal, "params": ref_p},
        "positive_style": {"texture": tex, "palette": pal, "params": pos_p},
        "negative_style": {"texture": neg_tex, "palette": neg_pal, "params": neg_p},
    }
    return [ref] + cands, list(TASK_SPECS["art_style"].choices), LETTERS[gold], meta, {}
