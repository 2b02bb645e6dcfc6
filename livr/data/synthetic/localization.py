"""localization: one filled shape covering 15-50% of the image; a tight box and a jittered box
(IoU 0.2-0.5 with the tight one, as the paper's distractors), colour-coded A (red) / B (blue)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS
from livr.data.synthetic.drawing import (
    BOX_WIDTH,
    DARK_NAMES,
    LABEL_COLOR,
    LIGHT_BACKGROUNDS,
    MARK_COLORS,
    PALETTE,
    box_iou,
    draw_shape,
    font,
)
from livr.data.synthetic.sampling import pick, sample_until

AREA_RANGE = (0.15, 0.50)  # object box area / image area (paper: 15-50%)
IOU_RANGE = (0.2, 0.5)  # distractor IoU with the tight box (paper: 0.2-0.5)
MIN_BOX_SIDE = 14  # px at 112 px: a distractor box spans at least one merged token
SIZE_TRIES = 10_000
DISTRACTOR_TRIES = 100_000


def generate(rng, S, gold):
    k = S / 112
    bg = pick(rng, LIGHT_BACKGROUNDS)
    cname = pick(rng, DARK_NAMES)
    kind = pick(rng, ("ellipse", "rectangle", "triangle", "diamond"))
    m = 5 * k  # room for the 3 px outline outside the tight box
    lo_area, hi_area = AREA_RANGE
    w, h = sample_until(
        lambda: rng.uniform(0.35, 0.75, size=2) * S,
        lambda wh: None if lo_area <= wh[0] * wh[1] / S**2 <= hi_area else f"area outside {AREA_RANGE}",
        SIZE_TRIES,
        "localization: object size",
    )
    x0 = round(rng.uniform(m, S - m - w))
    y0 = round(rng.uniform(m, S - m - h))
    x1, y1 = x0 + round(w), y0 + round(h)
    img = Image.new("RGB", (S, S), bg)
    draw = ImageDraw.Draw(img)
    draw_shape(draw, kind, (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2, PALETTE[cname])
    # tight box = bounding box of the pixels actually drawn
    a = np.asarray(img)
    ys, xs = np.nonzero(np.any(a != np.array(bg, np.uint8), axis=2))
    tight = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    bw = BOX_WIDTH
    lo, hi = bw, S - bw
    tw, th = tight[2] - tight[0], tight[3] - tight[1]

    def jittered():
        d = rng.uniform(-0.6, 0.6, size=4) * np.array([tw, th, tw, th])
        j = [round(tight[0] + d[0]), round(tight[1] + d[1]), round(tight[2] + d[2]), round(tight[3] + d[3])]
        return [min(max(v, lo), hi) for v in j]

    def broken(j):
        if j[2] - j[0] < MIN_BOX_SIDE * k or j[3] - j[1] < MIN_BOX_SIDE * k:
            return f"a side < {MIN_BOX_SIDE * k:g} px"
        if not IOU_RANGE[0] <= box_iou(tight, j) <= IOU_RANGE[1]:
            return f"IoU with the object's box outside {IOU_RANGE}"
        return None

    j = sample_until(jittered, broken, DISTRACTOR_TRIES, f"localization: distractor box for object box {tight}")
    boxes = [None, None]
    boxes[gold] = tight
    boxes[1 - gold] = j
    f = font(k)
    for letter, b in zip("AB", boxes):  # letters just outside the top-left corner (or inside if no room)
        left, t, _, bt = draw.textbbox((0, 0), letter, font=f)
        tx, ty = b[0] - bw, b[1] - bw - (bt - t) - 2
        if ty < 0:
            ty = b[1] + 1
        draw.text((tx - left, ty - t), letter, fill=LABEL_COLOR, font=f)
    for letter, b in zip("AB", boxes):
        draw.rectangle([b[0] - bw, b[1] - bw, b[2] + bw - 1, b[3] + bw - 1], outline=MARK_COLORS[letter], width=bw)
    meta = {
        "shape": kind,
        "color": cname,
        "background": list(bg),
        "gold_box": tight,
        "distractor_box": j,
        "boxes": {"A": boxes[0], "B": boxes[1]},
        "iou_distractor": round(box_iou(tight, j), 4),
        "area_fraction": round(tw * th / S**2, 4),
        "box_convention": "[x0, y0, x1, y1) pixels; outline drawn 3 px wide just outside",
    }
    return [img], list(TASK_SPECS["localization"].choices), LETTERS[gold], meta, {"object_name": kind}
