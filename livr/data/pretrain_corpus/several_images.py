"""Question families over several images, or the two halves of one: which image contains
something, which shows more shapes, which matches the first, which is brighter.
Each family is (rng, image size) -> (images, question, answer)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from livr.data.pretrain_corpus.scenes import COLOUR_NAMES, draw_scene, jittered, random_objects
from livr.data.pretrain_corpus.wording import LETTERS, choice_question, with_choices
from livr.data.synthetic.drawing import SHAPES
from livr.data.synthetic.sampling import pick

ORDINAL = ("first", "second", "third")


def n_images(rng):
    return int(rng.integers(2, 4))


def image_options(n):
    return [f"the {ORDINAL[i]} image" for i in range(n)]


def which_image_contains(rng, S):
    n = n_images(rng)
    target_kind, target_colour = pick(rng, SHAPES), pick(rng, tuple(COLOUR_NAMES))
    by_kind = rng.random() < 0.5
    gold = int(rng.integers(n))
    images = []
    for i in range(n):
        objs = random_objects(rng, S, int(rng.integers(1, 4)))
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
        images.append(draw_scene(rng, S, objs))
    what = f"a {target_kind}" if by_kind else f"something {COLOUR_NAMES[target_colour]}"
    q = pick(rng, (f"Which image contains {what}?", f"In which picture do you see {what}?"))
    opts = image_options(n)
    return images, with_choices(rng, q, opts), LETTERS[gold]


def more_shapes(rng, S):
    a, b = (int(v) for v in pick(rng, list(range(1, 9)), 2))
    images = [draw_scene(rng, S, random_objects(rng, S, c, distinct_colours=False, half_range=(6, 11))) for c in (a, b)]
    word = pick(rng, ("more", "fewer"))
    gold = int((b > a) == (word == "more"))
    q = f"Which image shows {word} shapes?"
    return images, with_choices(rng, q, image_options(2)), LETTERS[gold]


def match_first(rng, S):
    """A first image with one shape; which of two others shows the same kind (or colour)."""
    attr = pick(rng, ("kind", "colour"))
    first = random_objects(rng, S, 1)[0]
    same = random_objects(rng, S, 1)[0]
    diff = random_objects(rng, S, 1)[0]
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
    images = [draw_scene(rng, S, [o]) for o in (first, *cands)]
    q = f"Look at the first image. Which of the other two images shows {what}?"
    opts = ["the second image", "the third image"]
    return images, with_choices(rng, q, opts), LETTERS[gold]


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
        q, ans = choice_question(rng, f"Which half of the image is {word}?", gold_name, [wrong])
        return [img], q, ans
    images, first_light = [], rng.random() < 0.5
    for v in (light, dark) if first_light else (dark, light):
        objs = random_objects(rng, S, int(rng.integers(1, 3)))
        images.append(draw_scene(rng, S, objs, bg=jittered(rng, (v, v, v), 10)))
    gold = 0 if first_light == (word == "brighter") else 1
    return images, with_choices(rng, f"Which image is {word} overall?", image_options(2)), LETTERS[gold]
