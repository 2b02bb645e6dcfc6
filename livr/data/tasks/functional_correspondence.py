"""Functional correspondence from FunKPoint (paper Appendix A).

Images are split 80/10/10 within each action (balanced by action). An example pairs two images
of the same action (different object categories when possible), marks a functional keypoint k
valid in both on the first image (REF) and, on the second, keypoint k plus 3 other keypoint
indices of that image (A-D in random, seeded, letter-balanced order); 4-way. The action is named
in the question. Test = examples from the held-out test images; train/val images that
near-duplicate a test image are skipped.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from PIL import Image

from livr.data.prompts import CHOICE_TEXTS, format_question
from livr.data.schema import LETTERS, Record
from livr.data.sources import funkpoint
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS, Staging, TestDeduper, balanced_letters, mark_points, merge_cfg, resize_max_side,
    write_built_task,
)

TASK = "functional_correspondence"
SOURCES = ("funkpoint",)
DEFAULTS = {
    "n_train": 1000,
    "n_val": 144,
    "n_test": 146,
    "split_fractions": [0.8, 0.1, 0.1],   # images, within each action
    "num_choices": 4,
    "prefer_cross_category": True,         # NOT SPECIFIED: pair different object categories when the action has them
    "max_side": 768,                       # NOT SPECIFIED: longer side cap of the rendered images
    "max_tries": 100,
    **DEDUP_DEFAULTS,
}


def split_images(anns, fractions, rng: random.Random) -> dict[str, list]:
    by_action = defaultdict(list)
    for a in anns:
        by_action[a.action].append(a)
    out = {"train": [], "val": [], "test": []}
    for action in sorted(by_action):
        group = sorted(by_action[action], key=lambda a: a.key)
        rng.shuffle(group)
        n = len(group)
        # at least 2 images per held-out split and action, so that same-action pairs exist
        n_test = max(2, round(fractions[2] * n)) if n >= 10 else 0
        n_val = max(2, round(fractions[1] * n)) if n >= 10 else 0
        out["test"] += group[:n_test]
        out["val"] += group[n_test:n_test + n_val]
        out["train"] += group[n_test + n_val:]
    return out


def _pairs(anns, cfg, rng):
    """Candidate (a, b, k) triples: same action, k valid in a and b, b has >= num_choices valid."""
    by_action = defaultdict(list)
    for a in anns:
        by_action[a.action].append(a)
    out = []
    for group in by_action.values():
        for a in group:
            for b in group:
                if a is b or len(b.valid()) < cfg["num_choices"]:
                    continue
                if cfg["prefer_cross_category"] and a.category == b.category and \
                        len({g.category for g in group}) > 1:
                    continue
                for k in set(a.valid()) & set(b.valid()):
                    out.append((a, b, k))
    rng.shuffle(out)
    return out


def _examples(split, anns, n, cfg, rng, staging):
    cands = _pairs(anns, cfg, rng)
    if not cands:
        raise ValueError(f"{TASK}: no usable same-action pairs for split {split!r}")
    letters = balanced_letters(rng, n, cfg["num_choices"])
    recs = []
    for k in range(n):
        a, b, kp = cands[k % len(cands)]  # cycle when there are fewer candidates than examples
        others = rng.sample([i for i in b.valid() if i != kp], cfg["num_choices"] - 1)
        pos = letters[k]
        opt_idx = list(others)
        opt_idx.insert(pos, kp)
        img_a, s_a = resize_max_side(Image.open(a.image), cfg["max_side"])
        img_b, s_b = resize_max_side(Image.open(b.image), cfg["max_side"])
        ref = (a.keypoints[kp][0] * s_a, a.keypoints[kp][1] * s_a)
        options = [(b.keypoints[i][0] * s_b, b.keypoints[i][1] * s_b) for i in opt_idx]
        rid = f"{TASK}-{split}-{k:05d}"
        r1 = staging.add(f"images/{split}/{rid}_1.jpg", mark_points(img_a, [ref], ["REF"]))
        r2 = staging.add(f"images/{split}/{rid}_2.jpg", mark_points(img_b, options, list(LETTERS[: len(options)])))
        choices = CHOICE_TEXTS[TASK][: cfg["num_choices"]]
        recs.append(Record(
            id=rid, task=TASK, split=split, images=[r1, r2],
            question=format_question(TASK, choices, action=a.action_name), choices=choices,
            answer=LETTERS[pos], source="funkpoint",
            meta={"action": a.action, "image_1": a.key, "image_2": b.key,
                  "category_1": a.category, "category_2": b.category,
                  "ref_kp_index": kp, "option_kp_indices": opt_idx,
                  "scale_1": s_a, "scale_2": s_b,
                  "ref_point": [round(v, 2) for v in ref],
                  "options": [[round(v, 2) for v in o] for o in options]},
        ))
    return recs, {"candidates": len(cands), "reused": max(0, n - len(cands))}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    anns, _ = funkpoint.read_annotations(Path(raw_root) / "funkpoint")
    parts = split_images(anns, cfg["split_fractions"], rng)
    deduper = TestDeduper([Image.open(a.image).convert("RGB") for a in parts["test"]], cfg)
    for split in ("train", "val"):
        parts[split] = [a for a in parts[split]
                        if deduper.ok(a.key, lambda a=a: Image.open(a.image).convert("RGB"))]
    staging = Staging(out_dir)
    splits, stats = {}, {}
    for split in ("train", "val", "test"):
        splits[split], stats[split] = _examples(split, parts[split], cfg[f"n_{split}"], cfg, rng, staging)
    manifest = {"builder": TASK, "seed": seed, "params": cfg, "sources": list(SOURCES),
                "images": {s: sorted(a.key for a in v) for s, v in parts.items()},
                "pair_stats": stats, "dropped": {"dedup_images": deduper.dropped}}
    write_built_task(out_dir, splits, staging, {}, manifest)
    return Path(out_dir)
