"""BLINK subsets of the comparison tables.

- BLINK-3 (Table 3, ViGoRL's: Relative_Depth, Multi-view_Reasoning, Spatial_Relation val; reported
  as the mean of the three subtask accuracies; scored by option text) is built from ViGoRL's own
  evaluation file `spatial_reasoning/blink/blink_validation.jsonl` (in the spatial_reasoning.tar
  the `vigorl` source downloads; ViGoRL's scripts/evaluation/eval_spatial.sh, eval_type "blink"):
  its prompt, its image(s) and its gold option text, exactly what ViGoRL's numbers were scored
  on. ViGoRL's loader (src/vlmsearch/datasets/data_loader.py) reads {id, image, conversations:
  [human prompt, gpt answer]} and nothing else, so a row's BLINK subtask is found by joining it
  to the `blink` source's val rows: by its id when that is a BLINK idx ("val_Relative_Depth_1"),
  else by its question and choice texts (case and spacing ignored). Relative_Depth's questions
  are all alike, so such a row gets its subtask but no single BLINK idx (meta blink_idx null).
  Rows of other BLINK subtasks are left out and counted in the manifest.
- BLINK-5 (Table 4, LVR's: Counting, IQ_Test, Jigsaw, Relative_Reflectance, Spatial_Relation;
  697 items pooled; scored by LVR's letter rule) from the `blink` source's val rows, worded by
  `prompt` (livr/data/benchmarks/prompts.py).

Each record's meta["subtask"] names its BLINK config. The `blink` source must have downloaded
these configs (params.yaml sources.blink.configs)."""

from __future__ import annotations

from pathlib import Path

from livr.data.benchmarks.prompts import STYLES
from livr.data.benchmarks.records import Collector, letter_of, merge, safe_id, subsample
from livr.data.schema import LETTERS, Record
from livr.data.sources import blink, vigorl
from livr.errors import InputError

BLINK3_DEFAULTS = {
    "file": "spatial_reasoning/blink/blink_validation.jsonl",  # ViGoRL's BLINK rows (its prompt and images)
    "configs": ["Relative_Depth", "Multi-view_Reasoning", "Spatial_Relation"],
    "n_per_subtask": None,  # None = every row of each subtask
}
BLINK5_DEFAULTS = {
    "configs": ["Counting", "IQ_Test", "Jigsaw", "Relative_Reflectance", "Spatial_Relation"],
    "prompt": "lvr",  # LVR's question form; the target is the letter
    "n_per_subtask": None,
}


def _norm(text: str) -> str:
    return " ".join(str(text).lower().split())


def _text_key(question: str, choices: list[str]) -> tuple:
    return _norm(question), tuple(_norm(c) for c in choices)


def blink_index(raw_blink: Path, configs: list[str]) -> tuple[dict, dict]:
    """(BLINK idx -> config, (question, choices) text key -> {config: [idx, ...]}) over the val rows."""
    by_idx, by_text = {}, {}
    for config in configs:
        for row in blink.read_rows(raw_blink, config, "val", decode=False):
            by_idx[str(row["idx"])] = config
            key = _text_key(row["question"], list(row["choices"] or []))
            by_text.setdefault(key, {}).setdefault(config, []).append(str(row["idx"]))
    return by_idx, by_text


def match_subtask(row: dict, by_idx: dict, by_text: dict, where: str) -> tuple[str, str | None] | None:
    """(config, BLINK idx or None when the text fits several rows) of one ViGoRL row; None when
    it belongs to none of the configs."""
    if row["id"] in by_idx:
        return by_idx[row["id"]], row["id"]
    found = by_text.get(_text_key(row["question"], row["choices"]))
    if not found:
        return None
    if len(found) > 1:
        raise InputError(
            f"{where}: question {row['question']!r} with choices {row['choices']} fits BLINK rows of several "
            f"subtasks ({', '.join(sorted(found))}); its subtask cannot be told"
        )
    ((config, idxs),) = found.items()
    return config, idxs[0] if len(idxs) == 1 else None


def build_blink3(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(BLINK3_DEFAULTS, cfg, "blink3")
    raw_root = Path(raw_root)
    rows = vigorl.read_rows(raw_root / "vigorl", cfg["file"])
    by_idx, by_text = blink_index(raw_root / "blink", cfg["configs"])
    per: dict[str, list] = {c: [] for c in cfg["configs"]}
    left_out = 0
    for row in rows:
        where = f"{cfg['file']} row {row['row']}"
        found = match_subtask(row, by_idx, by_text, where)
        if found is None:
            left_out += 1
            continue
        per[found[0]].append((row, found[1], where))
    empty = [c for c, got in per.items() if not got]
    if empty:
        raise InputError(
            f"{raw_root / 'vigorl'}: no row of {cfg['file']} matches a BLINK val row of {', '.join(empty)} "
            f"(by id or by question and choices; {left_out} of {len(rows)} rows matched none of {cfg['configs']})"
        )
    col, sizes = Collector(), {}
    for config, got in per.items():
        got = subsample(got, cfg["n_per_subtask"], seed)
        sizes[config] = len(got)
        for row, idx, where in got:
            col.add(
                Record(
                    id=f"blink3-{config}-{safe_id(row['id'])}",
                    task="blink3",
                    split="test",
                    images=[],
                    question=row["prompt"],
                    choices=row["choices"],
                    answer=letter_of(row["choices"], row["answer_text"], where),
                    source=f"vigorl:{cfg['file']}",
                    meta={
                        "subtask": config,
                        "blink_idx": idx,
                        "vigorl_id": row["id"],
                        "vigorl_row": row["row"],
                        "target": row["answer_text"],
                    },
                ),
                row["images"],
            )
    return col.write(
        out_dir,
        {
            "builder": "livr.data.benchmarks.blink_subsets.build_blink3",
            "task": "blink3",
            "seed": seed,
            "params": cfg,
            "sources": ["vigorl", "blink"],
            "subtask_sizes": sizes,
            "rows_of_other_subtasks": left_out,
        },
    )


def build_blink5(raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    cfg = merge(BLINK5_DEFAULTS, cfg, "blink5")
    if cfg["prompt"] not in STYLES:
        raise InputError(f"paper_data.blink5.prompt is {cfg['prompt']!r}; valid: {', '.join(STYLES)}")
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
                    id=f"blink5-{config}-{safe_id(row['idx'])}",
                    task="blink5",
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
            "builder": "livr.data.benchmarks.blink_subsets.build_blink5",
            "task": "blink5",
            "seed": seed,
            "params": cfg,
            "sources": ["blink"],
            "subtask_sizes": sizes,
        },
    )
