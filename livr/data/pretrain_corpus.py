"""A generic, procedurally generated instruction corpus for pretraining the tiny backbones.

What a real VLM brings to the paper's fine-tuning is that it already sees (colours, shapes,
positions, counts, drawn letters, marks, brightness, textures, several images at once) and answers
a multiple-choice question with a letter and a count with a number. This corpus teaches a tiny
model exactly that, and nothing of the nine tasks: its own generators (scenes, glyphs, patterns),
its own question and choice templates (never BLINK's "Select from the following choices."), its own
seed space (streams keyed by CORPUS_TAG), so zero-shot on the demo tasks is a real zero-shot.

Question families (one function each; `FAMILIES`): colour of a shape, shape of a colour, counting,
position in the image, left/right/above/below relations, size comparison, which labelled point is on
an object, colour under a labelled point, reading a drawn letter, which image contains something,
which image shows more shapes, which of two candidates matches a first image's shape or colour,
which half or which image is brighter, naming a texture. Choice answers are letters (2-4 choices,
the gold position balanced by the seed), counts are integers. Marks use the synthetic world's
convention (coloured rings A red, B blue, C green, D yellow; `livr.data.synthetic.drawing`).

Examples are generated on the fly: example i of seed s is a pure function of (s, i), so a
pretraining run is reproducible and resumes mid-stream without storing the corpus.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from livr.data.synthetic.drawing import PALETTE, SHAPE_PLURAL, SHAPES, draw_shape, mark_points
from livr.data.synthetic.sampling import pick, sample_until

CORPUS_VERSION = 3  # 3: basic families for a curriculum's first phase; 2: open-answer variants and the describe family (1 learned no names in 1,000 steps)
CORPUS_TAG = 0x9E7A11  # first entry of every corpus stream's seed: disjoint from the tasks' streams
LETTERS = "ABCD"

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
GLYPHS = "ABCDEFGHJKLMNPRSTUVWXYZ"
TEXTURES = ("horizontal stripes", "vertical stripes", "diagonal stripes", "dots", "checkerboard", "plain colour")
ORDINAL = ("first", "second", "third")
PLACE_TRIES = 2000

OPEN_SHARE = 0.4
OPEN_INSTRUCTIONS = ("Answer with a word or a short phrase.", "Reply with the name only.", "Say it in a few words.")

# Generic lead-in sentences, some prepended to a question so the model also meets long prompts
# full of words that do not change the answer (the corpus's own, never BLINK's).
PREAMBLE = (
    "Look at the picture carefully before you answer.",
    "The images were drawn by a computer program.",
    "Each image is a small drawing of simple things on a plain background.",
    "Think about what you can see in the image.",
    "Some questions are about one image and some are about several images shown one after another.",
    "The first image is shown first, then the second image, then the third image if there is one.",
    "Points in an image may be marked with small circles, and a letter is written beside each circle.",
    "Objects can be circles, squares, triangles or diamonds of different colours and sizes.",
    "Pay attention to the colours, the shapes and where things are placed.",
    "Only one of the options is correct.",
    "The options below are listed with letters.",
    "Answer the question about the picture.",
    "You are given a question about the image and a few possible answers.",
    "Consider the whole image, including the edges and corners.",
    "The lighting is the same everywhere in these drawings.",
    "A careful observer can answer this from the image alone.",
    "This is a simple visual question.",
    "Here is an image and a question about it.",
    "The drawing may contain several objects; compare them before answering.",
    "Use the visual information in the image to decide.",
    "Some objects are close to each other and some are far apart.",
    "The marks are drawn on top of the picture and do not change the surface under them.",
    "Numbers should be written with digits.",
    "Read the question and then look at the image again.",
    "Different images can show the same kind of object in a different colour or size.",
    "The background colour is not important unless the question asks about it.",
)


@dataclasses.dataclass
class CorpusExample:
    family: str
    images: list[Image.Image]
    question: str
    answer: str


# ----------------------------------------------------------------------------------------------
# wording: several templates per family, and several ways of listing choices


def _with_choices(rng, question: str, options: list[str]) -> str:
    """The question and its options in one of the corpus's own formats (header or none, letter
    style, instruction or none); each option starts a line."""
    header = pick(rng, ("Options:", "Choices:", "Pick one:", "Possible answers:", ""))
    style = pick(rng, ("({L}) {t}", "({L}) {t}", "{L}. {t}", "{L}) {t}"))
    lines = [style.format(L=LETTERS[i], t=t) for i, t in enumerate(options)]
    tail = pick(rng, ("", "", "Answer with the letter.", "Reply with one letter.", "Give the letter of your choice."))
    text = "\n".join(lines + ([tail] if tail else []))
    return f"{question}{pick(rng, (chr(10), ' '))}{header}\n{text}" if header else f"{question}\n{text}"


def _choice(rng, question: str, correct: str, wrong: list[str]) -> tuple[str, str]:
    """(question with its choice list, gold letter): the correct option at a random position; or,
    for OPEN_SHARE of the questions, the question asking for the answer itself in words.

    The open variant grounds names (colours, shapes, letters, places) in pixels directly: with
    letter answers only, a tiny model from scratch must learn to see and to find the matching
    option at once, and version 1 of this corpus learned neither in 1,000 steps."""
    if rng.random() < OPEN_SHARE:
        return f"{question}\n{pick(rng, OPEN_INSTRUCTIONS)}", correct
    options = list(wrong)
    gold = int(rng.integers(len(options) + 1))
    options.insert(gold, correct)
    return _with_choices(rng, question, options), LETTERS[gold]


def _n_wrong(rng) -> int:
    """Wrong options of a choice question: 2, 3 or 4 options, four more often (as in most tasks)."""
    return pick(rng, (1, 2, 3, 3))


def _count_question(rng, what: str) -> str:
    q = pick(
        rng,
        (
            f"How many {what} are in the picture?",
            f"Count the {what} in the image.",
            f"How many {what} can you see?",
            f"What is the number of {what} shown?",
        ),
    )
    tail = pick(rng, ("", "Reply with a number.", "Give the count as a number.", "Answer with digits only."))
    return f"{q}\n{tail}" if tail else q


# ----------------------------------------------------------------------------------------------
# scenes


def _jitter(rng, base, j: int) -> tuple[int, int, int]:
    """`base` with each channel moved by up to +-j, kept in 0-255."""
    return tuple(int(v) for v in np.clip(np.array(base, np.int64) + rng.integers(-j, j + 1, size=3), 0, 255))


def _colour(rng, name: str) -> tuple[int, int, int]:
    return _jitter(rng, PALETTE[name], COLOUR_JITTER)


def _background(rng) -> tuple[int, int, int]:
    return _jitter(rng, pick(rng, BACKGROUNDS), 8)


@dataclasses.dataclass
class Obj:
    kind: str
    colour: str  # palette name
    cx: float
    cy: float
    half: float


def _place(rng, S, n, half_range=(8, 16), gap=3.0) -> list[tuple[float, float, float]]:
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


def _scene(rng, S, objs: list[Obj], bg=None) -> Image.Image:
    img = Image.new("RGB", (S, S), bg or _background(rng))
    d = ImageDraw.Draw(img)
    for o in objs:
        draw_shape(d, o.kind, o.cx, o.cy, o.half, o.half, _colour(rng, o.colour))
    return img


def _objects(rng, S, n, distinct_kinds=False, distinct_colours=True, half_range=(8, 16)) -> list[Obj]:
    kinds = pick(rng, SHAPES, n) if distinct_kinds else [pick(rng, SHAPES) for _ in range(n)]
    colours = (
        pick(rng, tuple(COLOUR_NAMES), n) if distinct_colours else [pick(rng, tuple(COLOUR_NAMES)) for _ in range(n)]
    )
    return [Obj(k, c, *p) for k, c, p in zip(kinds, colours, _place(rng, S, n, half_range))]


def _name(o: Obj) -> str:
    return f"{COLOUR_NAMES[o.colour]} {o.kind}"


def _other_colours(rng, exclude: set[str], n: int) -> list[str]:
    names = sorted({COLOUR_NAMES[c] for c in COLOUR_NAMES} - {COLOUR_NAMES[c] for c in exclude})
    return pick(rng, names, n)


# ----------------------------------------------------------------------------------------------
# families: (rng, S) -> (images, question, answer)


def colour_of_shape(rng, S):
    objs = _objects(rng, S, int(rng.integers(1, 4)), distinct_kinds=True)
    t = pick(rng, objs)
    q = pick(
        rng,
        (
            f"What colour is the {t.kind}?",
            f"Which colour does the {t.kind} have?",
            f"The {t.kind} is painted in which colour?",
        ),
    )
    q, a = _choice(
        rng, q, COLOUR_NAMES[t.colour], _other_colours(rng, {o.colour for o in objs} | {t.colour}, _n_wrong(rng))
    )
    return [_scene(rng, S, objs)], q, a


def shape_of_colour(rng, S):
    objs = _objects(rng, S, int(rng.integers(1, 4)))
    t = pick(rng, objs)
    others = [k for k in SHAPES if k != t.kind]
    q = pick(
        rng,
        (f"What shape is the {COLOUR_NAMES[t.colour]} object?", f"Which shape is drawn in {COLOUR_NAMES[t.colour]}?"),
    )
    q, a = _choice(rng, q, t.kind, pick(rng, others, _n_wrong(rng)))
    return [_scene(rng, S, objs)], q, a


def counting(rng, S):
    mode = pick(rng, ("kind", "colour", "all"))
    n = int(rng.integers(1, 11))
    if mode == "all":
        objs = _objects(rng, S, n, distinct_colours=False, half_range=(6, 11))
        return [_scene(rng, S, objs)], _count_question(rng, pick(rng, ("shapes", "objects"))), str(n)
    n_other = int(rng.integers(0, min(5, 12 - n) + 1))
    pos = _place(rng, S, n + n_other, half_range=(6, 11))
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
    return [_scene(rng, S, objs)], _count_question(rng, what), str(n)


def _redraw(draw, check, what):
    return sample_until(draw, lambda v: None if check(v) else what, PLACE_TRIES, f"corpus: {what}")


def position(rng, S):
    n = int(rng.integers(1, 3))
    objs = _redraw(  # no object straddles a midline: its part of the image is unambiguous
        lambda: _objects(rng, S, n, distinct_kinds=True, half_range=(8, 13)),
        lambda objs: all(min(abs(o.cx - S / 2), abs(o.cy - S / 2)) >= o.half + 2 for o in objs),
        "shape on a midline",
    )
    t = pick(rng, objs)
    if rng.random() < 0.5:
        names = ["top left", "top right", "bottom left", "bottom right"]
        correct = names[2 * int(t.cy >= S / 2) + int(t.cx >= S / 2)]
        q = pick(rng, (f"In which part of the image is the {_name(t)}?", f"Where is the {_name(t)} located?"))
        wrong = pick(rng, [n for n in names if n != correct], _n_wrong(rng))
    else:
        axis = pick(rng, ("x", "y"))
        v = t.cx if axis == "x" else t.cy
        pair = ("left half", "right half") if axis == "x" else ("top half", "bottom half")
        correct, other = (pair[1], pair[0]) if v >= S / 2 else pair
        q = pick(
            rng,
            (f"Is the {_name(t)} in the {pair[0]} or the {pair[1]} of the image?", f"Which half holds the {_name(t)}?"),
        )
        wrong = [other]
    q, a = _choice(rng, q, correct, wrong)
    return [_scene(rng, S, objs)], q, a


def relation(rng, S):
    objs = _redraw(  # clearly apart along one axis, not diagonal
        lambda: _objects(rng, S, 2, distinct_kinds=True, half_range=(8, 13)),
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
    q = f"Where is the {_name(p)} relative to the {_name(r)}?"
    q, a = _choice(rng, q, f"{correct} the {r.kind}", [f"{wrong} the {r.kind}"])
    return [_scene(rng, S, objs)], q, a


def size_compare(rng, S):
    objs = _redraw(
        lambda: _objects(rng, S, 2, distinct_kinds=True, half_range=(6, 20)),
        lambda o: abs(o[0].half - o[1].half) >= 4,
        "shapes of similar size",
    )
    big = max(objs, key=lambda o: o.half)
    word = pick(rng, ("bigger", "larger", "smaller"))
    correct = big if word != "smaller" else min(objs, key=lambda o: o.half)
    wrong = objs[0] if correct is objs[1] else objs[1]
    q, a = _choice(rng, f"Which shape is {word}?", f"the {_name(correct)}", [f"the {_name(wrong)}"])
    return [_scene(rng, S, objs)], q, a


def point_on_object(rng, S):
    n_obj = int(rng.integers(2, 4))
    objs = _objects(rng, S, n_obj, distinct_kinds=True, half_range=(14, 20))
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
    img = _scene(rng, S, objs)
    labels = LETTERS[:n_marks]
    mark_points(img, {labels[j]: spots[i] for j, i in enumerate(order)}, 1.0)
    gold = order.index(0)
    q = pick(rng, (f"Which labelled point lies on the {_name(t)}?", f"Which mark is placed on the {_name(t)}?"))
    style = pick(rng, ("point {L}", "mark {L}", "the circle labelled {L}", "{L}"))
    options = [style.format(L=L) for L in labels]
    body = _with_choices(rng, q, options)
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
            d.rectangle([xs[c], ys[r], xs[c + 1] - 1, ys[r + 1] - 1], fill=_colour(rng, names[r * cols + c]))
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
    q, a = _choice(rng, q, COLOUR_NAMES[colour], _other_colours(rng, {colour}, _n_wrong(rng)))
    return [img], q, a


def read_letter(rng, S):
    glyph = pick(rng, GLYPHS)
    bg = _background(rng)
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
        fill=_colour(rng, pick(rng, ("charcoal", "crimson", "sky", "green", "purple", "brown"))),
        font=font,
    )
    q = pick(
        rng, ("Which letter is written in the image?", "What letter is drawn here?", "Read the letter in the picture.")
    )
    q, a = _choice(rng, q, glyph, pick(rng, [g for g in GLYPHS if g != glyph], _n_wrong(rng)))
    return [img], q, a


def _n_images(rng):
    return int(rng.integers(2, 4))


def _image_options(n):
    return [f"the {ORDINAL[i]} image" for i in range(n)]


def which_image_contains(rng, S):
    n = _n_images(rng)
    target_kind, target_colour = pick(rng, SHAPES), pick(rng, tuple(COLOUR_NAMES))
    by_kind = rng.random() < 0.5
    gold = int(rng.integers(n))
    images = []
    for i in range(n):
        objs = _objects(rng, S, int(rng.integers(1, 4)))
        for o in objs:  # only the gold image holds the target
            if by_kind and o.kind == target_kind:
                o.kind = pick(rng, [k for k in SHAPES if k != target_kind])
            if not by_kind and COLOUR_NAMES[o.colour] == COLOUR_NAMES[target_colour]:
                o.colour = pick(rng, [c for c in COLOUR_NAMES if COLOUR_NAMES[c] != COLOUR_NAMES[target_colour]])
        if i == gold:
            o = pick(rng, objs)
            if by_kind:
                o.kind = target_kind
            else:
                o.colour = target_colour
        images.append(_scene(rng, S, objs))
    what = f"a {target_kind}" if by_kind else f"something {COLOUR_NAMES[target_colour]}"
    q = pick(rng, (f"Which image contains {what}?", f"In which picture do you see {what}?"))
    opts = _image_options(n)
    return images, _with_choices(rng, q, opts), LETTERS[gold]


def more_shapes(rng, S):
    a, b = (int(v) for v in pick(rng, list(range(1, 9)), 2))
    images = [_scene(rng, S, _objects(rng, S, c, distinct_colours=False, half_range=(6, 11))) for c in (a, b)]
    word = pick(rng, ("more", "fewer"))
    gold = int((b > a) == (word == "more"))
    q = f"Which image shows {word} shapes?"
    return images, _with_choices(rng, q, _image_options(2)), LETTERS[gold]


def match_first(rng, S):
    """A first image with one shape; which of two others shows the same kind (or colour)."""
    attr = pick(rng, ("kind", "colour"))
    first = _objects(rng, S, 1)[0]
    same = _objects(rng, S, 1)[0]
    diff = _objects(rng, S, 1)[0]
    if attr == "kind":
        same.kind = first.kind
        diff.kind = pick(rng, [k for k in SHAPES if k != first.kind])
        same.colour = pick(rng, [c for c in COLOUR_NAMES if c != first.colour])
        what = "the same kind of shape"
    else:
        same.colour = first.colour
        diff.colour = pick(rng, [c for c in COLOUR_NAMES if COLOUR_NAMES[c] != COLOUR_NAMES[first.colour]])
        same.kind = pick(rng, [k for k in SHAPES if k != first.kind])
        what = "a shape of the same colour"
    gold = int(rng.integers(2))
    cands = [diff, diff]
    cands[gold] = same
    images = [_scene(rng, S, [o]) for o in (first, *cands)]
    q = f"Look at the first image. Which of the other two images shows {what}?"
    opts = ["the second image", "the third image"]
    return images, _with_choices(rng, q, opts), LETTERS[gold]


def brightness(rng, S):
    light, dark = int(rng.integers(150, 240)), int(rng.integers(20, 110))
    word = pick(rng, ("brighter", "darker"))
    if rng.random() < 0.5:  # two halves of one image
        vertical = rng.random() < 0.5
        first_light = rng.random() < 0.5
        tint = rng.integers(-10, 11, size=3)
        arr = np.zeros((S, S, 3), np.int64)
        a, b = (light, dark) if first_light else (dark, light)
        if vertical:
            arr[:, : S // 2], arr[:, S // 2 :] = a, b
            names = ("left half", "right half")
        else:
            arr[: S // 2], arr[S // 2 :] = a, b
            names = ("top half", "bottom half")
        img = Image.fromarray(np.clip(arr + tint, 0, 255).astype(np.uint8))
        gold_name = names[0] if first_light == (word == "brighter") else names[1]
        wrong = names[1] if gold_name == names[0] else names[0]
        q, ans = _choice(rng, f"Which half of the image is {word}?", gold_name, [wrong])
        return [img], q, ans
    images, first_light = [], rng.random() < 0.5
    for v in (light, dark) if first_light else (dark, light):
        objs = _objects(rng, S, int(rng.integers(1, 3)))
        images.append(
            _scene(rng, S, objs, bg=_jitter(rng, (v, v, v), 10))
        )
    gold = 0 if first_light == (word == "brighter") else 1
    return images, _with_choices(rng, f"Which image is {word} overall?", _image_options(2)), LETTERS[gold]


def texture(rng, S):
    name = pick(rng, TEXTURES)
    c1, c2 = (_colour(rng, c) for c in pick(rng, tuple(COLOUR_NAMES), 2))
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
    q, a = _choice(rng, q, name, pick(rng, [t for t in TEXTURES if t != name], _n_wrong(rng)))
    return [Image.fromarray(arr)], q, a


def describe(rng, S):
    """Every shape named, left to right: a long answer, so one image supervises many tokens."""
    n = int(rng.integers(1, 5))
    objs = _redraw(
        lambda: _objects(rng, S, n, distinct_colours=False, half_range=(7, 13)),
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
    answer = ", ".join(_name(o) for o in sorted(objs, key=lambda o: o.cx))
    return [_scene(rng, S, objs)], q, answer


def name_colour(rng, S):
    """Basic: one large shape, its colour in words."""
    o = _objects(rng, S, 1, half_range=(12, 22))[0]
    q = pick(rng, (f"What colour is the {o.kind}?", "Which colour is the shape?", "Name the colour of the object."))
    return [_scene(rng, S, [o])], f"{q}\n{pick(rng, OPEN_INSTRUCTIONS)}", COLOUR_NAMES[o.colour]


def name_shape(rng, S):
    """Basic: one large shape, its kind in words."""
    o = _objects(rng, S, 1, half_range=(12, 22))[0]
    q = pick(rng, (f"What shape is the {COLOUR_NAMES[o.colour]} object?", "Which shape is drawn?", "Name the shape."))
    return [_scene(rng, S, [o])], f"{q}\n{pick(rng, OPEN_INSTRUCTIONS)}", o.kind


def name_two(rng, S):
    """Basic: two large shapes named left to right."""
    objs = _redraw(
        lambda: _objects(rng, S, 2, half_range=(10, 18)),
        lambda o: abs(o[0].cx - o[1].cx) >= 20,
        "shapes above each other",
    )
    answer = ", ".join(_name(o) for o in sorted(objs, key=lambda o: o.cx))
    return [_scene(rng, S, objs)], "Name the shapes from left to right.", answer


# The first phase of a curriculum (`example(..., basic=True)`): naming what one sees, open answers,
# no lead-in text; a tiny model from scratch learns these in a few hundred steps, and the full mix
# only after it can see.
BASIC_FAMILIES = {"name_colour": name_colour, "name_shape": name_shape, "name_two": name_two}

FAMILIES = {
    **BASIC_FAMILIES,  # kept in the full mix, so naming is not forgotten
    "describe": describe,
    "colour_of_shape": colour_of_shape,
    "shape_of_colour": shape_of_colour,
    "counting": counting,
    "position": position,
    "relation": relation,
    "size_compare": size_compare,
    "point_on_object": point_on_object,
    "colour_under_point": colour_under_point,
    "read_letter": read_letter,
    "which_image_contains": which_image_contains,
    "more_shapes": more_shapes,
    "match_first": match_first,
    "brightness": brightness,
    "texture": texture,
}
FAMILY_NAMES = tuple(FAMILIES)


def example(seed: int, index: int, image_size: int = 112, basic: bool = False) -> CorpusExample:
    """Example `index` of the corpus with `seed`: a pure function of the three (families drawn
    uniformly; `basic`: from BASIC_FAMILIES, without lead-in text)."""
    rng = np.random.default_rng(np.random.SeedSequence([CORPUS_TAG, CORPUS_VERSION, seed, index, int(basic)]))
    if basic:
        family = pick(rng, tuple(BASIC_FAMILIES))
        images, question, answer = BASIC_FAMILIES[family](rng, image_size)
        return CorpusExample(family, images, question, answer)
    family = pick(rng, FAMILY_NAMES)
    images, question, answer = FAMILIES[family](rng, image_size)
    if rng.random() < 0.35:
        lead = pick(rng, PREAMBLE, int(rng.integers(1, 9)))
        question = " ".join(lead) + pick(rng, ("\n", " ")) + question
    if rng.random() < 0.5:  # both spellings, as in real questions
        question = question.replace("colour", "color").replace("labelled", "labeled")
    return CorpusExample(family, images, question, answer)
