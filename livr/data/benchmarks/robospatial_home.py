"""RoboSpatial-Home configuration + compatibility (Table 3: 228 yes/no questions). The question is
the benchmark's own text; choices are ["yes", "no"] (not listed in the question: the benchmark asks
for a yes/no answer), the target is the gold word, and ViGoRL's option-text rule scores it."""

from __future__ import annotations

from pathlib import Path

from livr.data.benchmarks.records import Collector, letter_of, merge
from livr.data.schema import Record
from livr.data.sources import robospatial_home

DEFAULTS = {"splits": ["configuration", "compatibility"]}
CHOICES = ["yes", "no"]


def build(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(DEFAULTS, cfg, "robospatial_home")
    raw = Path(raw_root) / "robospatial_home"
    col, sizes = Collector(), {}
    for split in cfg["splits"]:
        rows = robospatial_home.read_rows(raw, split)
        sizes[split] = len(rows)
        for r in rows:
            gold = r["answer"].strip().lower()
            col.add(
                Record(
                    id=f"robospatial_home-{split}-{r['row']}",
                    task="robospatial_home",
                    split="test",
                    images=[],
                    question=r["question"],
                    choices=list(CHOICES),
                    answer=letter_of(CHOICES, gold, f"{raw}/rows/{split}.jsonl row {r['row']}"),
                    source=f"robospatial_home:{split}",
                    meta={"subtask": split, "target": gold, "choices_in_question": False},
                ),
                [r["image"]],
            )
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.robospatial_home.build",
            "task": "robospatial_home",
            "seed": seed,
            "params": cfg,
            "sources": ["robospatial_home"],
            "subtask_sizes": sizes,
        },
    )
