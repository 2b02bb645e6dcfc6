"""Offline stand-ins for the comparison data (livr/data/benchmarks/): tiny procedurally drawn
versions of every training set and benchmark, in the record form its real builder writes (same
task name, prompt wording, answer and meta["target"], subtasks with unequal sizes, MMVP's question
pairs, Mirage's maps and boxed plans), so an experiment of the `synthetic` suite runs the
comparison path end to end without downloads: training on meta["target"], each benchmark judged by
its own scorer, subtask and pair aggregates in the results database. The numbers they give say
nothing about the real benchmarks.

Scenes: a red and a blue square on a grey canvas; the question asks where the red one is relative
to the blue one (left/right, above/below) or which is larger, in each benchmark's wording (ViGoRL's
option-text form, LVR's letter form, RoboSpatial's yes/no, Visual-CoT's free text; ViGoRL's
BLINK-3 file is stood in for by its SAT form). Visual-CoT records carry LVR's `boxes`: the red
square's box. Mirage VSP: an N x N grid (N = 3 or 4) with start (green), goal (yellow), holes
(black) and ice (light blue); the answer is a shortest hole-free plan, "\\boxed{RIGHT, DOWN}";
training records carry Mirage's `helper_image`: the map with a PATH mark on every cell the plan
visits.

Every example has its own random stream keyed by (seed, name, split, index): rebuilding with the
same seed gives identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from livr.data.benchmarks import prompts
from livr.data.benchmarks.mirage_vsp import MOVE_WORDS, shortest_plan
from livr.data.benchmarks.records import Collector
from livr.data.benchmarks.robospatial_home import CHOICES as YES_NO
from livr.data.registry import COMPARISON_SPECS, TRAINING_SETS
from livr.data.schema import LETTERS, SPLITS, Record
from livr.errors import InputError

# The relations a scene question asks about: (question, its two options, the yes/no form).
RELATIONS = {
    "left_right": (
        "Is the red square to the left or to the right of the blue square?",
        ("left", "right"),
        "Is the red square to the {} of the blue square?",
    ),
    "above_below": (
        "Is the red square above or below the blue square?",
        ("above", "below"),
        "Is the red square {} the blue square?",
    ),
    "size": (
        "Is the red square larger or smaller than the blue square?",
        ("larger", "smaller"),
        "Is the red square {} than the blue square?",
    ),
}
NAMES = tuple(COMPARISON_SPECS)  # each spec names its stand-in's question form and subtasks
RED, BLUE, GREY = (220, 40, 40), (40, 60, 220), (128, 128, 128)
TILE = {0: (170, 210, 240), 1: (40, 180, 60), 2: (240, 210, 40), -1: (20, 20, 20)}  # ice, start, goal, hole
PATH = (230, 30, 200)  # the helper image's path marks: a colour no tile has
MAX_TRIES = 100


def _rng(seed: int, name: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(
        np.random.SeedSequence([seed, COMPARISON_SPECS[name].order, SPLITS.index(split), index])
    )


def subtask_sizes(n: int, subtasks: tuple[str, ...]) -> dict[str, int]:
    """n items over the subtasks in proportion 1 : 2 : ... (unequal on purpose, so the mean of
    subtask accuracies and the pooled accuracy differ), each subtask at least one item."""
    if n < len(subtasks):
        raise InputError(
            f"{n} examples cannot cover {len(subtasks)} subtasks ({', '.join(subtasks)}); use n >= {len(subtasks)}"
        )
    weights = np.arange(1, len(subtasks) + 1)
    sizes = np.maximum(1, np.floor(n * weights / weights.sum()).astype(int))
    sizes[-1] = n - sizes[:-1].sum()
    return dict(zip(subtasks, (int(s) for s in sizes)))


def draw_scene(rng: np.random.Generator, size: int, relation: str) -> tuple[Image.Image, int, list[float]]:
    """Two squares (at least one 14 px merged token each); (image, index of the true option, the
    red square's box as [x0, y0, x1, y1] fractions of the image: its pixel edges / size)."""
    img = Image.new("RGB", (size, size), GREY)
    d = ImageDraw.Draw(img)
    k = size / 112
    sides = (int(20 * k), int(20 * k))
    if relation == "size":
        small, large = int(16 * k), int(30 * k)
        sides = (large, small) if rng.random() < 0.5 else (small, large)
    half = size // 2
    # the two squares sit in opposite halves along the relation's axis (top/bottom for above/below,
    # else left/right), so they never overlap
    red_first = bool(rng.random() < 0.5)
    boxes = []
    for j, side in enumerate(sides):
        first_half = (j == 0) == red_first
        lo, hi = (2, half - side - 2) if first_half else (half + 2, size - side - 2)
        along, across = int(rng.integers(lo, hi + 1)), int(rng.integers(2, size - side - 1))
        x, y = (across, along) if relation == "above_below" else (along, across)
        boxes.append((x, y, side))
    for (x, y, side), color in zip(boxes, (RED, BLUE)):
        d.rectangle([x, y, x + side - 1, y + side - 1], fill=color)
    x, y, side = boxes[0]
    red_box = [x / size, y / size, (x + side) / size, (y + side) / size]
    if relation == "size":
        return img, 0 if sides[0] > sides[1] else 1, red_box
    return img, 0 if red_first else 1, red_box


def draw_map(rng: np.random.Generator, size: int) -> tuple[Image.Image, Image.Image, list[list[int]], str]:
    """A Mirage-style frozen-lake map with a reachable goal: (image, the same map with its plan's
    path drawn (Mirage's helper image), map_desc, shortest plan)."""
    for _ in range(MAX_TRIES):
        n = int(rng.integers(3, 5))
        cells = rng.permutation(n * n)
        grid = [[0] * n for _ in range(n)]
        start, goal, *rest = (divmod(int(c), n) for c in cells)
        grid[start[0]][start[1]], grid[goal[0]][goal[1]] = 1, 2
        for r, c in rest[: int(rng.integers(1, n))]:
            grid[r][c] = -1
        try:
            plan = shortest_plan(grid)
        except InputError:
            continue
        img = Image.new("RGB", (size, size), GREY)
        d = ImageDraw.Draw(img)
        step = size // n
        for r in range(n):
            for c in range(n):
                d.rectangle([c * step + 1, r * step + 1, (c + 1) * step - 2, (r + 1) * step - 2], fill=TILE[grid[r][c]])
        return img, draw_path(img, grid, plan, step), grid, plan
    raise InputError(f"no map with a reachable goal in {MAX_TRIES} draws; change the seed")


def draw_path(img: Image.Image, grid: list[list[int]], plan: str, step: int) -> Image.Image:
    """A copy of the map with a PATH-coloured square in the middle of every cell the plan visits,
    start and goal included, and nothing else changed."""
    out = img.copy()
    d = ImageDraw.Draw(out)
    r, c = next((i, j) for i, row in enumerate(grid) for j, v in enumerate(row) if v == 1)
    cells = [(r, c)]
    for word in plan.split(", "):
        dr, dc = next(move for move, w in MOVE_WORDS.items() if w == word)
        r, c = r + dr, c + dc
        cells.append((r, c))
    q = step // 4
    for r, c in cells:
        d.rectangle([c * step + q, r * step + q, (c + 1) * step - 1 - q, (r + 1) * step - 1 - q], fill=PATH)
    return out


MIRAGE_QUESTION = (
    "You are a navigator on a frozen lake (green: you, yellow: the goal, black: holes). "
    "Find a safe path to the goal. Give the moves (LEFT, RIGHT, UP, DOWN) as \\boxed{...}."
)


def _example(
    name: str, split: str, i: int, subtask: str | None, relation: str, rng: np.random.Generator, size: int
) -> tuple[Record, Image.Image, Image.Image | None]:
    """(record, question image, helper image or None)."""
    spec = COMPARISON_SPECS[name]
    form, task = spec.standin, spec.task
    meta: dict = {"standin": True, "index": i}
    if subtask is not None:
        meta["subtask"] = subtask
    rec = dict(id=f"standin-{name}-{split}-{i:05d}", task=task, split=split, images=[], source="standin")
    if form == "mirage":
        img, helper, grid, plan = draw_map(rng, size)
        answer = "\\boxed{" + plan + "}"
        meta.update(map_desc=grid, target=answer, answer_is_reference_plan=split == "test")
        return Record(**rec, question=MIRAGE_QUESTION, choices=[], answer=answer, meta=meta), img, helper
    question, options, yes_no = RELATIONS[relation]
    img, true, red_box = draw_scene(rng, size, relation)
    choices = list(options)
    if form == "yes_no":  # RoboSpatial: a yes/no question, the choices not listed in it
        asked = int(rng.integers(2))
        question = yes_no.format(options[asked])
        choices, gold = list(YES_NO), YES_NO[0] if asked == true else YES_NO[1]
        meta.update(target=gold, choices_in_question=False)
        record = Record(**rec, question=question, choices=choices, answer=LETTERS[choices.index(gold)], meta=meta)
        return record, img, None
    letter = LETTERS[true]
    if form == "free_text":  # Visual-CoT: LVR's box is the square the question is about
        meta["target"] = options[true]
        return Record(**rec, question=question, choices=[], answer=options[true], meta=meta, boxes=[red_box]), img, None
    if form == "vigorl":
        text, target = prompts.vigorl_choices(question, choices), options[true]
    elif form == "mmvp":
        text = prompts.lvr_mmvp(question, f"(a) {options[0]} (b) {options[1]}")
        target = letter
        meta.update(mmvp_index=i + 1, pair=i // 2 + 1)
    elif form == "vstar":
        text = prompts.lvr_vstar(prompts.lvr_blink(question, choices))  # V*'s text ends with the instruction
        target = letter
    else:  # lvr (BLINK-5)
        text, target = prompts.lvr_blink(question, choices), letter
    meta["target"] = target
    return Record(**rec, question=text, choices=choices, answer=letter, meta=meta), img, None


def build_standin(name: str, out_dir, n_train: int, n_val: int, n_test: int, seed: int, image_size: int = 112) -> Path:
    """A stand-in task directory: train + val for a training set, test only for a benchmark."""
    if name not in COMPARISON_SPECS:
        raise InputError(f"unknown comparison set {name!r}; valid: {', '.join(NAMES)}")
    if image_size % 28 or image_size < 112:
        raise InputError(f"image_size={image_size}: must be a multiple of 28, at least 112 (14 px merged tokens)")
    sizes = {"train": n_train, "val": n_val} if name in TRAINING_SETS else {"test": n_test}
    for split, n in sizes.items():
        if n < 1:
            raise InputError(f"n_{split}={n}: every split needs at least one example")
    spec = COMPARISON_SPECS[name]
    form, subtasks = spec.standin, spec.standin_subtasks
    relations = list(RELATIONS)
    col, counts = Collector(), {}
    for split, n in sizes.items():
        if form == "mmvp" and n % 2:
            raise InputError(f"{name}: n_{split}={n}; MMVP's questions come in pairs, so it must be even")
        per = subtask_sizes(n, subtasks) if subtasks else {None: n}
        counts[split] = {str(k): v for k, v in per.items()}
        labels = [s for s, k in per.items() for _ in range(k)]
        for i, subtask in enumerate(labels):
            # one relation per subtask, else cycled; MMVP: both questions of a pair ask the same
            key = subtasks.index(subtask) if subtask else (i // 2 if form == "mmvp" else i)
            rec, img, helper = _example(
                name, split, i, subtask, relations[key % len(relations)], _rng(seed, name, split, i), image_size
            )
            # the helper image travels only with a training set that carries it (Mirage's, not its test)
            col.add(rec, [img], helper=helper if "helper_image" in getattr(spec, "carries", ()) else None)
    return col.write(
        out_dir,
        {
            "builder": "livr.data.standins.build_standin",
            "name": name,
            "source": "standin",
            "seed": seed,
            "image_size": image_size,
            "requested": sizes,
            "subtask_sizes": counts,
        },
    )
