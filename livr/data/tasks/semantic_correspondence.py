"""Semantic correspondence from SPair-71k (paper Appendix A).

SPair-71k `trn` pairs with >= 4 keypoints visible in both images. An example marks one keypoint
in the source image (REF) and, in the target image, its true match plus 3 other keypoints of
the same pair (A-D in random, seeded, letter-balanced order); 4-way. Val pairs are drawn first;
train pairs share no image with val pairs. Test = BLINK Semantic_Correspondence val; train/val
images that near-duplicate a test image are skipped.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, Record
from livr.data.sources import spair
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS,
    Staging,
    TestDeduper,
    balanced_letters,
    blink_test,
    mark_points,
    merge_cfg,
    resize_max_side,
    write_built_task,
)
from livr.errors import InputError

TASK = "semantic_correspondence"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,
    "n_val": 250,
    "source_split": "trn",
    "min_keypoints": 4,  # valid (visible in both) keypoints a pair needs
    "num_choices": 4,
    "max_side": 768,  # NOT SPECIFIED: longer side cap of the rendered images
    **DEDUP_DEFAULTS,
}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    all_pairs = spair.list_pairs(Path(raw_root) / "spair71k", cfg["source_split"])
    pairs = [p for p in all_pairs if len(p.src_kps) >= max(cfg["min_keypoints"], cfg["num_choices"])]
    n_short = len(all_pairs) - len(pairs)
    rng.shuffle(pairs)
    test_records, test_images = blink_test(raw_root, TASK)
    deduper = TestDeduper(test_images.values(), cfg)

    def usable(p) -> bool:
        return all(
            deduper.ok(f"{p.category}/{q.name}", lambda q=q: Image.open(q).convert("RGB"))
            for q in (p.src_path, p.trg_path)
        )

    staging = Staging(out_dir)
    splits, used_images = {}, set()
    for split in ("val", "train"):
        n = cfg[f"n_{split}"]
        letters = balanced_letters(rng, n, cfg["num_choices"])
        recs, k = [], 0
        while k < n:
            if not pairs:  # each pair is used at most once (SPair trn has 53k pairs)
                raise InputError(f"{TASK}: ran out of pairs for split {split!r} after {k} examples")
            p = pairs.pop()
            imgs = {str(p.src_path), str(p.trg_path)}
            if split == "train" and imgs & used_images:
                continue
            if not usable(p):
                continue
            if split == "val":
                used_images |= imgs
            src, s_src = resize_max_side(Image.open(p.src_path), cfg["max_side"])
            trg, s_trg = resize_max_side(Image.open(p.trg_path), cfg["max_side"])
            idx = list(range(len(p.src_kps)))
            q = rng.choice(idx)
            others = rng.sample([i for i in idx if i != q], cfg["num_choices"] - 1)
            pos = letters[k]
            opt_idx = list(others)
            opt_idx.insert(pos, q)
            ref = (p.src_kps[q][0] * s_src, p.src_kps[q][1] * s_src)
            options = [(p.trg_kps[i][0] * s_trg, p.trg_kps[i][1] * s_trg) for i in opt_idx]
            rid = f"{TASK}-{split}-{k:05d}"
            a = staging.add(f"images/{split}/{rid}_1.jpg", mark_points(src, [ref], ["REF"]))
            b = staging.add(f"images/{split}/{rid}_2.jpg", mark_points(trg, options, list(LETTERS[: len(options)])))
            choices = list(TASK_SPECS[TASK].choices[: cfg["num_choices"]])
            recs.append(
                Record(
                    id=rid,
                    task=TASK,
                    split=split,
                    images=[a, b],
                    question=format_question(TASK, choices),
                    choices=choices,
                    answer=LETTERS[pos],
                    source="spair71k",
                    meta={
                        "pair_file": p.pair_file,
                        "category": p.category,
                        "src_image": p.src_path.name,
                        "trg_image": p.trg_path.name,
                        "scale_src": s_src,
                        "scale_trg": s_trg,
                        "ref_kp_id": p.kps_ids[q],
                        "option_kp_ids": [p.kps_ids[i] for i in opt_idx],
                        "ref_point": [round(v, 2) for v in ref],
                        "options": [[round(v, 2) for v in o] for o in options],
                    },
                )
            )
            k += 1
        splits[split] = recs
    splits["test"] = test_records
    manifest = {
        "builder": TASK,
        "seed": seed,
        "params": cfg,
        "sources": list(SOURCES),
        "test_source": "BLINK Semantic_Correspondence val",
        "dropped": {"dedup_images": deduper.dropped, "pairs_below_min_keypoints": n_short},
    }
    write_built_task(out_dir, {s: splits[s] for s in ("train", "val", "test")}, staging, test_images, manifest)
    return Path(out_dir)
