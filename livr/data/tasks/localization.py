"""Object localization from COCO 2017 detection (paper Appendix A), tested on BLINK
Object_Localization val.

Candidates: non-crowd annotations whose box covers [min_box_frac, max_box_frac] of the image
(paper: 15-50%) and whose mask fills >= min_mask_fill of the box (paper: 60%; polygons rasterised
with PIL, `livr.data.sources.coco.mask_fill_ratio`). One example per image (a random qualifying
annotation), train from train2017, val from val2017. Distractor: the gold box with each corner
moved by up to `jitter_frac` x (box width / height), clipped to the image, redrawn until its IoU
with the gold box lies in [iou_min, iou_max] (paper: 0.2-0.5). Both boxes are drawn on the image
and labelled A and B; which one is gold is seeded and letter-balanced.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, Record
from livr.data.sources import coco
from livr.data.tasks.builder_utils import DEDUP_DEFAULTS, balanced_positions, merge_cfg
from livr.data.tasks.coco_tasks import build_from_coco
from livr.errors import InputError

TASK = "localization"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,  # paper: 1,000 train
    "n_val": 250,  # paper: 250 val
    "train_split": "train2017",
    "val_split": "val2017",
    "min_box_frac": 0.15,  # paper: boxes covering 15-50% of the image
    "max_box_frac": 0.50,
    "min_mask_fill": 0.60,  # paper: mask fill >= 60% of the box
    "iou_min": 0.2,  # paper: distractor IoU with the gold box in 0.2-0.5
    "iou_max": 0.5,
    "jitter_frac": 0.5,  # max corner shift, as a fraction of the box width / height
    "jitter_tries": 500,
    "min_distractor_side": 8,  # px; a jittered box thinner than this is redrawn
    "box_colors": {"A": [255, 0, 0], "B": [0, 0, 255]},
    "box_width_frac": 0.006,  # line width as a fraction of the image's shorter side (min 2 px)
    "label_font_frac": 0.06,  # label text height as a fraction of the shorter side (min 10 px)
    **DEDUP_DEFAULTS,
}


def iou(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def jitter_box(gold, size, cfg, rng: random.Random):
    """A box with jittered corners whose IoU with `gold` is in [iou_min, iou_max], or None."""
    x0, y0, x1, y1 = gold
    bw, bh = x1 - x0, y1 - y0
    W, H = size
    j = cfg["jitter_frac"]
    for _ in range(int(cfg["jitter_tries"])):
        b = [
            x0 + rng.uniform(-j, j) * bw,
            y0 + rng.uniform(-j, j) * bh,
            x1 + rng.uniform(-j, j) * bw,
            y1 + rng.uniform(-j, j) * bh,
        ]
        b = [min(max(b[0], 0.0), W), min(max(b[1], 0.0), H), min(max(b[2], 0.0), W), min(max(b[3], 0.0), H)]
        b = [round(v, 2) for v in b]
        if b[2] - b[0] < cfg["min_distractor_side"] or b[3] - b[1] < cfg["min_distractor_side"]:
            continue
        v = iou(gold, b)
        if cfg["iou_min"] <= v <= cfg["iou_max"]:
            return b, v
    return None


def by_coverage(inst: coco.CocoInstances, cfg: dict) -> dict[int, list[tuple[dict, float]]]:
    """image id -> [(annotation, coverage)] of non-crowd boxes covering
    [min_box_frac, max_box_frac] of the image (the cheap filter, no mask work)."""
    out: dict[int, list] = {}
    for a in inst.annotations:
        if a.get("iscrowd"):
            continue
        im = inst.images.get(a["image_id"])
        if im is None:
            continue
        x, y, w, h = a["bbox"]
        cov = (w * h) / float(im["width"] * im["height"])
        if cfg["min_box_frac"] <= cov <= cfg["max_box_frac"]:
            out.setdefault(a["image_id"], []).append((a, cov))
    return out


def qualifying(inst: coco.CocoInstances, cfg: dict, image_id: int, cands) -> list[tuple[dict, float, float]]:
    """The coverage candidates of one image whose mask fills >= min_mask_fill of the box
    (polygons rasterised only here, for the images actually visited)."""
    info = inst.images[image_id]
    out = []
    for a, cov in cands:
        fill = coco.mask_fill_ratio(a, info["width"], info["height"])
        if fill >= cfg["min_mask_fill"]:
            out.append((a, cov, fill))
    return out


def draw_boxes(img: Image.Image, boxes: dict[str, list[float]], cfg: dict) -> Image.Image:
    out = img.convert("RGB").copy()
    d = ImageDraw.Draw(out)
    side = min(out.size)
    lw = max(2, round(cfg["box_width_frac"] * side))
    font = ImageFont.load_default(size=max(10, round(cfg["label_font_frac"] * side)))
    for label, b in boxes.items():
        color = tuple(cfg["box_colors"][label])
        d.rectangle(b, outline=color, width=lw)
        tb = d.textbbox((0, 0), label, font=font)
        tw, th = tb[2] - tb[0], tb[3] - tb[1]
        tx = min(max(0, b[0]), out.width - tw - 6)
        ty = b[1] - th - 6 if b[1] - th - 6 >= 0 else b[1]
        d.rectangle([tx, ty, tx + tw + 6, ty + th + 6], fill=color)
        d.text((tx + 3 - tb[0], ty + 3 - tb[1]), label, fill=(255, 255, 255), font=font)
    return out


def _examples(split, inst, n, cfg, rng, deduper, staged):
    cands = by_coverage(inst, cfg)
    ids = sorted(cands)
    rng.shuffle(ids)
    positions = balanced_positions(rng, n, 2)
    recs = []
    skipped = {"no_box_with_mask_fill": 0, "no_distractor_in_iou_range": 0, "near_duplicate_of_test": 0}
    for image_id in ids:
        if len(recs) >= n:
            break
        info = inst.images[image_id]
        key = f"{inst.split}/{info['file_name']}"
        with Image.open(inst.image_path(image_id)) as im:
            img = im.convert("RGB")
        if not deduper.ok(key, [img]):
            skipped["near_duplicate_of_test"] += 1
            continue
        good = qualifying(inst, cfg, image_id, cands[image_id])
        if not good:
            skipped["no_box_with_mask_fill"] += 1
            continue
        ann, cov, fill = rng.choice(good)
        gold = list(coco.box_xyxy(ann["bbox"]))
        j = jitter_box(gold, (info["width"], info["height"]), cfg, rng)
        if j is None:
            skipped["no_distractor_in_iou_range"] += 1
            continue
        distractor, v = j
        pos = positions[len(recs)]
        boxes = {"A": gold, "B": distractor} if pos == 0 else {"A": distractor, "B": gold}
        rendered = draw_boxes(img, boxes, cfg)
        if not deduper.ok(key + "#rendered", [rendered]):
            skipped["near_duplicate_of_test"] += 1
            continue
        rel = staged.add(f"images/{split}/{image_id}.png", rendered)
        name = inst.categories.get(ann["category_id"], "object")
        recs.append(
            Record(
                id=f"localization-{split}-{image_id}",
                task=TASK,
                split=split,
                images=[rel],
                question=format_question(TASK, list(TASK_SPECS[TASK].choices), object_name=name),
                choices=list(TASK_SPECS[TASK].choices),
                answer=LETTERS[pos],
                source=f"coco2017:{inst.split}",
                meta={
                    "coco_split": inst.split,
                    "coco_image_id": image_id,
                    "file_name": info["file_name"],
                    "annotation_id": ann["id"],
                    "category": name,
                    "image_size": [info["width"], info["height"]],
                    "gold_box": gold,
                    "distractor_box": distractor,
                    "boxes": boxes,
                    "coverage": round(cov, 4),
                    "mask_fill": round(fill, 4),
                    "iou": round(v, 4),
                },
            )
        )
    if len(recs) < n:
        raise InputError(
            f"{TASK}: only {len(recs)} {split} examples from COCO {inst.split} "
            f"({len(ids)} images with a box of qualifying coverage; wanted {n}); skipped {skipped}"
        )
    return recs, skipped


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    if not (0 <= cfg["iou_min"] <= cfg["iou_max"] < 1):
        raise InputError(f"paper_data.{TASK}: need 0 <= iou_min <= iou_max < 1")
    return build_from_coco(TASK, SOURCES, _examples, raw_root, out_dir, cfg, seed)
