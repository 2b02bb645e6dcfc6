"""The build shared by the two COCO 2017 tasks (jigsaw, localization): train from one COCO
split, val from another, BLINK val as test, train/val de-duplicated against the test images."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable

from livr.data.schema import write_task_dir
from livr.data.sources import blink, coco
from livr.data.tasks.builder_utils import Deduper, Staging, letter_balance
from livr.data.tasks.common import image_writer
from livr.errors import InputError

# examples(split, instances, n, cfg, rng, deduper, staging) -> (records, skipped counts)
ExamplesFn = Callable[..., tuple[list, dict]]


def build_from_coco(
    task: str, sources: tuple[str, ...], examples: ExamplesFn, raw_root, out_dir, cfg: dict, seed: int
) -> Path:
    if cfg["train_split"] == cfg["val_split"]:
        raise InputError(f"paper_data.{task}: train_split and val_split must differ (disjoint source images)")
    rng = random.Random(seed)
    raw = Path(raw_root) / "coco2017"
    test_recs, test_images = blink.test_records(raw_root, task)
    deduper = Deduper(test_images.values(), cfg)
    splits, skipped = {}, {}
    with Staging(out_dir) as staged:
        for split in ("train", "val"):
            inst = coco.load_instances(raw, cfg[f"{split}_split"])
            splits[split], skipped[split] = examples(split, inst, cfg[f"n_{split}"], cfg, rng, deduper, staged)
            del inst  # the train2017 annotations take GBs
        splits["test"] = test_recs
        manifest = {
            "builder": f"livr.data.tasks.{task}",
            "task": task,
            "seed": seed,
            "params": cfg,
            "sources": list(sources),
            "answer_balance": {s: letter_balance(r) for s, r in splits.items()},
            "skipped": skipped,
            "dropped": {"near_duplicate_of_test": deduper.dropped, "n_near_duplicate_of_test": len(deduper.dropped)},
        }
        write_task_dir(out_dir, splits, manifest, image_writer({**test_images, **staged.files}))
    return Path(out_dir)
