"""Jigsaw from COCO 2017 (paper Appendix A), tested on BLINK Jigsaw val.

Per COCO image (train2017 for train, val2017 for val; images shuffled with the seed):
1. draw the canvas height H uniformly in [canvas_height_min, canvas_height_max]; scale the image
   (aspect kept) by max(canvas_width / w, H / h) and crop a random canvas_width x H window;
2. the true patch is the canvas's bottom-right quadrant (x >= W//2, y >= H//2), which is blacked
   out in the canvas;
3. the distractor is a patch of the same size from the same scaled image that does not overlap
   the true patch (zero intersection) and whose centre is at least
   `min_center_distance` x (patch diagonal) from the true patch centre (random positions,
   `distractor_tries` attempts, else the image is skipped). With `distractor_avoid_canvas` the
   distractor must also not overlap the visible canvas (so it cannot be matched by copying
   canvas content; the paper does not say, off by default).
Images: 1 = canvas, 2 and 3 = the two candidate patches in seeded, letter-balanced order. All
coordinates (in the scaled image) are in `meta` so the geometry can be re-checked.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, Record
from livr.data.tasks.builder_utils import DEDUP_DEFAULTS, balanced_positions, merge_cfg
from livr.data.tasks.coco_tasks import build_from_coco
from livr.errors import InputError

TASK = "jigsaw"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,  # paper: 1,000 train
    "n_val": 250,  # paper: 250 val
    "train_split": "train2017",  # COCO split for train examples
    "val_split": "val2017",  # COCO split for val examples (disjoint images from train)
    "canvas_width": 400,  # paper: 400 px wide canvas
    "canvas_height_min": 170,  # paper: height 170-230
    "canvas_height_max": 230,
    "min_center_distance": 1.0,  # distractor centre >= this x patch diagonal from the true centre
    "distractor_avoid_canvas": False,
    "distractor_tries": 200,
    "min_source_side": 64,  # skip COCO images smaller than this (px) on either side
    **DEDUP_DEFAULTS,
}


def _intersection(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def _center(b):
    return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


def make_example(img: Image.Image, cfg: dict, rng: random.Random) -> dict | None:
    """Canvas, true patch and distractor patch for one image, or None when no valid distractor."""
    W = int(cfg["canvas_width"])
    H = rng.randint(int(cfg["canvas_height_min"]), int(cfg["canvas_height_max"]))
    w, h = img.size
    scale = max(W / w, H / h)
    rw, rh = max(W, round(w * scale)), max(H, round(h * scale))
    scaled = img.convert("RGB").resize((rw, rh), Image.Resampling.BICUBIC)
    cx0, cy0 = rng.randint(0, rw - W), rng.randint(0, rh - H)
    canvas_box = (cx0, cy0, cx0 + W, cy0 + H)
    qx, qy = W // 2, H // 2
    pw, ph = W - qx, H - qy
    true_box = (cx0 + qx, cy0 + qy, cx0 + W, cy0 + H)
    min_d = cfg["min_center_distance"] * math.hypot(pw, ph)
    tc = _center(true_box)
    distractor = None
    for _ in range(int(cfg["distractor_tries"])):
        dx, dy = rng.randint(0, rw - pw), rng.randint(0, rh - ph)
        box = (dx, dy, dx + pw, dy + ph)
        if _intersection(box, true_box) > 0:
            continue
        if cfg["distractor_avoid_canvas"] and _intersection(box, canvas_box) > 0:
            continue
        if math.dist(_center(box), tc) < min_d:
            continue
        distractor = box
        break
    if distractor is None:
        return None
    canvas = scaled.crop(canvas_box)
    canvas.paste((0, 0, 0), (qx, qy, W, H))
    return {
        "canvas": canvas,
        "true": scaled.crop(true_box),
        "distractor": scaled.crop(distractor),
        "meta": {
            "scaled_size": [rw, rh],
            "scale": round(scale, 6),
            "canvas_box": list(canvas_box),
            "canvas_size": [W, H],
            "patch_size": [pw, ph],
            "true_box": list(true_box),
            "distractor_box": list(distractor),
            "center_distance": round(math.dist(_center(distractor), tc), 3),
            "min_center_distance_px": round(min_d, 3),
        },
    }


def _examples(split, inst, n, cfg, rng, deduper, staged):
    ids = sorted(inst.images)
    rng.shuffle(ids)
    positions = balanced_positions(rng, n, 2)
    recs = []
    skipped = {"too_small": 0, "no_valid_distractor": 0, "near_duplicate_of_test": 0}
    for image_id in ids:
        if len(recs) >= n:
            break
        info = inst.images[image_id]
        if min(info["width"], info["height"]) < cfg["min_source_side"]:
            skipped["too_small"] += 1
            continue
        with Image.open(inst.image_path(image_id)) as im:
            img = im.convert("RGB")
        key = f"{inst.split}/{info['file_name']}"
        if not deduper.ok(key, [img]):
            skipped["near_duplicate_of_test"] += 1
            continue
        ex = make_example(img, cfg, rng)
        if ex is None:
            skipped["no_valid_distractor"] += 1
            continue
        if not deduper.ok(key + "#canvas", [ex["canvas"]]):
            skipped["near_duplicate_of_test"] += 1
            continue
        pos = positions[len(recs)]
        cands = [ex["true"], ex["distractor"]] if pos == 0 else [ex["distractor"], ex["true"]]
        rid = f"jigsaw-{split}-{image_id}"
        rels = [
            f"images/{split}/{image_id}_canvas.png",
            f"images/{split}/{image_id}_cand1.png",
            f"images/{split}/{image_id}_cand2.png",
        ]
        for rel, im in zip(rels, [ex["canvas"], *cands]):
            staged.add(rel, im)
        recs.append(
            Record(
                id=rid,
                task=TASK,
                split=split,
                images=rels,
                question=format_question(TASK, list(TASK_SPECS[TASK].choices)),
                choices=list(TASK_SPECS[TASK].choices),
                answer=LETTERS[pos],
                source=f"coco2017:{inst.split}",
                meta={
                    "coco_split": inst.split,
                    "coco_image_id": image_id,
                    "file_name": info["file_name"],
                    "true_candidate": pos + 1,
                    **ex["meta"],
                },
            )
        )
    if len(recs) < n:
        raise InputError(
            f"{TASK}: only {len(recs)} {split} examples from COCO {inst.split} (wanted {n}); skipped {skipped}"
        )
    return recs, skipped


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    if cfg["canvas_height_min"] > cfg["canvas_height_max"]:
        raise InputError(f"paper_data.{TASK}: canvas_height_min > canvas_height_max")
    return build_from_coco(TASK, SOURCES, _examples, raw_root, out_dir, cfg, seed)
