"""V* Bench (Table 4): 191 questions (115 direct_attributes + 76 relative_position) in LVR's
wording, scored by LVR's letter rule; meta["subtask"] is the V* category."""

from __future__ import annotations

from pathlib import Path

from livr.data.benchmarks.prompts import lvr_vstar
from livr.data.benchmarks.records import Collector, merge, safe_id
from livr.data.schema import Record
from livr.data.sources import vstar

DEFAULTS: dict = {}


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(DEFAULTS, cfg, "vstar")
    col, sizes = Collector(), {}
    for r in vstar.read_questions(Path(raw_root) / "vstar"):
        sizes[r["category"]] = sizes.get(r["category"], 0) + 1
        col.add(
            Record(
                id=f"vstar-{safe_id(r['question_id'])}",
                task="vstar",
                split="test",
                images=[],
                question=lvr_vstar(r["text"]),
                choices=r["choices"],
                answer=r["label"],
                source="vstar:test_questions.jsonl",
                meta={"subtask": r["category"], "vstar_question_id": r["question_id"], "target": r["label"]},
            ),
            [r["image_path"]],
        )
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.vstar.build",
            "task": "vstar",
            "seed": seed,
            "params": cfg,
            "sources": ["vstar"],
            "subtask_sizes": sizes,
        },
    )
