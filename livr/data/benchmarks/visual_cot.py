"""LVR's Visual-CoT training set (Table 4) with the latent/CoT part removed: the question as LVR
words it and its short answer as the target (free text). Each record keeps LVR's box(es) in its
`boxes` field (fractions of the image, livr/data/schema.py), which only LVR trains on. Train and
our own validation rows are carved from the downloaded subset (sources.visual_cot.subset_size)."""

from __future__ import annotations

from pathlib import Path

from livr.data.benchmarks.records import Collector, carve, merge, safe_id
from livr.data.schema import Record
from livr.data.sources import visual_cot
from livr.errors import InputError

DEFAULTS = {
    "n_train": None,  # None = every downloaded row not used for val
    "n_val": 250,  # NOT SPECIFIED: checkpoint-selection rows carved from the training data
}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(DEFAULTS, cfg, "viscot")
    raw = Path(raw_root) / "visual_cot"
    rows = visual_cot.read_rows(raw)
    if rows and "boxes" not in rows[0]:
        raise InputError(
            f"{raw}: rows/train.jsonl was written by an older download that dropped LVR's boxes; "
            f"delete {raw}/manifest.json and {raw}/rows, then rerun `livr data download --source visual_cot`"
        )
    train, val = carve(rows, cfg["n_val"], cfg["n_train"], seed, "viscot")
    col = Collector()
    for split, part in (("train", train), ("val", val)):
        for r in part:
            col.add(
                Record(
                    id=f"viscot-{split}-{safe_id(r['id'])}",
                    task="viscot",
                    split=split,
                    images=[],
                    question=r["question"],
                    choices=[],
                    answer=r["answer"],
                    source=f"visual_cot:{r['dataset']}",
                    meta={"lvr_id": r["id"], "target": r["answer"]},
                    boxes=r["boxes"],
                ),
                r["images"],
            )
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.visual_cot.build",
            "task": "viscot",
            "seed": seed,
            "params": cfg,
            "sources": ["visual_cot"],
            "source_rows": len(rows),
        },
    )
