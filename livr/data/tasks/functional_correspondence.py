"""Functional correspondence from FunKPoint (paper Appendix A).

Images are split 80/10/10 within each action (balanced by action). Within each split and action
the images are shuffled and grouped into disjoint pairs, one use per image: no image appears in
two examples of a split (paper v2, Appendix A). A pair (a, b) gives one example: a functional
keypoint k valid in both is marked on a (REF) and, on b, keypoint k plus 3 other keypoint indices
of b (A-D in random, seeded, letter-balanced order); 4-way. The action is named in the question.
Pairs join different object categories when the action has them (NOT SPECIFIED); a pair with no
usable keypoint either way round is dropped and counted. `n_<split>` caps a split (None = every
pair; asking for more examples than there are pairs is an error naming how many there are).
Test = examples from the held-out test images; train/val images that near-duplicate a test image
are skipped.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, Record
from livr.data.sources import funkpoint
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS,
    Staging,
    TestDeduper,
    balanced_letters,
    mark_points,
    merge_cfg,
    resize_max_side,
    write_built_task,
)
from livr.errors import InputError

TASK = "functional_correspondence"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,
    "n_val": None,  # None = every pair of the val images (paper: 144)
    "n_test": None,  # None = every pair of the test images (paper: 146)
    "split_fractions": [0.8, 0.1, 0.1],  # images, within each action
    "num_choices": 4,
    "prefer_cross_category": True,  # NOT SPECIFIED: pair different object categories when the action has them
    "max_side": 768,  # NOT SPECIFIED: longer side cap of the rendered images
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
        out["val"] += group[n_test : n_test + n_val]
        out["train"] += group[n_test + n_val :]
    return out


def pair_images(anns, cfg, rng) -> tuple[list[tuple], int]:
    """Disjoint pairs within each action: (ref, target, k) with k valid in both and the target
    holding >= num_choices valid keypoints. Returns (pairs, number of pairs dropped as unusable)."""
    by_action = defaultdict(list)
    for a in anns:
        by_action[a.action].append(a)
    pairs, unusable = [], 0
    for action in sorted(by_action):
        pool = sorted(by_action[action], key=lambda a: a.key)
        rng.shuffle(pool)
        while len(pool) >= 2:
            a = pool.pop(0)
            j = 0
            if cfg["prefer_cross_category"]:
                j = next((i for i, b in enumerate(pool) if b.category != a.category), 0)
            b = pool.pop(j)
            usable = _orient(a, b, cfg) or _orient(b, a, cfg)
            if usable is None:
                unusable += 1
                continue
            ref, target, common = usable
            pairs.append((ref, target, rng.choice(common)))
    rng.shuffle(pairs)
    return pairs, unusable


def _orient(ref, target, cfg):
    common = sorted(set(ref.valid()) & set(target.valid()))
    if common and len(target.valid()) >= cfg["num_choices"]:
        return ref, target, common
    return None


def _examples(split, anns, n, cfg, rng, staging):
    pairs, unusable = pair_images(anns, cfg, rng)
    if not pairs:
        raise InputError(f"{TASK}: no usable same-action pairs among the {len(anns)} {split} images")
    if n is None:
        n = len(pairs)
    elif n > len(pairs):
        raise InputError(
            f"params.yaml paper_data.{TASK}.n_{split}: {n} examples asked, but the {len(anns)} {split} images make "
            f"only {len(pairs)} usable disjoint same-action pairs (one use per image); set n_{split} to at most "
            f"{len(pairs)} or null for all"
        )
    letters = balanced_letters(rng, n, cfg["num_choices"])
    recs = []
    for k, (a, b, kp) in enumerate(pairs[:n]):
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
        choices = list(TASK_SPECS[TASK].choices[: cfg["num_choices"]])
        recs.append(
            Record(
                id=rid,
                task=TASK,
                split=split,
                images=[r1, r2],
                question=format_question(TASK, choices, action=a.action_name),
                choices=choices,
                answer=LETTERS[pos],
                source="funkpoint",
                meta={
                    "action": a.action,
                    "image_1": a.key,
                    "image_2": b.key,
                    "category_1": a.category,
                    "category_2": b.category,
                    "ref_kp_index": kp,
                    "option_kp_indices": opt_idx,
                    "scale_1": s_a,
                    "scale_2": s_b,
                    "ref_point": [round(v, 2) for v in ref],
                    "options": [[round(v, 2) for v in o] for o in options],
                },
            )
        )
    return recs, {"images": len(anns), "pairs": len(pairs), "unusable_pairs": unusable, "examples": len(recs)}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    anns, _ = funkpoint.read_annotations(Path(raw_root) / "funkpoint")
    parts = split_images(anns, cfg["split_fractions"], rng)
    deduper = TestDeduper([Image.open(a.image).convert("RGB") for a in parts["test"]], cfg)
    for split in ("train", "val"):
        parts[split] = [a for a in parts[split] if deduper.ok(a.key, lambda a=a: Image.open(a.image).convert("RGB"))]
    staging = Staging(out_dir)
    splits, stats = {}, {}
    try:
        for split in ("train", "val", "test"):
            splits[split], stats[split] = _examples(split, parts[split], cfg[f"n_{split}"], cfg, rng, staging)
    except BaseException:
        staging.cleanup()
        raise
    manifest = {
        "builder": TASK,
        "seed": seed,
        "params": cfg,
        "sources": list(SOURCES),
        "images": {s: sorted(a.key for a in v) for s, v in parts.items()},
        "pair_stats": stats,
        "dropped": {"dedup_images": deduper.dropped},
    }
    write_built_task(out_dir, splits, staging, {}, manifest)
    return Path(out_dir)
