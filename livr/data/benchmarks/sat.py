"""SAT-2 as ViGoRL released it (Table 3): the training set `sat32k` (ViGoRL's train file, with our
own validation rows carved from it) and the benchmark `sat_val`, the paper's "SAT Val": ViGoRL's
spatial_reasoning/sat2_test/sat2_test.jsonl, the file ViGoRL's own evaluation scores
(scripts/evaluation/eval_spatial.sh). Table 3's other rows are ViGoRL's numbers, so ours is scored
on the same rows; vigorl_sat2_val_RL.jsonl (the "1k val sampled by ViGoRL") is the set its GRPO
run validates on during training (src/trainer/rl/examples/run_vigorl.sh), not a reported one.
ViGoRL's rows carry no reasoning chains or intermediate images; the question keeps ViGoRL's
wording and the training target is the option's text, which ViGoRL's scorer
(`vigorl_option_text`) checks."""

from __future__ import annotations

from pathlib import Path

from livr.data.benchmarks.records import Collector, carve, letter_of, merge, subsample
from livr.data.schema import Record
from livr.data.sources import vigorl

TRAIN_DEFAULTS = {
    "train_file": "spatial_reasoning/vigorl_sat2_train_RL.jsonl",  # ViGoRL's SAT-32k train rows
    "n_train": None,  # None = every row of the file (paper: 32k)
    "n_val": 500,  # NOT SPECIFIED: our checkpoint-selection rows, carved from the train file
}
TEST_DEFAULTS = {
    "file": "spatial_reasoning/sat2_test/sat2_test.jsonl",  # what ViGoRL's evaluation scores = "SAT Val"
    "n_test": None,  # None = all
}


def _record(task: str, split: str, row: dict, file: str) -> tuple[Record, list[Path]]:
    where = f"{file} row {row['row']}"
    rec = Record(
        id=f"{task}-{split}-{row['row']}",
        task=task,
        split=split,
        images=[],
        question=row["prompt"],
        choices=row["choices"],
        answer=letter_of(row["choices"], row["answer_text"], where),
        source=f"vigorl:{file}",
        meta={"vigorl_row": row["row"], "vigorl_id": row["id"], "target": row["answer_text"]},
    )
    return rec, row["images"]


def build_train(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(TRAIN_DEFAULTS, cfg, "sat32k")
    rows = vigorl.read_rows(Path(raw_root) / "vigorl", cfg["train_file"])
    train, val = carve(rows, cfg["n_val"], cfg["n_train"], seed, "sat32k")
    col = Collector()
    for split, part in (("train", train), ("val", val)):
        for row in part:
            col.add(*_record("sat32k", split, row, cfg["train_file"]))
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.sat.build_train",
            "task": "sat32k",
            "seed": seed,
            "params": cfg,
            "sources": ["vigorl"],
            "source_rows": len(rows),
        },
    )


def build_test(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(TEST_DEFAULTS, cfg, "sat_val")
    rows = subsample(vigorl.read_rows(Path(raw_root) / "vigorl", cfg["file"]), cfg["n_test"], seed)
    col = Collector()
    for row in rows:
        col.add(*_record("sat_val", "test", row, cfg["file"]))
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.sat.build_test",
            "task": "sat_val",
            "seed": seed,
            "params": cfg,
            "sources": ["vigorl"],
        },
    )
