"""functional_correspondence: two tools of different categories (hammer, pan, knife, spatula) at
random angles; REF on one of 4 functional points (butt, grip, neck, working head); A-D on the four
points of the other tool. A tool that no pose fits inside the image is redrawn (up to 7% of the
longest ones before BUILDER_VERSION 2, which kept the last pose tried, partly outside the image)."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS
from livr.data.synthetic.drawing import DARK_NAMES, LIGHT_BACKGROUNDS, PALETTE, mark_points, ring_radius
from livr.data.synthetic.sampling import pick, place_in_order, sample_until

CATEGORIES = ("hammer", "pan", "knife", "spatula")
ACTION = {"hammer": "Pound", "pan": "Scoop", "knife": "Cut", "spatula": "Lift"}
ROLES = ("butt", "grip", "neck", "head")
POSE_TRIES = 1000  # poses tried for one tool
TOOL_TRIES = 100  # tools (length, proportions) drawn before giving up


def _geometry(rng, k, category):
    """Length, polygons in tool coordinates (t along the axis from the butt at 0 to the head end at
    L, s across it) and the axis position of each functional point, as a fraction of L."""
    L = rng.uniform(92, 104) * k
    hw = rng.uniform(7, 8.5) * k  # handle half-width (14-17 px)
    th = rng.uniform(0.56, 0.62)  # handle ends at t = th (the neck)
    local = [("poly", [(0, -hw), (th * L, -hw), (th * L, hw), (0, hw)])]
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
        local.append(
            ("poly", [(th * L - 1, -hw * 0.6), (0.68 * L, -hw * 0.6), (0.68 * L, hw * 0.6), (th * L - 1, hw * 0.6)])
        )
        local.append(("poly", [(0.68 * L, -sh), (L, -sh), (L, sh), (0.68 * L, sh)]))
        head_t = 0.86
    return L, local, {"butt": 0.07, "grip": 0.32, "neck": th, "head": head_t}


def _pose(rng, S, k, L, roles):
    """A random angle and centre that keep the tool (24 px either side of its axis) and every
    point's ring inside the image, as (angle, cx, cy, map from (t, s) to pixels); None when no
    draw of POSE_TRIES fits (a long tool fits only near a few angles: the caller redraws it)."""
    margin = ring_radius(k) + 3
    for _ in range(POSE_TRIES):
        ang = rng.uniform(0, 2 * math.pi)
        ca, sa = math.cos(ang), math.sin(ang)
        cx, cy = rng.uniform(0.3 * S, 0.7 * S, size=2)

        def to_img(t, s, ca=ca, sa=sa, cx=cx, cy=cy):
            u = t - L / 2
            return (cx + u * ca - s * sa, cy + u * sa + s * ca)

        extreme = [to_img(t, s) for t in (0, L) for s in (-24 * k, 24 * k)]
        pts = [to_img(t * L, 0.0) for t in roles.values()]
        if all(1 <= x <= S - 2 and 1 <= y <= S - 2 for x, y in extreme) and all(
            margin <= x <= S - margin and margin <= y <= S - margin for x, y in pts
        ):
            return ang, cx, cy, to_img
    return None


def _tool(rng, S, k, category):
    """Polygons of a tool along its axis (t = 0 butt ... t = 1 head end), rotated and placed."""

    def attempt():
        L, local, roles = _geometry(rng, k, category)
        return L, local, roles, _pose(rng, S, k, L, roles)

    L, local, roles, (ang, cx, cy, to_img) = sample_until(
        attempt,
        lambda a: None if a[3] is not None else f"no pose in {POSE_TRIES} draws fits the tool in the image",
        TOOL_TRIES,
        f"functional_correspondence: placing a {category}",
    )
    pts = {name: to_img(t * L, 0.0) for name, t in roles.items()}
    shapes = []
    for kind, geo in local:
        if kind == "poly":
            shapes.append(("poly", [to_img(t, s) for t, s in geo]))
        else:
            t, s, r = geo
            shapes.append(("circle", (*to_img(t, s), r)))
    return {
        "category": category,
        "L": L,
        "angle": ang,
        "center": (cx, cy),
        "roles_t": roles,
        "shapes": shapes,
        "points": pts,
    }


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


def generate(rng, S, gold):
    k = S / 112
    cat1, cat2 = pick(rng, CATEGORIES, 2)
    t1, t2 = _tool(rng, S, k, cat1), _tool(rng, S, k, cat2)
    bgs = pick(rng, LIGHT_BACKGROUNDS, 2)
    cols = [pick(rng, DARK_NAMES, 2), pick(rng, DARK_NAMES, 2)]
    ref = pick(rng, ROLES)
    others = [r for r in ROLES if r != ref]
    others = pick(rng, others, 3)
    order = place_in_order(gold, ref, others)
    im1 = _draw_tool(S, bgs[0], t1, PALETTE[cols[0][0]], PALETTE[cols[0][1]])
    im2 = _draw_tool(S, bgs[1], t2, PALETTE[cols[1][0]], PALETTE[cols[1][1]])
    mark_points(im1, {"REF": t1["points"][ref]}, k)
    mark_points(im2, {LETTERS[j]: t2["points"][r] for j, r in enumerate(order)}, k)
    action = ACTION[cat1] if ref == "head" else "Hold"
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
    return [im1, im2], list(TASK_SPECS["functional_correspondence"].choices), LETTERS[gold], meta, {"action": action}
