"""semantic_correspondence: two instances of a procedural quadruped (different size, proportions,
placement and colours); REF on one of 5 semantic keypoints, A-D on four keypoints of instance 2."""

from __future__ import annotations

from PIL import Image, ImageDraw

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS
from livr.data.synthetic.drawing import DARK_NAMES, LIGHT_BACKGROUNDS, PALETTE, mark_points, ring_radius
from livr.data.synthetic.sampling import pick, place_in_order, sample_until

# Quadruped in object-normalised coordinates (u right, v down, both in [0, 1]).
KEYPOINTS = ("head", "tail_tip", "front_foot", "back_foot", "body_center")
PLACEMENT_TRIES = 1000


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
    margin = ring_radius(k) + 3
    x0, y0 = sample_until(  # whole body inside the image, every keypoint ring inside too
        lambda: (rng.uniform(2, S - 2 - W), rng.uniform(2, S - 2 - H)),
        lambda o: (
            None
            if all(
                margin <= o[0] + u * W <= S - margin and margin <= o[1] + v * H <= S - margin for u, v in kp.values()
            )
            else "a keypoint ring would leave the image"
        ),
        PLACEMENT_TRIES,
        f"semantic_correspondence: placing a {W:.0f}x{H:.0f} px quadruped",
    )
    X = lambda u: x0 + u * W  # noqa: E731
    Y = lambda v: y0 + v * H  # noqa: E731
    colors = pick(rng, DARK_NAMES, 3)
    parts = {
        "body": [X(body[0]), Y(body[1]), X(body[2]), Y(body[3])],
        "head": [X(head_c[0]), Y(head_c[1]), head_r * W],
        "front_leg": [X(fl), Y(body[3] - 0.05), X(fl + leg_w), Y(1.0)],
        "back_leg": [X(bl), Y(body[3] - 0.05), X(bl + leg_w), Y(1.0)],
        "tail": [
            [X(body[2] - 0.02), Y(body[1])],
            [X(body[2] - 0.02), Y(body[1] + 0.16)],
            [X(tail_tip[0]), Y(tail_tip[1])],
        ],
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


def generate(rng, S, gold):
    k = S / 112
    bgs = pick(rng, LIGHT_BACKGROUNDS, 2)
    q1 = _quadruped(rng, S, k)
    q2 = _quadruped(rng, S, k)
    ref = pick(rng, KEYPOINTS)
    others = pick(rng, [n for n in KEYPOINTS if n != ref], 3)
    order = place_in_order(gold, ref, others)
    im1 = _draw_quadruped(S, bgs[0], q1)
    im2 = _draw_quadruped(S, bgs[1], q2)
    mark_points(im1, {"REF": q1["keypoints"][ref]}, k)
    mark_points(im2, {LETTERS[j]: q2["keypoints"][n] for j, n in enumerate(order)}, k)
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
    return [im1, im2], list(TASK_SPECS["semantic_correspondence"].choices), LETTERS[gold], meta, {}
