"""Art style from ArtBench-10 (paper Appendix A).

Train and val come from the ArtBench-10 256x256 train split (disjoint images; no image is used
twice). Reference styles are balanced over the ten styles; the positive shares the reference
style, the negative has another style (uniform over the other nine). Images: 1 = reference,
2 and 3 = the two candidates in random (seeded, letter-balanced) order; 2-way. Test = BLINK
Art_Style val; train/val images that near-duplicate a test image are skipped.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import LETTERS, Record
from livr.data.sources import artbench
from livr.data.tasks.marks import (
    DEDUP_DEFAULTS,
    Staging,
    TestDeduper,
    balanced_letters,
    blink_test,
    merge_cfg,
    write_built_task,
)
from livr.errors import InputError

TASK = "art_style"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,
    "n_val": 250,
    "source_split": "train",  # ArtBench-10 split the examples are drawn from
    **DEDUP_DEFAULTS,
}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    by_style = artbench.list_images(Path(raw_root) / "artbench10", cfg["source_split"])
    styles = sorted(s for s, v in by_style.items() if v)
    if len(styles) < 2:
        raise InputError(f"{TASK}: need at least two styles with images, found {styles}")
    pools = {s: list(v) for s, v in by_style.items()}
    for s in pools:
        rng.shuffle(pools[s])
    test_records, test_images = blink_test(raw_root, TASK)
    deduper = TestDeduper(test_images.values(), cfg)

    def take(style: str) -> Path:
        pool = pools[style]
        while pool:
            p = pool.pop()
            if deduper.ok(str(p.relative_to(p.parents[1])), lambda p=p: Image.open(p).convert("RGB")):
                return p
        raise InputError(f"{TASK}: ran out of usable {style!r} images")

    staging = Staging(out_dir)
    splits = {}
    for split in ("train", "val"):
        n = cfg[f"n_{split}"]
        ref_styles = [styles[i % len(styles)] for i in range(n)]
        rng.shuffle(ref_styles)
        letters = balanced_letters(rng, n, 2)
        recs = []
        for k, (style, pos) in enumerate(zip(ref_styles, letters)):
            neg_style = rng.choice([s for s in styles if s != style])
            ref, posi, neg = take(style), take(style), take(neg_style)
            cands = [neg]
            cands.insert(pos, posi)
            rid = f"{TASK}-{split}-{k:05d}"
            rels = [
                staging.add(f"images/{split}/{rid}_{m + 1}.jpg", Image.open(p).convert("RGB"))
                for m, p in enumerate([ref, *cands])
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
                    source="artbench10",
                    meta={
                        "reference": {"style": style, "file": ref.name},
                        "positive": {"style": style, "file": posi.name, "shown_as_image": 2 + pos},
                        "negative": {"style": neg_style, "file": neg.name, "shown_as_image": 3 - pos},
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
        "test_source": "BLINK Art_Style val",
        "dropped": {"dedup_images": deduper.dropped},
    }
    write_built_task(out_dir, splits, staging, test_images, manifest)
    return Path(out_dir)
