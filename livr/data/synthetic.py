"""Procedural, offline versions of the paper's nine tasks, learnable by a tiny VLM trained from scratch.

Each task keeps the real task's shape (number of images, number of choices, BLINK's wording from
`livr.data.prompts`, letter or integer answer) but draws its evidence large and clear, because a
tiny model with one merged visual token per 14x14 px (default 112 px images -> 64 tokens) does not
learn evidence smaller than a token:

- every object, region, band and mark spans >= 14 px at the default size (sizes scale with
  `image_size / 112`);
- marked points are rings (outer radius 10 px, 3 px thick) whose 14 px interior shows the surface
  under the point; the ring's COLOUR says which label it is (`MARK_COLORS`: REF white, A red,
  B blue, C green, D yellow). The letter is also written beside the ring in black for people, but
  it is small: the colour is the cue a tiny model can learn;
- scene colours keep every channel in [30, 225] (`SCENE_MIN`, `SCENE_MAX`), so the saturated
  mark colours and black label text never occur in a scene: a reader can find marks by exact
  colour.

The answer is decided by the pixels only: the gold letter (or count) is drawn per split from a
balanced list and shuffled with the seed, never tied to text or to a fixed position.
Every example has its own random stream, keyed by (seed, task, split, index), so splits never share
an example and a rebuild with the same seed gives byte-identical files.

Designs (one line each; `meta` records every generating parameter):
- counting: 2..10 same-type, same-colour shapes (14-18 px), non-overlapping; open integer answer.
- jigsaw: picture of a gradient, a large disc and two bands crossing into the blacked-out
  bottom-right quadrant; candidates are the true quadrant and the same quadrant of another picture.
- localization: one filled shape covering 15-50% of the image; a tight box and a jittered box
  (IoU 0.2-0.5 with the tight one), colour-coded A (red) / B (blue).
- visual_correspondence: 3x3 grid of uniquely coloured shapes; view 2 is scaled, shifted and
  re-lit; REF on one shape centre, A-D on four shape centres in view 2.
- semantic_correspondence: two instances of a procedural quadruped (different size, proportions,
  placement and colours); REF on one of 5 semantic keypoints, A-D on four keypoints of instance 2.
- functional_correspondence: two tools of different categories (hammer, pan, knife, spatula) at
  random angles; REF on one of 4 functional points (butt, grip, neck, working head); A-D on the
  four points of the other tool.
- art_style: style = texture (stripes, dots, checker, rings, blobs) + palette; the positive
  shares both with the reference, the negative differs in both; layout parameters all differ.
- relative_reflectance: Mondrian-like grid of grey regions; A and B on two different regions;
  "about the same" pairs have rel <= 0.06, others rel >= 0.45 (paper rule: rel <= 0.10 -> same).
- visual_similarity: reference scene of shapes; the positive changes one shape a little, the
  negative changes three shapes a lot (pixel distance at least 2x the positive's).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from livr.data.prompts import CHOICE_TEXTS, format_question
from livr.data.schema import LETTERS, SPLITS, TASKS, Record, write_task_dir

SYNTHETIC_TASKS = TASKS
BUILDER_VERSION = 1

SCENE_MIN, SCENE_MAX = 30, 225
MARK_COLORS = {
    "REF": (255, 255, 255),
    "A": (255, 0, 0),
    "B": (0, 0, 255),
    "C": (0, 255, 0),
    "D": (255, 255, 0),
}
LABEL_COLOR = (0, 0, 0)
RING_RADIUS = 10  # at 112 px; interior diameter 2 * (RING_RADIUS - RING_WIDTH) + 1 = 15 px
RING_WIDTH = 3
BOX_WIDTH = 3

# Scene palette: distinct hues, every channel inside [SCENE_MIN, SCENE_MAX].
PALETTE = {
    "orange": (225, 140, 40),
    "purple": (140, 60, 170),
    "teal": (40, 170, 170),
    "brown": (150, 95, 45),
    "pink": (225, 150, 200),
    "olive": (140, 160, 40),
    "charcoal": (60, 60, 70),
    "green": (60, 120, 60),
    "sky": (100, 150, 225),
    "sand": (225, 215, 130),
    "crimson": (180, 50, 90),
    "grey": (165, 165, 165),
}
PALETTE_NAMES = tuple(PALETTE)
LIGHT_BACKGROUNDS = ((215, 215, 205), (200, 215, 225), (225, 210, 190), (210, 225, 205), (220, 220, 220))
DARK_NAMES = ("orange", "purple", "teal", "brown", "charcoal", "green", "crimson", "sky", "olive")

SHAPES = ("circle", "square", "triangle", "diamond")
SHAPE_PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "diamond": "diamonds"}


# ----------------------------------------------------------------------------------------------
# drawing helpers


def _font(k: float) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(9, round(10 * k)))


def _shape(draw: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, hw: float, hh: float, fill) -> None:
    """Filled shape inside the box centred at (cx, cy) with half-width hw and half-height hh."""
    box = [round(cx - hw), round(cy - hh), round(cx + hw) - 1, round(cy + hh) - 1]
    if kind in ("circle", "ellipse"):
        draw.ellipse(box, fill=fill)
    elif kind in ("square", "rectangle"):
        draw.rectangle(box, fill=fill)
    elif kind == "triangle":
        draw.polygon([(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) / 2, box[1])], fill=fill)
    elif kind == "diamond":
        mx, my = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        draw.polygon([(mx, box[1]), (box[2], my), (mx, box[3]), (box[0], my)], fill=fill)
    else:
        raise ValueError(kind)


def _ring_radius(k: float) -> int:
    return max(RING_RADIUS, round(RING_RADIUS * k))


def _ring_width(k: float) -> int:
    return max(RING_WIDTH, round(RING_WIDTH * k))


def _label(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, k: float, size: int) -> None:
    """Black label text just above-right of a ring (kept inside the image)."""
    font = _font(k)
    r = _ring_radius(k)
    l, t, rr, b = draw.textbbox((0, 0), text, font=font)
    w, h = rr - l, b - t
    tx = x + r - 2
    ty = y - r - h - 1
    if tx + w > size - 1:
        tx = x - r - w + 2
    if ty < 0:
        ty = y + r + 1
    draw.text((tx - l, ty - t), text, fill=LABEL_COLOR, font=font)


def _mark_points(img: Image.Image, points: dict[str, tuple[float, float]], k: float) -> None:
    """Rings coloured by label at each point; labels first so rings are never overwritten."""
    draw = ImageDraw.Draw(img)
    for name, (x, y) in points.items():
        _label(draw, x, y, name, k, img.width)
    r, w = _ring_radius(k), _ring_width(k)
    for name, (x, y) in points.items():
        x, y = round(x), round(y)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=MARK_COLORS[name], width=w)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _pick(rng: np.random.Generator, seq, n: int | None = None):
    if n is None:
        return seq[int(rng.integers(len(seq)))]
    idx = rng.choice(len(seq), size=n, replace=False)
    return [seq[int(i)] for i in idx]


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


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


# ----------------------------------------------------------------------------------------------
# tasks. Each generator gets (rng, size, gold) and returns (images, choices, answer, meta, slots).


def _gen_counting(rng, S, count):
    k = S / 112
    bg = _pick(rng, LIGHT_BACKGROUNDS)
    cname = _pick(rng, DARK_NAMES)
    kind = _pick(rng, SHAPES)
    gap = 3 * k
    for _attempt in range(100):
        boxes = []
        tries = 0
        while len(boxes) < count and tries < 4000:
            tries += 1
            h = rng.uniform(7, 9) * k
            cx, cy = rng.uniform(h + 2, S - h - 2, size=2)
            if all(abs(cx - bx) >= h + bh + gap or abs(cy - by) >= h + bh + gap for bx, by, bh in boxes):
                boxes.append((cx, cy, h))
        if len(boxes) == count:
            break
    else:  # pragma: no cover - packing 10 shapes of <= 18 px into 112 px never fails in practice
        raise RuntimeError("could not place counting shapes")
    img = Image.new("RGB", (S, S), bg)
    draw = ImageDraw.Draw(img)
    for cx, cy, h in boxes:
        _shape(draw, kind, cx, cy, h, h, PALETTE[cname])
    meta = {
        "count": count,
        "shape": kind,
        "color": cname,
        "background": list(bg),
        "shapes": [[round(cx, 2), round(cy, 2), round(2 * h, 2)] for cx, cy, h in boxes],
    }
    return [img], [], str(count), meta, {"object_name": SHAPE_PLURAL[kind]}


def _jigsaw_picture(rng, S):
    k = S / 112
    H = S // 2
    names = _pick(rng, PALETTE_NAMES, 5)
    top, bottom, disc, hband, vband = (PALETTE[n] for n in names)
    arr = np.empty((S, S, 3), np.float64)
    t = np.linspace(0, 1, S)[:, None]
    arr[:] = (np.array(top) * (1 - t) + np.array(bottom) * t)[:, None, :]
    img = Image.fromarray(np.round(arr).astype(np.uint8).reshape(S, S, 3))
    draw = ImageDraw.Draw(img)
    dcx, dcy = H + rng.uniform(-12, 12) * k, H + rng.uniform(-12, 12) * k
    dr = rng.uniform(20, 30) * k
    draw.ellipse([round(dcx - dr), round(dcy - dr), round(dcx + dr), round(dcy + dr)], fill=disc)
    hy, hh = rng.uniform(H + 6 * k, S - 22 * k), rng.uniform(14, 18) * k
    draw.rectangle([0, round(hy), S - 1, round(hy + hh) - 1], fill=hband)
    vx, vw = rng.uniform(H + 6 * k, S - 22 * k), rng.uniform(14, 18) * k
    draw.rectangle([round(vx), 0, round(vx + vw) - 1, S - 1], fill=vband)
    params = {
        "colors": {"top": names[0], "bottom": names[1], "disc": names[2], "hband": names[3], "vband": names[4]},
        "disc": [round(dcx, 2), round(dcy, 2), round(dr, 2)],
        "hband": [round(hy, 2), round(hh, 2)],
        "vband": [round(vx, 2), round(vw, 2)],
    }
    return img, params


def jigsaw_edge_mismatch(first: np.ndarray, patch: np.ndarray) -> float:
    """Mean absolute difference between a candidate patch's top/left edges and the pixels bordering
    the blacked-out bottom-right quadrant of the first image (lower = fits better)."""
    S = first.shape[0]
    H = S // 2
    f, p = first.astype(np.float64), patch.astype(np.float64)
    top = np.abs(p[0, :, :] - f[H - 1, H:, :]).mean()
    left = np.abs(p[:, 0, :] - f[H:, H - 1, :]).mean()
    return float((top + left) / 2)


def _gen_jigsaw(rng, S, gold):
    H = S // 2
    pic, params = _jigsaw_picture(rng, S)
    full = np.asarray(pic)
    true_patch = full[H:, H:].copy()
    first = full.copy()
    first[H:, H:] = 0
    for _ in range(50):
        other, oparams = _jigsaw_picture(rng, S)
        wrong_patch = np.asarray(other)[H:, H:].copy()
        if jigsaw_edge_mismatch(first, wrong_patch) >= 25:
            break
    cands = [None, None]
    cands[gold] = true_patch
    cands[1 - gold] = wrong_patch
    images = [Image.fromarray(first)] + [Image.fromarray(c) for c in cands]
    meta = {
        "picture": params,
        "distractor_picture": oparams,
        "edge_mismatch": {
            "true": round(jigsaw_edge_mismatch(first, true_patch), 3),
            "distractor": round(jigsaw_edge_mismatch(first, wrong_patch), 3),
        },
    }
    return images, list(CHOICE_TEXTS["jigsaw"]), LETTERS[gold], meta, {}


def _gen_localization(rng, S, gold):
    k = S / 112
    bg = _pick(rng, LIGHT_BACKGROUNDS)
    cname = _pick(rng, DARK_NAMES)
    kind = _pick(rng, ("ellipse", "rectangle", "triangle", "diamond"))
    m = 5 * k  # room for the 3 px outline outside the tight box
    while True:
        w, h = rng.uniform(0.35, 0.75, size=2) * S
        if 0.15 <= w * h / S**2 <= 0.50:
            break
    x0 = round(rng.uniform(m, S - m - w))
    y0 = round(rng.uniform(m, S - m - h))
    x1, y1 = x0 + round(w), y0 + round(h)
    img = Image.new("RGB", (S, S), bg)
    draw = ImageDraw.Draw(img)
    _shape(draw, kind, (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2, PALETTE[cname])
    # tight box = bounding box of the pixels actually drawn
    a = np.asarray(img)
    ys, xs = np.nonzero(np.any(a != np.array(bg, np.uint8), axis=2))
    tight = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    bw = BOX_WIDTH
    lo, hi = bw, S - bw
    tw, th = tight[2] - tight[0], tight[3] - tight[1]
    for _ in range(100000):
        d = rng.uniform(-0.6, 0.6, size=4) * np.array([tw, th, tw, th])
        j = [round(tight[0] + d[0]), round(tight[1] + d[1]), round(tight[2] + d[2]), round(tight[3] + d[3])]
        j = [min(max(v, lo), hi) for v in j]
        if j[2] - j[0] < 14 * k or j[3] - j[1] < 14 * k:
            continue
        iou = _iou(tight, j)
        if 0.2 <= iou <= 0.5:
            break
    boxes = [None, None]
    boxes[gold] = tight
    boxes[1 - gold] = j
    font = _font(k)
    for letter, b in zip("AB", boxes):  # letters just outside the top-left corner (or inside if no room)
        l, t, r_, bt = draw.textbbox((0, 0), letter, font=font)
        tx, ty = b[0] - bw, b[1] - bw - (bt - t) - 2
        if ty < 0:
            ty = b[1] + 1
        draw.text((tx - l, ty - t), letter, fill=LABEL_COLOR, font=font)
    for letter, b in zip("AB", boxes):
        draw.rectangle([b[0] - bw, b[1] - bw, b[2] + bw - 1, b[3] + bw - 1], outline=MARK_COLORS[letter], width=bw)
    meta = {
        "shape": kind,
        "color": cname,
        "background": list(bg),
        "gold_box": tight,
        "distractor_box": j,
        "boxes": {"A": boxes[0], "B": boxes[1]},
        "iou_distractor": round(_iou(tight, j), 4),
        "area_fraction": round(tw * th / S**2, 4),
        "box_convention": "[x0, y0, x1, y1) pixels; outline drawn 3 px wide just outside",
    }
    return [img], list(CHOICE_TEXTS["localization"]), LETTERS[gold], meta, {"object_name": kind}


def _gen_visual_correspondence(rng, S, gold):
    k = S / 112
    names = _pick(rng, PALETTE_NAMES, 10)
    bg_name, shape_names = names[0], names[1:]
    cell = S / 3
    shapes = []
    for i, n in enumerate(shape_names):
        r, c = divmod(i, 3)
        kind = _pick(rng, ("circle", "square"))
        hs = rng.uniform(0.36, 0.44) * cell
        cx = (c + 0.5) * cell + rng.uniform(-2, 2) * k
        cy = (r + 0.5) * cell + rng.uniform(-2, 2) * k
        shapes.append((kind, cx, cy, hs, n))
    margin = _ring_radius(k) + 4
    for _ in range(1000):
        scale = rng.uniform(0.8, 1.25)
        shift = rng.uniform(-12, 12, size=2) * k
        light = rng.uniform(0.85, 1.15)

        def warp(x, y):
            return (S / 2 + (x - S / 2) * scale + shift[0], S / 2 + (y - S / 2) * scale + shift[1])

        inside = [
            i for i, (_, cx, cy, _, _) in enumerate(shapes)
            if margin <= cx <= S - margin and margin <= cy <= S - margin
            and all(margin <= v <= S - margin for v in warp(cx, cy))
        ]
        if len(inside) >= 4:
            break
    chosen = _pick(rng, inside, 4)
    ref_i, distract = chosen[0], chosen[1:]

    def render(transform, gain):
        bgc = tuple(int(np.clip(round(v * gain), 0, 255)) for v in PALETTE[bg_name])
        img = Image.new("RGB", (S, S), bgc)
        draw = ImageDraw.Draw(img)
        for kind, cx, cy, hs, n in shapes:
            x, y = transform(cx, cy)
            col = tuple(int(np.clip(round(v * gain), 0, 255)) for v in PALETTE[n])
            s = hs * (scale if transform is warp else 1.0)
            _shape(draw, kind, x, y, s, s, col)
        return img

    im1 = render(lambda x, y: (x, y), 1.0)
    im2 = render(warp, light)
    ref_pt = shapes[ref_i][1:3]
    cand_idx = [None] * 4
    cand_idx[gold] = ref_i
    rest = iter(distract)
    for j in range(4):
        if cand_idx[j] is None:
            cand_idx[j] = next(rest)
    cand_pts = {LETTERS[j]: warp(*shapes[i][1:3]) for j, i in enumerate(cand_idx)}
    _mark_points(im1, {"REF": ref_pt}, k)
    _mark_points(im2, cand_pts, k)
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
    return [im1, im2], list(CHOICE_TEXTS["visual_correspondence"]), LETTERS[gold], meta, {}


# Quadruped in object-normalised coordinates (u right, v down, both in [0, 1]).
QUADRUPED_KEYPOINTS = ("head", "tail_tip", "front_foot", "back_foot", "body_center")


def _quadruped(rng, S, k):
    W = rng.uniform(78, 96) * k
    H = W * rng.uniform(0.78, 0.92)
    j = lambda: rng.uniform(-0.03, 0.03)  # noqa: E731
    body = (0.22 + j(), 0.30 + j(), 0.86 + j(), 0.62 + j())
    head_c, head_r = (0.15 + j(), 0.22 + j()), 0.13 + j() / 2
    tail_tip = (0.97 + j() / 2, 0.12 + j())
    fl, bl = 0.28 + j(), 0.70 + j()
    leg_w = max(0.15, 15 * k / W)
    kp = {
        "head": head_c,
        "tail_tip": (tail_tip[0] - 0.03, tail_tip[1] + 0.06),
        "front_foot": (fl + leg_w / 2, 0.92),
        "back_foot": (bl + leg_w / 2, 0.92),
        "body_center": ((body[0] + body[2]) / 2, (body[1] + body[3]) / 2),
    }
    margin = _ring_radius(k) + 3
    for _ in range(1000):  # whole body inside the image, every keypoint ring inside too
        x0 = rng.uniform(2, S - 2 - W)
        y0 = rng.uniform(2, S - 2 - H)
        if all(margin <= x0 + u * W <= S - margin and margin <= y0 + v * H <= S - margin for u, v in kp.values()):
            break
    X = lambda u: x0 + u * W  # noqa: E731
    Y = lambda v: y0 + v * H  # noqa: E731
    colors = _pick(rng, DARK_NAMES, 3)
    parts = {
        "body": [X(body[0]), Y(body[1]), X(body[2]), Y(body[3])],
        "head": [X(head_c[0]), Y(head_c[1]), head_r * W],
        "front_leg": [X(fl), Y(body[3] - 0.05), X(fl + leg_w), Y(1.0)],
        "back_leg": [X(bl), Y(body[3] - 0.05), X(bl + leg_w), Y(1.0)],
        "tail": [[X(body[2] - 0.02), Y(body[1])], [X(body[2] - 0.02), Y(body[1] + 0.16)], [X(tail_tip[0]), Y(tail_tip[1])]],
    }
    pts = {name: (X(u), Y(v)) for name, (u, v) in kp.items()}
    return {"W": W, "H": H, "origin": (x0, y0), "parts": parts, "colors": colors, "keypoints": pts}


def _draw_quadruped(S, bg, q):
    img = Image.new("RGB", (S, S), bg)
    d = ImageDraw.Draw(img)
    c_body, c_head, c_legs = (PALETTE[n] for n in q["colors"])
    p = q["parts"]
    d.polygon([tuple(v) for v in p["tail"]], fill=c_legs)
    d.rectangle([round(v) for v in p["front_leg"]], fill=c_legs)
    d.rectangle([round(v) for v in p["back_leg"]], fill=c_legs)
    d.rectangle([round(v) for v in p["body"]], fill=c_body)
    hx, hy, hr = p["head"]
    d.ellipse([round(hx - hr), round(hy - hr), round(hx + hr), round(hy + hr)], fill=c_head)
    return img


def _gen_semantic_correspondence(rng, S, gold):
    k = S / 112
    bgs = _pick(rng, LIGHT_BACKGROUNDS, 2)
    q1 = _quadruped(rng, S, k)
    q2 = _quadruped(rng, S, k)
    ref = _pick(rng, QUADRUPED_KEYPOINTS)
    others = _pick(rng, [n for n in QUADRUPED_KEYPOINTS if n != ref], 3)
    order = [None] * 4
    order[gold] = ref
    rest = iter(others)
    for j in range(4):
        if order[j] is None:
            order[j] = next(rest)
    im1 = _draw_quadruped(S, bgs[0], q1)
    im2 = _draw_quadruped(S, bgs[1], q2)
    _mark_points(im1, {"REF": q1["keypoints"][ref]}, k)
    _mark_points(im2, {LETTERS[j]: q2["keypoints"][n] for j, n in enumerate(order)}, k)
    rnd = lambda v: [round(float(x), 2) for x in v]  # noqa: E731
    meta = {
        "category": "quadruped",
        "ref_keypoint": ref,
        "candidate_keypoints": order,
        "instances": [
            {
                "size": [round(q["W"], 2), round(q["H"], 2)],
                "origin": rnd(q["origin"]),
                "colors": q["colors"],
                "background": list(bg),
                "keypoints": {n: rnd(p) for n, p in q["keypoints"].items()},
            }
            for q, bg in ((q1, bgs[0]), (q2, bgs[1]))
        ],
    }
    return [im1, im2], list(CHOICE_TEXTS["semantic_correspondence"]), LETTERS[gold], meta, {}


TOOL_CATEGORIES = ("hammer", "pan", "knife", "spatula")
TOOL_ACTION = {"hammer": "Pound", "pan": "Scoop", "knife": "Cut", "spatula": "Lift"}
TOOL_ROLES = ("butt", "grip", "neck", "head")


def _tool(rng, S, k, category):
    """Polygons of a tool along its axis (t = 0 butt ... t = 1 head end), rotated and placed."""
    L = rng.uniform(92, 104) * k
    hw = rng.uniform(7, 8.5) * k  # handle half-width (14-17 px)
    th = rng.uniform(0.56, 0.62)  # handle ends at t = th (the neck)
    local = []  # (kind, geometry in (t*L, s) coords with s across the axis)
    local.append(("poly", [(0, -hw), (th * L, -hw), (th * L, hw), (0, hw)]))
    if category == "hammer":
        hh = rng.uniform(20, 24) * k
        local.append(("poly", [(0.80 * L, -hh), (L, -hh), (L, hh), (0.80 * L, hh)]))
        local.append(("poly", [(th * L - 1, -hw), (0.81 * L, -hw), (0.81 * L, hw), (th * L - 1, hw)]))
        head_t = 0.90
    elif category == "pan":
        r = rng.uniform(0.19, 0.21) * L
        local.append(("circle", (L - r, 0.0, r)))
        local.append(("poly", [(th * L - 1, -hw * 0.8), (L - r, -hw * 0.8), (L - r, hw * 0.8), (th * L - 1, hw * 0.8)]))
        head_t = (L - r) / L
    elif category == "knife":
        bh = rng.uniform(11, 13) * k
        local.append(("poly", [(th * L - 1, -bh), (0.86 * L, -bh), (L, bh), (th * L - 1, bh)]))
        head_t = 0.84
    else:  # spatula
        sh = rng.uniform(15, 18) * k
        local.append(("poly", [(th * L - 1, -hw * 0.6), (0.68 * L, -hw * 0.6), (0.68 * L, hw * 0.6), (th * L - 1, hw * 0.6)]))
        local.append(("poly", [(0.68 * L, -sh), (L, -sh), (L, sh), (0.68 * L, sh)]))
        head_t = 0.86
    roles = {"butt": 0.07, "grip": 0.32, "neck": th, "head": head_t}
    margin = _ring_radius(k) + 3
    for _ in range(1000):
        ang = rng.uniform(0, 2 * math.pi)
        ca, sa = math.cos(ang), math.sin(ang)
        cx, cy = rng.uniform(0.3 * S, 0.7 * S, size=2)

        def to_img(t, s):
            u = t - L / 2
            return (cx + u * ca - s * sa, cy + u * sa + s * ca)

        extreme = [to_img(t, s) for t in (0, L) for s in (-24 * k, 24 * k)]
        pts = {name: to_img(t * L, 0.0) for name, t in roles.items()}
        if all(1 <= x <= S - 2 and 1 <= y <= S - 2 for x, y in extreme) and all(
            margin <= x <= S - margin and margin <= y <= S - margin for x, y in pts.values()
        ):
            break
    shapes = []
    for kind, geo in local:
        if kind == "poly":
            shapes.append(("poly", [to_img(t, s) for t, s in geo]))
        else:
            t, s, r = geo
            shapes.append(("circle", (*to_img(t, s), r)))
    return {"category": category, "L": L, "angle": ang, "center": (cx, cy), "roles_t": roles, "shapes": shapes, "points": pts}


def _draw_tool(S, bg, tool, handle_color, head_color):
    img = Image.new("RGB", (S, S), bg)
    d = ImageDraw.Draw(img)
    for i, (kind, geo) in enumerate(tool["shapes"]):
        col = handle_color if i == 0 else head_color
        if kind == "poly":
            d.polygon(geo, fill=col)
        else:
            x, y, r = geo
            d.ellipse([round(x - r), round(y - r), round(x + r), round(y + r)], fill=col)
    return img


def _gen_functional_correspondence(rng, S, gold):
    k = S / 112
    cat1, cat2 = _pick(rng, TOOL_CATEGORIES, 2)
    t1, t2 = _tool(rng, S, k, cat1), _tool(rng, S, k, cat2)
    bgs = _pick(rng, LIGHT_BACKGROUNDS, 2)
    cols = [_pick(rng, DARK_NAMES, 2), _pick(rng, DARK_NAMES, 2)]
    ref = _pick(rng, TOOL_ROLES)
    others = [r for r in TOOL_ROLES if r != ref]
    others = _pick(rng, others, 3)
    order = [None] * 4
    order[gold] = ref
    rest = iter(others)
    for j in range(4):
        if order[j] is None:
            order[j] = next(rest)
    im1 = _draw_tool(S, bgs[0], t1, PALETTE[cols[0][0]], PALETTE[cols[0][1]])
    im2 = _draw_tool(S, bgs[1], t2, PALETTE[cols[1][0]], PALETTE[cols[1][1]])
    _mark_points(im1, {"REF": t1["points"][ref]}, k)
    _mark_points(im2, {LETTERS[j]: t2["points"][r] for j, r in enumerate(order)}, k)
    action = TOOL_ACTION[cat1] if ref == "head" else "Hold"
    rnd = lambda v: [round(float(x), 2) for x in v]  # noqa: E731
    meta = {
        "action": action,
        "ref_role": ref,
        "candidate_roles": order,
        "tools": [
            {
                "category": t["category"],
                "length": round(t["L"], 2),
                "angle_deg": round(math.degrees(t["angle"]), 2),
                "center": rnd(t["center"]),
                "roles_t": {r: round(v, 4) for r, v in t["roles_t"].items()},
                "points": {r: rnd(p) for r, p in t["points"].items()},
                "colors": {"handle": c[0], "head": c[1]},
                "background": list(bg),
            }
            for t, c, bg in ((t1, cols[0], bgs[0]), (t2, cols[1], bgs[1]))
        ],
    }
    return [im1, im2], list(CHOICE_TEXTS["functional_correspondence"]), LETTERS[gold], meta, {"action": action}


ART_TEXTURES = ("stripes", "dots", "checker", "rings", "blobs")
ART_PALETTES = {
    "warm": ((225, 200, 160), (200, 80, 40), (120, 40, 30)),
    "cool": ((180, 210, 225), (40, 90, 160), (30, 50, 80)),
    "earth": ((200, 185, 140), (110, 120, 50), (90, 60, 35)),
    "pop": ((225, 225, 60), (220, 40, 160), (40, 200, 220)),
    "pastel": ((225, 215, 225), (170, 200, 160), (200, 160, 210)),
    "mono": ((215, 215, 215), (120, 120, 120), (40, 40, 40)),
}


def _art_image(rng, S, texture, palette):
    k = S / 112
    c0, c1, c2 = (np.array(c, np.float64) for c in ART_PALETTES[palette])
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
    return Image.fromarray(arr.astype(np.uint8)), {key: (round(float(v), 3) if not isinstance(v, list) else [round(float(x), 3) for x in v]) for key, v in params.items()}


def _gen_art_style(rng, S, gold):
    tex = _pick(rng, ART_TEXTURES)
    pal = _pick(rng, tuple(ART_PALETTES))
    neg_tex = _pick(rng, [t for t in ART_TEXTURES if t != tex])
    neg_pal = _pick(rng, [p for p in ART_PALETTES if p != pal])
    ref, ref_p = _art_image(rng, S, tex, pal)
    pos, pos_p = _art_image(rng, S, tex, pal)
    neg, neg_p = _art_image(rng, S, neg_tex, neg_pal)
    cands = [None, None]
    cands[gold], cands[1 - gold] = pos, neg
    meta = {
        "reference_style": {"texture": tex, "palette": pal, "params": ref_p},
        "positive_style": {"texture": tex, "palette": pal, "params": pos_p},
        "negative_style": {"texture": neg_tex, "palette": neg_pal, "params": neg_p},
    }
    return [ref] + cands, list(CHOICE_TEXTS["art_style"]), LETTERS[gold], meta, {}


def _gen_relative_reflectance(rng, S, label):
    k = S / 112
    margin = _ring_radius(k) + 3
    min_size = 2 * margin + 4
    while True:
        ncols, nrows = int(rng.integers(2, 4)), int(rng.integers(2, 4))
        xs = sorted(rng.uniform(0, S, size=ncols - 1).round().astype(int).tolist())
        ys = sorted(rng.uniform(0, S, size=nrows - 1).round().astype(int).tolist())
        xe, ye = [0, *xs, S], [0, *ys, S]
        if min(np.diff(xe)) >= min_size and min(np.diff(ye)) >= min_size:
            break
    regions = [(xe[c], ye[r], xe[c + 1], ye[r + 1]) for r in range(nrows) for c in range(ncols)]
    ia, ib = (int(v) for v in rng.choice(len(regions), size=2, replace=False))
    grey = [int(v) for v in rng.integers(SCENE_MIN, SCENE_MAX + 1, size=len(regions))]
    lin = srgb_to_linear
    while True:
        if label == "C":
            va = int(rng.integers(60, SCENE_MAX + 1))
            vb = va + int(rng.integers(-3, 4))
            vb = min(max(vb, SCENE_MIN), SCENE_MAX)
            rel = abs(lin(va) - lin(vb)) / max(lin(va), lin(vb))
            if rel <= 0.06:
                break
        else:
            dark = int(rng.integers(SCENE_MIN, 140))
            light = int(rng.integers(dark, SCENE_MAX + 1))
            rel = (lin(light) - lin(dark)) / lin(light)
            if rel >= 0.45:
                va, vb = (dark, light) if label == "A" else (light, dark)
                break
    grey[ia], grey[ib] = va, vb
    img = Image.new("RGB", (S, S))
    d = ImageDraw.Draw(img)
    for (x0, y0, x1, y1), g in zip(regions, grey):
        d.rectangle([x0, y0, x1 - 1, y1 - 1], fill=(g, g, g))

    def point_in(reg):
        x0, y0, x1, y1 = reg
        return (float(rng.uniform(x0 + margin, x1 - margin)), float(rng.uniform(y0 + margin, y1 - margin)))

    for _ in range(1000):
        pa, pb = point_in(regions[ia]), point_in(regions[ib])
        if math.dist(pa, pb) >= 2 * _ring_radius(k) + 6:
            break
    _mark_points(img, {"A": pa, "B": pb}, k)
    ya, yb = lin(va), lin(vb)
    assert reflectance_label(ya, yb) == label
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
    return [img], list(CHOICE_TEXTS["relative_reflectance"]), label, meta, {}


def _similarity_scene(rng, S, k, n):
    return [
        [_pick(rng, SHAPES), float(rng.uniform(14, S - 14)), float(rng.uniform(14, S - 14)),
         float(rng.uniform(9, 14) * k), _pick(rng, DARK_NAMES)]
        for _ in range(n)
    ]


def _draw_scene(S, bg, scene):
    img = Image.new("RGB", (S, S), bg)
    d = ImageDraw.Draw(img)
    for kind, cx, cy, h, c in scene:
        _shape(d, kind, cx, cy, h, h, PALETTE[c])
    return img


def _gen_visual_similarity(rng, S, gold):
    k = S / 112
    bg = _pick(rng, LIGHT_BACKGROUNDS)
    scene = _similarity_scene(rng, S, k, int(rng.integers(4, 6)))
    ref = _draw_scene(S, bg, scene)
    r = np.asarray(ref, np.float64)
    for _ in range(1000):
        pos = [list(s) for s in scene]
        i = int(rng.integers(len(pos)))
        ang = rng.uniform(0, 2 * math.pi)
        step = rng.uniform(4, 7) * k
        pos[i][1] = float(np.clip(pos[i][1] + step * math.cos(ang), 14, S - 14))
        pos[i][2] = float(np.clip(pos[i][2] + step * math.sin(ang), 14, S - 14))
        neg = [list(s) for s in scene]
        changed = _pick(rng, list(range(len(neg))), 3)
        for j in changed:
            new = _similarity_scene(rng, S, k, 1)[0]
            new[4] = _pick(rng, [c for c in DARK_NAMES if c != neg[j][4]])
            neg[j] = new
        pim, nim = _draw_scene(S, bg, pos), _draw_scene(S, bg, neg)
        dp = float(np.mean((np.asarray(pim, np.float64) - r) ** 2))
        dn = float(np.mean((np.asarray(nim, np.float64) - r) ** 2))
        if dp > 0 and dn >= 2 * dp:
            break
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
    return [ref] + cands, list(CHOICE_TEXTS["visual_similarity"]), LETTERS[gold], meta, {}


GENERATORS: dict[str, Callable] = {
    "counting": _gen_counting,
    "jigsaw": _gen_jigsaw,
    "localization": _gen_localization,
    "visual_correspondence": _gen_visual_correspondence,
    "art_style": _gen_art_style,
    "semantic_correspondence": _gen_semantic_correspondence,
    "functional_correspondence": _gen_functional_correspondence,
    "relative_reflectance": _gen_relative_reflectance,
    "visual_similarity": _gen_visual_similarity,
}
N_CHOICES = {t: len(c) for t, c in CHOICE_TEXTS.items()}
_SPLIT_TAG = 1_000_000_007  # per-split streams use this index, per-example ones use 0..n-1


def _rng(seed: int, task: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, TASKS.index(task), SPLITS.index(split), index]))


def _golds(task: str, n: int, rng: np.random.Generator) -> list:
    """Balanced gold values for one split, shuffled: letters (each equally often), counts 2..10
    (each equally often), or for relative reflectance A/B/C in 3:3:2 (about the same ~ 1/4)."""
    if task == "counting":
        base = [2 + i % 9 for i in range(n)]
    elif task == "relative_reflectance":
        cycle = "AAABBBCC"
        base = [cycle[i % len(cycle)] for i in range(n)]
    else:
        base = [i % N_CHOICES[task] for i in range(n)]
    order = rng.permutation(n)
    return [base[int(i)] for i in order]


def generate_split(task: str, split: str, n: int, seed: int, image_size: int = 112):
    """Records and PNG bytes for one split: ([Record], {relative path: bytes})."""
    golds = _golds(task, n, _rng(seed, task, split, _SPLIT_TAG))
    records, files = [], {}
    for i in range(n):
        rng = _rng(seed, task, split, i)
        images, choices, answer, meta, slots = GENERATORS[task](rng, image_size, golds[i])
        rid = f"synthetic-{task}-{split}-{i:05d}"
        paths = []
        for j, img in enumerate(images):
            rel = f"images/{split}/{rid}_{j + 1}.png"
            files[rel] = _png(img)
            paths.append(rel)
        meta = {**meta, "seed": seed, "index": i, "image_size": image_size}
        records.append(
            Record(
                id=rid,
                task=task,
                split=split,
                images=paths,
                question=format_question(task, choices, **slots),
                choices=choices,
                answer=answer,
                source="synthetic",
                meta=meta,
            )
        )
    return records, files


def build_synthetic_task(
    task: str, out_dir, n_train: int, n_val: int, n_test: int, seed: int, image_size: int = 112
) -> None:
    """Build one procedural task directory (train/val/test.jsonl, images/, manifest.json) atomically."""
    if task not in GENERATORS:
        raise ValueError(f"unknown synthetic task {task!r}; valid tasks: {', '.join(SYNTHETIC_TASKS)}")
    if image_size % 28 or not 112 <= image_size <= 448:
        raise ValueError(
            f"image_size={image_size}: must be a multiple of 28 in [112, 448] (the jigsaw quadrant must "
            "be whole merged tokens; below 112 px evidence would shrink under one 14 px token)"
        )
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    for split, n in sizes.items():
        if n < 1:
            raise ValueError(f"n_{split}={n}: every split needs at least one example")
    if seed < 0:
        raise ValueError(f"seed={seed}: must be a non-negative integer")
    splits, files = {}, {}
    for split, n in sizes.items():
        splits[split], f = generate_split(task, split, n, seed, image_size)
        files.update(f)

    def write_images(tmp: Path) -> None:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)

    manifest = {
        "builder": "livr.data.synthetic",
        "builder_version": BUILDER_VERSION,
        "task": task,
        "source": "synthetic",
        "seed": seed,
        "image_size": image_size,
        "requested": sizes,
        "mark_colors": {k: list(v) for k, v in MARK_COLORS.items()},
        "label_color": list(LABEL_COLOR),
        "scene_channel_range": [SCENE_MIN, SCENE_MAX],
    }
    write_task_dir(out_dir, splits, manifest, write_images)
