"""Question families about one image: colours, shapes, counts, positions, relations, sizes,
marked points, drawn letters, textures, and naming what is shown.
Each family is (rng, image size) -> (images, question, answer)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from livr.data.pretrain_corpus.scenes import (
    COLOUR_NAMES,
    PLACE_TRIES,
    Obj,
    background_colour,
    draw_scene,
    name_of,
    other_colours,
    place_squares,
    random_objects,
    redraw,
    shade_of,
)
from livr.data.pretrain_corpus.wording import (
    LETTERS,
    OPEN_INSTRUCTIONS,
    choice_question,
    count_question,
    n_wrong,
    with_choices,
)
from livr.data.synthetic.drawing import SHAPE_PLURAL, SHAPES, mark_points
from livr.data.synthetic.sampling import pick, sample_until

GLYPHS = "ABCDEFGHJKLMNPRSTUVWXYZ"
TEXTURES = ("horizontal stripes", "vertical stripes", "diagonal stripes", "dots", "checkerboard", "plain colour")


def colour_of_shape(rng, S):
    objs = random_objects(rng, S, int(rng.integers(1, 4)), distinct_kinds=True)
    t = pick(rng, objs)
    q = pick(
        rng,
        (
            f"What colour is the {t.kind}?",
            f"Which colour does the {t.kind} have?",
            f"The {t.kind} is painted in which colour?",
        ),
    )
    q, a = choice_question(
        rng, q, COLOUR_NAMES[t.colour], other_colours(rng, {o.colour for o in objs} | {t.colour}, n_wrong(rng))
    )
    return [draw_scene(rng, S, objs)], q, a


def shape_of_colour(rng, S):
    objs = random_objects(rng, S, int(rng.integers(1, 4)))
    t = pick(rng, objs)
    others = [k for k in SHAPES if k != t.kind]
    q = pick(
        rng,
        (f"What shape is the {COLOUR_NAMES[t.colour]} object?", f"Which shape is drawn in {COLOUR_NAMES[t.colour]}?"),
    )
    q, a = choice_question(rng, q, t.kind, pick(rng, others, n_wrong(rng)))
    return [draw_scene(rng, S, objs)], q, a


def counting(rng, S):
    mode = pick(rng, ("kind", "colour", "all"))
    n = int(rng.integers(1, 11))
    if mode == "all":
        objs = random_objects(rng, S, n, distinct_colours=False, half_range=(6, 11))
        return [draw_scene(rng, S, objs)], count_question(rng, pick(rng, ("shapes", "objects"))), str(n)
    n_other = int(rng.integers(0, min(5, 12 - n) + 1))
    pos = place_squares(rng, S, n + n_other, half_range=(6, 11))
    if mode == "kind":
        kind = pick(rng, SHAPES)
        other = [k for k in SHAPES if k != kind]
        objs = [Obj(kind if i < n else pick(rng, other), pick(rng, tuple(COLOUR_NAMES)), *p) for i, p in enumerate(pos)]
        what = SHAPE_PLURAL[kind]
    else:
        colour = pick(rng, tuple(COLOUR_NAMES))
        other = [c for c in COLOUR_NAMES if COLOUR_NAMES[c] != COLOUR_NAMES[colour]]
        objs = [Obj(pick(rng, SHAPES), colour if i < n else pick(rng, other), *p) for i, p in enumerate(pos)]
        what = f"{COLOUR_NAMES[colour]} shapes"
    return [draw_scene(rng, S, objs)], count_question(rng, what), str(n)


def position(rng, S):
    n = int(rng.integers(1, 3))
    objs = redraw(  # no object straddles a midline: its part of the image is unambiguous
        lambda: random_objects(rng, S, n, distinct_kinds=True, half_range=(8, 13)),
        lambda objs: all(min(abs(o.cx - S / 2), abs(o.cy - S / 2)) >= o.half + 2 for o in objs),
        "shape on a midline",
    )
    t = pick(rng, objs)
    if rng.random() < 0.5:
        names = ["top left", "top right", "bottom left", "bottom right"]
        correct = names[2 * int(t.cy >= S / 2) + int(t.cx >= S / 2)]
        q = pick(rng, (f"In which part of the image is the {name_of(t)}?", f"Where is the {name_of(t)} located?"))
        wrong = pick(rng, [n for n in names if n != correct], n_wrong(rng))
    else:
        axis = pick(rng, ("x", "y"))
        v = t.cx if axis == "x" else t.cy
        pair = ("left half", "right half") if axis == "x" else ("top half", "bottom half")
        correct, other = (pair[1], pair[0]) if v >= S / 2 else pair
        q = pick(
            rng,
            (
                f"Is the {name_of(t)} in the {pair[0]} or the {pair[1]} of the image?",
                f"Which half holds the {name_of(t)}?",
            ),
        )
        wrong = [other]
    q, a = choice_question(rng, q, correct, wrong)
    return [draw_scene(rng, S, objs)], q, a


def relation(rng, S):
    objs = redraw(  # clearly apart along one axis, not diagonal
        lambda: random_objects(rng, S, 2, distinct_kinds=True, half_range=(8, 13)),
        lambda o: (
            max(abs(o[0].cx - o[1].cx), abs(o[0].cy - o[1].cy))
            >= 1.5 * min(abs(o[0].cx - o[1].cx), abs(o[0].cy - o[1].cy)) + 10
        ),
        "shapes on a diagonal",
    )
    p, r = objs
    dx, dy = p.cx - r.cx, p.cy - r.cy
    if abs(dx) >= abs(dy):
        correct, wrong = ("left of", "right of") if dx < 0 else ("right of", "left of")
    else:
        correct, wrong = ("above", "below") if dy < 0 else ("below", "above")
    q = f"Where is the {name_of(p)} relative to the {name_of(r)}?"
    q, a = choice_question(rng, q, f"{correct} the {r.kind}", [f"{wrong} the {r.kind}"])
    return [draw_scene(rng, S, objs)], q, a


def size_compare(rng, S):
    objs = redraw(
        lambda: random_objects(rng, S, 2, distinct_kinds=True, half_range=(6, 20)),
        lambda o: abs(o[0].half - o[1].half) >= 4,
        "shapes of similar size",
    )
    big = max(objs, key=lambda o: o.half)
    word = pick(rng, ("bigger", "larger", "smaller"))
    correct = big if word != "smaller" else min(objs, key=lambda o: o.half)
    wrong = objs[0] if correct is objs[1] else objs[1]
    q, a = choice_question(rng, f"Which shape is {word}?", f"the {name_of(correct)}", [f"the {name_of(wrong)}"])
    return [draw_scene(rng, S, objs)], q, a


def point_on_object(rng, S):
    n_obj = int(rng.integers(2, 4))
    objs = random_objects(rng, S, n_obj, distinct_kinds=True, half_range=(14, 20))
    n_marks = int(rng.integers(2, min(4, n_obj + 1) + 1))
    t = objs[0]
    # one mark on the target, the others on other objects or on the background
    spots = [(t.cx, t.cy)] + [(o.cx, o.cy) for o in objs[1:]]

    def background_spot():
        x, y = rng.uniform(14, S - 14, size=2)
        return float(x), float(y)

    while len(spots) < n_marks:
        spot = sample_until(
            background_spot,
            lambda p: (
                None
                if all(math.dist(p, (o.cx, o.cy)) > o.half * 1.5 + 12 for o in objs)
                and all(math.dist(p, s) > 24 for s in spots)
                else "too close"
            ),
            PLACE_TRIES,
            "corpus: background mark",
        )
        spots.append(spot)
    spots = spots[:n_marks]
    order = [int(i) for i in rng.permutation(n_marks)]
    img = draw_scene(rng, S, objs)
    labels = LETTERS[:n_marks]
    mark_points(img, {labels[j]: spots[i] for j, i in enumerate(order)}, 1.0)
    gold = order.index(0)
    q = pick(rng, (f"Which labelled point lies on the {name_of(t)}?", f"Which mark is placed on the {name_of(t)}?"))
    style = pick(rng, ("point {L}", "mark {L}", "the circle labelled {L}", "{L}"))
    options = [style.format(L=L) for L in labels]
    body = with_choices(rng, q, options)
    return [img], body, LETTERS[gold]


def colour_under_point(rng, S):
    cols = int(rng.integers(2, 4))
    rows = int(rng.integers(2, 4))
    names = pick(rng, tuple(COLOUR_NAMES), cols * rows)
    img = Image.new("RGB", (S, S))
    d = ImageDraw.Draw(img)
    xs, ys = np.linspace(0, S, cols + 1).round().astype(int), np.linspace(0, S, rows + 1).round().astype(int)
    cells = []
    for r in range(rows):
        for c in range(cols):
            d.rectangle([xs[c], ys[r], xs[c + 1] - 1, ys[r + 1] - 1], fill=shade_of(rng, names[r * cols + c]))
            cells.append((xs[c], ys[r], xs[c + 1], ys[r + 1], names[r * cols + c]))
    n_marks = int(rng.integers(1, 3))
    chosen = pick(rng, list(range(len(cells))), n_marks)
    pts = {}
    for j, ci in enumerate(chosen):
        x0, y0, x1, y1, _ = cells[ci]
        pts[LETTERS[j]] = (float(rng.uniform(x0 + 13, x1 - 13)), float(rng.uniform(y0 + 13, y1 - 13)))
    mark_points(img, pts, 1.0)
    j = int(rng.integers(n_marks))
    colour = cells[chosen[j]][4]
    q = pick(
        rng,
        (
            f"What colour is the surface under point {LETTERS[j]}?",
            f"Point {LETTERS[j]} sits on a region of which colour?",
        ),
    )
    q, a = choice_question(rng, q, COLOUR_NAMES[colour], other_colours(rng, {colour}, n_wrong(rng)))
    return [img], q, a


def read_letter(rng, S):
    glyph = pick(rng, GLYPHS)
    bg = background_colour(rng)
    img = Image.new("RGB", (S, S), bg)
    d = ImageDraw.Draw(img)
    size = int(rng.integers(40, 72))
    font = ImageFont.load_default(size=size)
    left, t, r, b = d.textbbox((0, 0), glyph, font=font)
    x = rng.uniform(4, max(5, S - (r - left) - 4)) - left
    y = rng.uniform(4, max(5, S - (b - t) - 4)) - t
    d.text(
        (x, y),
        glyph,
        fill=shade_of(rng, pick(rng, ("charcoal", "crimson", "sky", "green", "purple", "brown"))),
        font=font,
    )
    q = pick(
        rng, ("Which letter is written in the image?", "What letter is drawn here?", "Read the letter in the picture.")
    )
    q, a = choice_question(rng, q, glyph, pick(rng, [g for g in GLYPHS if g != glyph], n_wrong(rng)))
    return [img], q, a


def texture(rng, S):
    name = pick(rng, TEXTURES)
    c1, c2 = (shade_of(rng, c) for c in pick(rng, tuple(COLOUR_NAMES), 2))
    yy, xx = np.mgrid[0:S, 0:S]
    period = rng.uniform(14, 24)
    if name == "horizontal stripes":
        m = (yy // (period / 2)) % 2 == 0
    elif name == "vertical stripes":
        m = (xx // (period / 2)) % 2 == 0
    elif name == "diagonal stripes":
        m = ((xx + yy) // (period / 2)) % 2 == 0
    elif name == "dots":
        m = ((xx % period - period / 2) ** 2 + (yy % period - period / 2) ** 2) > (period / 3.2) ** 2
    elif name == "checkerboard":
        m = ((xx // period) + (yy // period)) % 2 == 0
    else:
        m = np.ones((S, S), bool)
    arr = np.where(m[..., None], np.array(c1), np.array(c2)).astype(np.uint8)
    q = pick(rng, ("Which pattern covers the image?", "What kind of pattern is shown?"))
    q, a = choice_question(rng, q, name, pick(rng, [t for t in TEXTURES if t != name], n_wrong(rng)))
    return [Image.fromarray(arr)], q, a


def describe(rng, S):
    """Every shape named, left to right: a long answer, so one image supervises many tokens."""
    n = int(rng.integers(1, 5))
    objs = redraw(
        lambda: random_objects(rng, S, n, distinct_colours=False, half_range=(7, 13)),
        lambda objs: all(abs(a.cx - b.cx) >= 8 for i, a in enumerate(objs) for b in objs[i + 1 :]),
        "shapes above each other",
    )
    q = pick(
        rng,
        (
            "Name the shapes from left to right.",
            "List every shape with its colour, from left to right.",
            "Describe the objects in the picture from left to right.",
        ),
    )
    answer = ", ".join(name_of(o) for o in sorted(objs, key=lambda o: o.cx))
    return [draw_scene(rng, S, objs)], q, answer


def name_colour(rng, S):
    """Basic: one large shape, its colour in words."""
    o = random_objects(rng, S, 1, half_range=(12, 22))[0]
    q = pick(rng, (f"What colour is the {o.kind}?", "Which colour is the shape?", "Name the colour of the object."))
    return [draw_scene(rng, S, [o])], f"{q}\n{pick(rng, OPEN_INSTRUCTIONS)}", COLOUR_NAMES[o.colour]


def name_shape(rng, S):
    """Basic: one large shape, its kind in words."""
    o = random_objects(rng, S, 1, half_range=(12, 22))[0]
    q = pick(rng, (f"What shape is the {COLOUR_NAMES[o.colour]} object?", "Which shape is drawn?", "Name the shape."))
    return [draw_scene(rng, S, [o])], f"{q}\n{pick(rng, OPEN_INSTRUCTIONS)}", o.kind


def name_two(rng, S):
    """Basic: two large shapes named left to right."""
    objs = redraw(
        lambda: random_objects(rng, S, 2, half_range=(10, 18)),
        lambda o: abs(o[0].cx - o[1].cx) >= 20,
        "shapes above each other",
    )
    answer = ", ".join(name_of(o) for o in sorted(objs, key=lambda o: o.cx))
    return [draw_scene(rng, S, objs)], "Name the shapes from left to right.", answer
