"""visual_correspondence: 3x3 grid of uniquely coloured shapes; view 2 is scaled, shifted and
re-lit; REF on one shape centre, A-D on four shape centres in view 2 (at least four shapes must
keep their marks inside both views). Every mark is a red ring with its label beside it, as in
BLINK's images and its question ("multiple red-circled points ... drawn beside each circle"): the
letter, not the ring's colour, says which candidate is which."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS
from livr.data.synthetic.drawing import BLINK_RED, PALETTE, PALETTE_NAMES, draw_shape, mark_points, ring_radius
from livr.data.synthetic.sampling import pick, place_in_order, sample_until

VIEW_TRIES = 1000
MARK_COLORS = dict.fromkeys(("REF", *LETTERS[:4]), BLINK_RED)


def generate(rng, S, gold):
    k = S / 112
    names = pick(rng, PALETTE_NAMES, 10)
    bg_name, shape_names = names[0], names[1:]
    cell = S / 3
    shapes = []
    for i, n in enumerate(shape_names):
        r, c = divmod(i, 3)
        kind = pick(rng, ("circle", "square"))
        hs = rng.uniform(0.36, 0.44) * cell
        cx = (c + 0.5) * cell + rng.uniform(-2, 2) * k
        cy = (r + 0.5) * cell + rng.uniform(-2, 2) * k
        shapes.append((kind, cx, cy, hs, n))
    margin = ring_radius(k) + 4

    def view():
        """A second view (scale, shift, light gain) and the shapes whose marks fit in both views."""
        scale = rng.uniform(0.8, 1.25)
        shift = rng.uniform(-12, 12, size=2) * k
        light = rng.uniform(0.85, 1.15)

        def warp(x, y):
            return (S / 2 + (x - S / 2) * scale + shift[0], S / 2 + (y - S / 2) * scale + shift[1])

        inside = [
            i
            for i, (_, cx, cy, _, _) in enumerate(shapes)
            if margin <= cx <= S - margin
            and margin <= cy <= S - margin
            and all(margin <= v <= S - margin for v in warp(cx, cy))
        ]
        return scale, shift, light, warp, inside

    scale, shift, light, warp, inside = sample_until(
        view,
        lambda v: None if len(v[4]) >= 4 else "fewer than 4 shapes markable in both views",
        VIEW_TRIES,
        "visual_correspondence: second view",
    )
    chosen = pick(rng, inside, 4)
    ref_i, distract = chosen[0], chosen[1:]

    def render(transform, gain, size_scale):
        bgc = tuple(int(np.clip(round(v * gain), 0, 255)) for v in PALETTE[bg_name])
        img = Image.new("RGB", (S, S), bgc)
        draw = ImageDraw.Draw(img)
        for kind, cx, cy, hs, n in shapes:
            x, y = transform(cx, cy)
            col = tuple(int(np.clip(round(v * gain), 0, 255)) for v in PALETTE[n])
            s = hs * size_scale
            draw_shape(draw, kind, x, y, s, s, col)
        return img

    im1 = render(lambda x, y: (x, y), 1.0, 1.0)
    im2 = render(warp, light, scale)
    ref_pt = shapes[ref_i][1:3]
    cand_idx = place_in_order(gold, ref_i, distract)
    cand_pts = {LETTERS[j]: warp(*shapes[i][1:3]) for j, i in enumerate(cand_idx)}
    mark_points(im1, {"REF": ref_pt}, k, MARK_COLORS)
    mark_points(im2, cand_pts, k, MARK_COLORS)
    meta = {
        "background": bg_name,
        "shapes": [[kind, round(cx, 2), round(cy, 2), round(2 * hs, 2), n] for kind, cx, cy, hs, n in shapes],
        "scale": round(scale, 4),
        "shift": [round(float(v), 3) for v in shift],
        "light_gain": round(light, 4),
        "ref_shape": ref_i,
        "ref_point": [round(v, 2) for v in ref_pt],
        "candidate_shapes": cand_idx,
        "candidate_points": {key: [round(v, 2) for v in p] for key, p in cand_pts.items()},
    }
    return [im1, im2], list(TASK_SPECS["visual_correspondence"].choices), LETTERS[gold], meta, {}
