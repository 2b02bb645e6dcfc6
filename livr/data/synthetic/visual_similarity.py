"""visual_similarity: reference scene of shapes; the positive changes one shape a little, the
negative changes three shapes a lot (pixel distance at least 2x the positive's)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS
from livr.data.synthetic.drawing import DARK_NAMES, LIGHT_BACKGROUNDS, PALETTE, SHAPES, draw_shape
from livr.data.synthetic.sampling import pick, sample_until

MIN_DISTANCE_RATIO = 2.0  # negative's pixel MSE to the reference >= this x the positive's
PAIR_TRIES = 1000


def _scene(rng, S, k, n):
    return [
        [
            pick(rng, SHAPES),
            float(rng.uniform(14, S - 14)),
            float(rng.uniform(14, S - 14)),
            float(rng.uniform(9, 14) * k),
            pick(rng, DARK_NAMES),
        ]
        for _ in range(n)
    ]


def _draw_scene(S, bg, scene):
    img = Image.new("RGB", (S, S), bg)
    d = ImageDraw.Draw(img)
    for kind, cx, cy, h, c in scene:
        draw_shape(d, kind, cx, cy, h, h, PALETTE[c])
    return img


def generate(rng, S, gold):
    k = S / 112
    bg = pick(rng, LIGHT_BACKGROUNDS)
    scene = _scene(rng, S, k, int(rng.integers(4, 6)))
    ref = _draw_scene(S, bg, scene)
    r = np.asarray(ref, np.float64)

    def pair():
        """(positive scene, moved shape, negative scene, replaced shapes, their images and MSEs)."""
        pos = [list(s) for s in scene]
        i = int(rng.integers(len(pos)))
        ang = rng.uniform(0, 2 * math.pi)
        step = rng.uniform(4, 7) * k
        pos[i][1] = float(np.clip(pos[i][1] + step * math.cos(ang), 14, S - 14))
        pos[i][2] = float(np.clip(pos[i][2] + step * math.sin(ang), 14, S - 14))
        neg = [list(s) for s in scene]
        changed = pick(rng, list(range(len(neg))), 3)
        for j in changed:
            new = _scene(rng, S, k, 1)[0]
            new[4] = pick(rng, [c for c in DARK_NAMES if c != neg[j][4]])
            neg[j] = new
        pim, nim = _draw_scene(S, bg, pos), _draw_scene(S, bg, neg)
        dp = float(np.mean((np.asarray(pim, np.float64) - r) ** 2))
        dn = float(np.mean((np.asarray(nim, np.float64) - r) ** 2))
        return pos, i, neg, changed, pim, nim, dp, dn

    def broken(p):
        dp, dn = p[6], p[7]
        if dp <= 0:
            return "the positive's change left no visible difference"
        if dn < MIN_DISTANCE_RATIO * dp:
            return f"negative MSE < {MIN_DISTANCE_RATIO:g}x the positive's"
        return None

    pos, i, neg, changed, pim, nim, dp, dn = sample_until(
        pair, broken, PAIR_TRIES, "visual_similarity: positive and negative"
    )
    cands = [None, None]
    cands[gold], cands[1 - gold] = pim, nim
    meta = {
        "background": list(bg),
        "reference": scene,
        "positive": pos,
        "negative": neg,
        "positive_changed": [i],
        "negative_changed": sorted(changed),
        "mse": {"positive": round(dp, 3), "negative": round(dn, 3)},
    }
    return [ref] + cands, list(TASK_SPECS["visual_similarity"].choices), LETTERS[gold], meta, {}
