"""Counting from PixMo-Count (paper Appendix A).

Train: `n_train` live PixMo-Count train images with counts in [min_count, max_count], drawn
round-robin over the counts (each count's pool shuffled with the seed) so the counts are as
uniform as the live pools allow. Val: the official validation rows whose image is still live
(paper: 534). Test: the live PixMo-Count test rows (paper: 528). Open-ended: no choices, the
answer is the integer as text. Train/val images that near-duplicate a test image are dropped
(pHash + SSIM, CLIP when `clip_model` is set); an image used in val/test is never used in train.
"""

from __future__ import annotations

import collections
import random
from pathlib import Path

from PIL import Image

from livr.data.prompts import format_question
from livr.data.registry import TASK_SPECS
from livr.data.schema import Record, write_task_dir
from livr.data.sources import pixmo_count
from livr.data.tasks.builder_utils import DEDUP_DEFAULTS, Deduper, merge_cfg
from livr.data.tasks.common import image_writer
from livr.errors import InputError

TASK = "counting"
SOURCES = TASK_SPECS[TASK].sources
DEFAULTS = {
    "n_train": 1000,  # paper: 1,000 training examples per task
    "min_count": 2,  # paper: train counts 2..10, roughly uniform
    "max_count": 10,
    "n_val": None,  # None = every live official validation row (paper: 534)
    "n_test": None,  # None = every live test row (paper: 528)
    **DEDUP_DEFAULTS,
}


def _load(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def _record(split: str, row: dict, pixmo_split: str, rel: str) -> Record:
    return Record(
        id=f"counting-{split}-{pixmo_split}-{row['row']}",
        task=TASK,
        split=split,
        images=[rel],
        question=format_question(TASK, [], object_name=row["label"]),
        choices=[],
        answer=str(int(row["count"])),
        source=f"pixmo_count:{pixmo_split}",
        meta={
            "pixmo_split": pixmo_split,
            "pixmo_row": row["row"],
            "label": row["label"],
            "count": int(row["count"]),
            "image_url": row["image_url"],
            "image_sha256": row["image_sha256"],
        },
    )


def _rel(split: str, row: dict) -> str:
    p = Path(row["image"])
    return f"images/{split}/{p.stem}{p.suffix.lower()}"


def _pick_val(raw: Path, cfg: dict, rng: random.Random, deduper: Deduper, used: set[str]) -> list[dict]:
    """Live validation rows whose image is neither a test image nor near one; `n_val` of them when set."""
    val_rows = []
    for r in pixmo_count.live_rows(raw, "validation"):
        if r["image_sha256"] in used or not deduper.ok(f"validation/{r['row']}", [lambda r=r: _load(r["image"])]):
            continue
        val_rows.append(r)
    if cfg["n_val"] is not None:
        val_rows = sorted(rng.sample(val_rows, min(cfg["n_val"], len(val_rows))), key=lambda r: r["row"])
    return val_rows


def _count_pools(raw: Path, rng: random.Random, lo: int, hi: int) -> collections.defaultdict[int, list[dict]]:
    """Live train rows with a count in [lo, hi], one pool per count, each shuffled with the seed."""
    pools = collections.defaultdict(list)
    for r in pixmo_count.live_rows(raw, "train"):
        if lo <= int(r["count"]) <= hi:
            pools[int(r["count"])].append(r)
    for c in pools:
        rng.shuffle(pools[c])
    return pools


def _pick_train(
    pools: collections.defaultdict[int, list[dict]], counts: list[int], n: int, deduper: Deduper, used: set[str]
) -> list[dict]:
    """Up to `n` rows, one per count in turn, skipping images used in val/test or near a test image."""
    train_rows = []
    while len(train_rows) < n and any(pools[c] for c in counts):
        for c in counts:
            if len(train_rows) >= n:
                break
            while pools[c]:
                r = pools[c].pop()
                if r["image_sha256"] in used:
                    continue
                if deduper.ok(f"train/{r['row']}", [lambda r=r: _load(r["image"])]):
                    used.add(r["image_sha256"])
                    train_rows.append(r)
                    break
    return train_rows


def _split_records(
    rng: random.Random, train_rows: list[dict], val_rows: list[dict], test_rows: list[dict]
) -> tuple[dict[str, Path], dict[str, list[Record]]]:
    """Each split's records (train's shuffled) and the images they use, by path in the task dir."""
    images, splits = {}, {}
    for split, rows, psplit in (
        ("train", train_rows, "train"),
        ("val", val_rows, "validation"),
        ("test", test_rows, "test"),
    ):
        recs = []
        for r in rows:
            rel = _rel(split, r)
            images[rel] = Path(r["image"])
            recs.append(_record(split, r, psplit, rel))
        rng.shuffle(recs) if split == "train" else None
        splits[split] = recs
    return images, splits


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge_cfg(DEFAULTS, cfg, TASK)
    rng = random.Random(seed)
    raw = Path(raw_root) / "pixmo_count"
    lo, hi = int(cfg["min_count"]), int(cfg["max_count"])
    if lo > hi:
        raise InputError(f"paper_data.{TASK}: min_count {lo} > max_count {hi}")

    test_rows = pixmo_count.live_rows(raw, "test")
    if cfg["n_test"] is not None:
        test_rows = sorted(rng.sample(test_rows, min(cfg["n_test"], len(test_rows))), key=lambda r: r["row"])
    deduper = Deduper((_load(r["image"]) for r in test_rows), cfg)
    used = {r["image_sha256"] for r in test_rows}

    val_rows = _pick_val(raw, cfg, rng, deduper, used)
    used |= {r["image_sha256"] for r in val_rows}

    pools = _count_pools(raw, rng, lo, hi)
    train_rows = _pick_train(pools, [c for c in range(lo, hi + 1)], cfg["n_train"], deduper, used)
    if len(train_rows) < cfg["n_train"]:
        raise InputError(
            f"{TASK}: only {len(train_rows)} usable train images with counts {lo}..{hi} (wanted "
            f"{cfg['n_train']}); raise pixmo_count train_per_count and download again"
        )

    images, splits = _split_records(rng, train_rows, val_rows, test_rows)
    dist = {
        s: dict(sorted(collections.Counter(r.answer for r in recs).items(), key=lambda kv: int(kv[0])))
        for s, recs in splits.items()
    }
    manifest = {
        "builder": f"livr.data.tasks.{TASK}",
        "task": TASK,
        "seed": seed,
        "params": cfg,
        "sources": list(SOURCES),
        "answer_distribution": dist,
        "dropped": {"near_duplicate_of_test": deduper.dropped, "n_near_duplicate_of_test": len(deduper.dropped)},
    }
    write_task_dir(out_dir, splits, manifest, image_writer(images))
    return Path(out_dir)
