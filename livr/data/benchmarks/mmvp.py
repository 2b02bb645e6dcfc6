"""MMVP (Table 4): 300 questions in LVR's wording, scored per question by LVR's letter rule;
meta["pair"] (1..150) lets the per-pair accuracy be reported beside it."""

from __future__ import annotations

from pathlib import Path

from livr.data.benchmarks.prompts import lvr_mmvp
from livr.data.benchmarks.records import Collector, merge
from livr.data.schema import Record
from livr.data.sources import mmvp

DEFAULTS: dict = {}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(DEFAULTS, cfg, "mmvp")
    col = Collector()
    for r in mmvp.read_questions(Path(raw_root) / "mmvp"):
        col.add(
            Record(
                id=f"mmvp-{r['index']}",
                task="mmvp",
                split="test",
                images=[],
                question=lvr_mmvp(r["question"], r["options"]),
                choices=r["choices"],
                answer=r["answer"],
                source="mmvp:Questions.csv",
                meta={"mmvp_index": r["index"], "pair": (r["index"] + 1) // 2, "target": r["answer"]},
            ),
            [r["image"]],
        )
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.mmvp.build",
            "task": "mmvp",
            "seed": seed,
            "params": cfg,
            "sources": ["mmvp"],
        },
    )
