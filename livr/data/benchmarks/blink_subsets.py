"""BLINK subsets of the comparison tables, from the BLINK source's `val` split (answers given):
BLINK-3 (Table 3, ViGoRL's: Relative_Depth, Multi-view_Reasoning, Spatial_Relation; reported as
the mean of the three subtask accuracies; scored by option text) and BLINK-5 (Table 4, LVR's:
Counting, IQ_Test, Jigsaw, Relative_Reflectance, Spatial_Relation; 697 items pooled; scored by
LVR's letter rule). Each record's meta["subtask"] names its BLINK config. The `blink` source must
have downloaded these configs (params.yaml sources.blink.configs)."""

from __future__ import annotations

from pathlib import Path

from livr.data.benchmarks.prompts import STYLES
from livr.data.benchmarks.records import Collector, merge, safe_id, subsample
from livr.data.schema import LETTERS, Record
from livr.data.sources import blink
from livr.errors import InputError

BLINK3_DEFAULTS = {
    "configs": ["Relative_Depth", "Multi-view_Reasoning", "Spatial_Relation"],
    "prompt": "vigorl",  # ViGoRL's question form; the target is the option text
    "n_per_subtask": None,  # None = the whole val split of each subtask
}
BLINK5_DEFAULTS = {
    "configs": ["Counting", "IQ_Test", "Jigsaw", "Relative_Reflectance", "Spatial_Relation"],
    "prompt": "lvr",  # LVR's question form; the target is the letter
    "n_per_subtask": None,
}


def _build(name: str, defaults: dict, raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(defaults, cfg, name)
    if cfg["prompt"] not in STYLES:
        raise InputError(f"paper_data.{name}.prompt is {cfg['prompt']!r}; valid: {', '.join(STYLES)}")
    render = STYLES[cfg["prompt"]]
    raw = Path(raw_root) / "blink"
    col, sizes = Collector(), {}
    for config in cfg["configs"]:
        rows = subsample(blink.read_rows(raw, config, "val"), cfg["n_per_subtask"], seed)
        sizes[config] = len(rows)
        for i, row in enumerate(rows):
            where = f"{row['_file']} row {i}"
            choices = list(row["choices"] or [])
            answer = blink.answer_letter(row["answer"], len(choices), where)
            images = [row[k] for k in blink.IMAGE_KEYS if row.get(k) is not None]
            if not images:
                raise InputError(f"{where}: no images")
            target = choices[LETTERS.index(answer)] if cfg["prompt"] == "vigorl" else answer
            col.add(
                Record(
                    id=f"{name}-{config}-{safe_id(row['idx'])}",
                    task=name,
                    split="test",
                    images=[],
                    question=render(row["question"], choices),
                    choices=choices,
                    answer=answer,
                    source=f"blink:{config}/val",
                    meta={"subtask": config, "blink_idx": str(row["idx"]), "target": target},
                ),
                images,
            )
    return col.write(
        out_dir,
        {
            "builder": f"livr.data.benchmarks.blink_subsets.build_{name}",
            "task": name,
            "seed": seed,
            "params": cfg,
            "sources": ["blink"],
            "subtask_sizes": sizes,
        },
    )


def build_blink3(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    return _build("blink3", BLINK3_DEFAULTS, raw_root, out_dir, cfg, seed)


def build_blink5(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    return _build("blink5", BLINK5_DEFAULTS, raw_root, out_dir, cfg, seed)
