"""Visual similarity from NIGHTS (DreamSim) triplets with human votes (paper Appendix A).

An example shows the reference (image 1) and the triplet's two distortions (images 2 and 3, in
random, seeded, letter-balanced order); the answer is the distortion the human vote majority
found closer to the reference. Ties are skipped; triplets with fewer than `min_votes` agreeing
votes are skipped (DreamSim's own filter). Train from NIGHTS `train`, val from NIGHTS `val`.
2-way. Test = BLINK Visual_Similarity val; near-duplicates of test images are skipped.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, Record
from livr.data.sources import nights
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS,
    Staging,
    TestDeduper,
    balanced_letters,
    blink_test,
    merge_cfg,
    resize_max_side,
    write_built_task,
)
from livr.errors import InputError

TASK = "visual_similarity"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,
    "n_val": 250,
    "train_source_split": "train",  # NIGHTS split for our train
    "val_source_split": "val",  # NIGHTS split for our val
    "min_votes": 6,  # DreamSim keeps triplets with >= 6 agreeing votes
    "max_side": 512,
    **DEDUP_DEFAULTS,
}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    triplets, _ = nights.read_triplets(Path(raw_root) / "nights")
    test_records, test_images = blink_test(raw_root, TASK)
    deduper = TestDeduper(test_images.values(), cfg)
    skipped = {"tie": 0, "few_votes": 0}
    staging = Staging(out_dir)
    splits = {}
    for split in ("train", "val"):
        pool = [t for t in triplets if t.split == cfg[f"{split}_source_split"]]
        rng.shuffle(pool)
        n = cfg[f"n_{split}"]
        letters = balanced_letters(rng, n, 2)
        recs = []
        while len(recs) < n:
            if not pool:
                raise InputError(
                    f"{TASK}: ran out of NIGHTS {cfg[f'{split}_source_split']!r} triplets after {len(recs)}"
                )
            t = pool.pop()
            if t.votes < cfg["min_votes"]:
                skipped["few_votes"] += 1
                continue
            if t.majority is None:
                skipped["tie"] += 1
                continue
            paths = {"ref": t.ref, "left": t.left, "right": t.right}
            if not all(deduper.ok(f"{t.id}/{k}", lambda p=p: Image.open(p).convert("RGB")) for k, p in paths.items()):
                continue
            k = len(recs)
            pos = letters[k]
            closer = t.majority
            other = "right" if closer == "left" else "left"
            shown = [other]
            shown.insert(pos, closer)
            rid = f"{TASK}-{split}-{k:05d}"
            rels = [
                staging.add(
                    f"images/{split}/{rid}_{m + 1}.png", resize_max_side(Image.open(paths[name]), cfg["max_side"])[0]
                )
                for m, name in enumerate(["ref", *shown])
            ]
            choices = list(TASK_SPECS[TASK].choices)
            recs.append(
                Record(
                    id=rid,
                    task=TASK,
                    split=split,
                    images=rels,
                    question=format_question(TASK, choices),
                    choices=choices,
                    answer=LETTERS[pos],
                    source="nights",
                    meta={
                        "nights_id": t.id,
                        "nights_split": t.split,
                        "left_vote": t.left_vote,
                        "right_vote": t.right_vote,
                        "votes": t.votes,
                        "majority": closer,
                        "shown_order": shown,
                        "prompt": t.prompt,
                    },
                )
            )
        splits[split] = recs
    splits["test"] = test_records
    manifest = {
        "builder": TASK,
        "seed": seed,
        "params": cfg,
        "sources": list(SOURCES),
        "test_source": "BLINK Visual_Similarity val",
        "dropped": {"dedup_images": deduper.dropped, "skipped_triplets": skipped},
    }
    write_built_task(out_dir, splits, staging, test_images, manifest)
    return Path(out_dir)
