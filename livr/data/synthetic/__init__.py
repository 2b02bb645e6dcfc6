"""Procedural, offline versions of the paper's nine tasks, learnable by a tiny VLM.

Each task keeps the real task's shape (number of images, number of choices, BLINK's wording from
`livr.data.prompts`, letter or integer answer) but draws its evidence large and clear, because a
tiny model with one merged visual token per 14x14 px (default 112 px images -> 64 tokens) does not
learn evidence smaller than a token:

- every object, region, band and mark spans >= 14 px at the default size (sizes scale with
  `image_size / 112`);
- marked points are rings whose interior shows the surface under the point, the label beside
  them; the ring's colour says which label it is (`drawing.py`), except in visual correspondence,
  whose rings are all red as in BLINK's images and question; scene colours never use the mark colours.

One module per task (names as in `livr/data/tasks/`; the task's spec names it), each with `generate(rng, size, gold)` ->
(images, choices, answer, meta, question slots) and its design in its docstring; `drawing.py`
holds the shared conventions, `sampling.py` the random choices and the rejection sampler (which
raises when it runs out of tries, never keeping an invalid draw).

The answer is decided by the pixels only: the gold letter (or count) is drawn per split from a
balanced list and shuffled with the seed, never tied to text or to a fixed position.
Every example has its own random stream, keyed by (seed, task, split, index), so splits never share
an example and a rebuild with the same seed gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import SPLITS, Record, write_task_dir
from livr.data.specs import resolve
from livr.data.synthetic import visual_correspondence
from livr.data.synthetic.drawing import BLINK_RED, BOX_WIDTH, LABEL_COLOR, MARK_COLORS, SCENE_MAX, SCENE_MIN, png_bytes
from livr.data.synthetic.relative_reflectance import reflectance_label, srgb_to_linear
from livr.data.synthetic.sampling import RejectionSamplingError
from livr.errors import InputError

__all__ = [
    "BLINK_RED",
    "BOX_WIDTH",
    "BUILDER_VERSION",
    "LABEL_COLOR",
    "MARK_COLORS",
    "RejectionSamplingError",
    "SYNTHETIC_TASKS",
    "build_synthetic_task",
    "generate_split",
    "reflectance_label",
    "srgb_to_linear",
]

# The tasks whose spec names a generator (livr/data/specs/tasks/<task>.py), in spec order.
SYNTHETIC_TASKS = tuple(name for name, spec in TASK_SPECS.items() if spec.generator)
BUILDER_VERSION = 2  # 2: functional_correspondence redraws a tool no pose fits (1 kept it partly outside)

TASK_MARK_COLORS = {"visual_correspondence": visual_correspondence.MARK_COLORS}  # the rest: drawing.MARK_COLORS
_SPLIT_TAG = 1_000_000_007  # per-split streams use this index, per-example ones use 0..n-1


def _rng(seed: int, task: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, TASK_SPECS[task].order, SPLITS.index(split), index]))


def _golds(task: str, n: int, rng: np.random.Generator) -> list:
    """Balanced gold values for one split, shuffled: the spec's golds (choice indices, counts, or
    its own cycle, e.g. relative reflectance's A/B/C in 3:3:2), each equally often in the cycle."""
    cycle = TASK_SPECS[task].golds
    base = [cycle[i % len(cycle)] for i in range(n)]
    order = rng.permutation(n)
    return [base[int(i)] for i in order]


def generate_split(task: str, split: str, n: int, seed: int, image_size: int = 112):
    """Records and PNG bytes for one split: ([Record], {relative path: bytes})."""
    golds = _golds(task, n, _rng(seed, task, split, _SPLIT_TAG))
    generate = resolve(TASK_SPECS[task].generator)
    records, files = [], {}
    for i in range(n):
        rng = _rng(seed, task, split, i)
        rid = f"synthetic-{task}-{split}-{i:05d}"
        try:
            images, choices, answer, meta, slots = generate(rng, image_size, golds[i])
        except RejectionSamplingError as e:
            raise RejectionSamplingError(f"{rid} (seed {seed}, {image_size} px): {e}") from None
        paths = []
        for j, img in enumerate(images):
            rel = f"images/{split}/{rid}_{j + 1}.png"
            files[rel] = png_bytes(img)
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
    if task not in SYNTHETIC_TASKS:
        raise InputError(f"unknown synthetic task {task!r}; valid tasks: {', '.join(SYNTHETIC_TASKS)}")
    if image_size % 28 or not 112 <= image_size <= 448:
        raise InputError(
            f"image_size={image_size}: must be a multiple of 28 in [112, 448] (the jigsaw quadrant must "
            "be whole merged tokens; below 112 px evidence would shrink under one 14 px token)"
        )
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    for split, n in sizes.items():
        if n < 1:
            raise InputError(f"n_{split}={n}: every split needs at least one example")
    if seed < 0:
        raise InputError(f"seed={seed}: must be a non-negative integer")
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
        "mark_colors": {k: list(v) for k, v in TASK_MARK_COLORS.get(task, MARK_COLORS).items()},
        "label_color": list(LABEL_COLOR),
        "scene_channel_range": [SCENE_MIN, SCENE_MAX],
    }
    write_task_dir(out_dir, splits, manifest, write_images)
