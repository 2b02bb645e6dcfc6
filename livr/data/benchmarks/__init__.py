"""Training sets and evaluation-only benchmarks of the paper's comparison experiments (Table 3,
Table 4, Mirage VSP), so one cell can be trained on one set and evaluated on several benchmarks,
each with its own scorer.

- A training set is built into a task directory with train.jsonl + val.jsonl.
- A benchmark is built into a task directory with test.jsonl only; it names its scorer (how one
  response is judged, livr/data/benchmarks/scoring.py) and its aggregate (how per-subtask results
  become the table's number).

An experiment's `eval_sets` entry is a benchmark name; per benchmark:

    bm = BENCHMARKS[name]
    build_benchmark(name, raw_root, out_dir, params["paper_data"].get(name), seed)   # once
    records = read_split(out_dir, "test")
    scored = score(name, records, responses)       # responses[i] answers records[i]
    summary = summarize(name, scored)              # {"accuracy", "n", "subtasks", extra metrics}

Training a cell on `TRAINING_SETS[t]` uses `build_training_set`; each record's meta["target"] is
the text to train on (a letter, the option text for option-text benchmarks, or free text).
`paper_data.<name>` keys are checked against the builder's defaults (`defaults(name)`).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections import defaultdict
from pathlib import Path

from livr.data.benchmarks import scoring
from livr.data.schema import Record
from livr.errors import InputError


@dataclasses.dataclass(frozen=True)
class TrainingSet:
    name: str
    sources: tuple[str, ...]
    builder: str          # "module:function" with (raw_root, out_dir, cfg, seed)
    defaults: str         # "module:CONSTANT", the builder's parameters
    paper: str            # what the paper trains on it


@dataclasses.dataclass(frozen=True)
class Benchmark:
    name: str
    sources: tuple[str, ...]
    builder: str
    defaults: str
    scorer: str           # a key of scoring.SCORERS
    aggregate: str        # a key of scoring.AGGREGATES, over meta["subtask"] (one subtask when absent)
    paper_column: str     # the column the paper reports it in
    extra_metrics: tuple[str, ...] = ()
    task: str = ""        # the records' `task` when it is not the benchmark's name

    def __post_init__(self):
        if not self.task:
            object.__setattr__(self, "task", self.name)


_M = "livr.data.benchmarks."
TRAINING_SETS = {
    "sat32k": TrainingSet("sat32k", ("vigorl",), _M + "sat:build_train", _M + "sat:TRAIN_DEFAULTS",
                          "Table 3: Qwen2.5-VL-3B on ViGoRL's SAT-32k"),
    "viscot": TrainingSet("viscot", ("visual_cot",), _M + "visual_cot:build", _M + "visual_cot:DEFAULTS",
                          "Table 4: Qwen2.5-VL-7B on LVR's Visual-CoT training set"),
    "mirage_vsp": TrainingSet("mirage_vsp", ("mirage",), _M + "mirage_vsp:build_train",
                              _M + "mirage_vsp:TRAIN_DEFAULTS", "Mirage comparison: VSP spatial planning"),
}
BENCHMARKS = {
    "sat_val": Benchmark("sat_val", ("vigorl",), _M + "sat:build_test", _M + "sat:TEST_DEFAULTS",
                         "vigorl_option_text", "micro", "SAT Val"),
    "blink3": Benchmark("blink3", ("blink",), _M + "blink_subsets:build_blink3", _M + "blink_subsets:BLINK3_DEFAULTS",
                        "vigorl_option_text", "mean_of_subtasks", "BLINK-3"),
    "robospatial_home": Benchmark("robospatial_home", ("robospatial_home",), _M + "robospatial_home:build",
                                  _M + "robospatial_home:DEFAULTS", "vigorl_option_text", "micro", "RoboSpatial"),
    "mmvp": Benchmark("mmvp", ("mmvp",), _M + "mmvp:build", _M + "mmvp:DEFAULTS", "lvr_letter", "micro", "MMVP",
                      extra_metrics=("pair_accuracy",)),
    "vstar": Benchmark("vstar", ("vstar",), _M + "vstar:build", _M + "vstar:DEFAULTS", "lvr_letter", "micro", "V*"),
    "blink5": Benchmark("blink5", ("blink",), _M + "blink_subsets:build_blink5", _M + "blink_subsets:BLINK5_DEFAULTS",
                        "lvr_letter", "size_weighted", "BLINK-5"),
    "mirage_vsp_test": Benchmark("mirage_vsp_test", ("mirage",), _M + "mirage_vsp:build_test",
                                 _M + "mirage_vsp:TEST_DEFAULTS", "mirage_vsp", "micro", "VSP", task="mirage_vsp"),
}


def _resolve(ref: str):
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def entry(name: str, registry: dict, kind: str):
    if name not in registry:
        raise InputError(f"unknown {kind} {name!r}; valid {kind}s: {', '.join(registry)}")
    return registry[name]


def defaults(name: str, kind: str = "benchmark") -> dict:
    reg = BENCHMARKS if kind == "benchmark" else TRAINING_SETS
    return dict(_resolve(entry(name, reg, kind).defaults))


def build_benchmark(name: str, raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    return _resolve(entry(name, BENCHMARKS, "benchmark").builder)(raw_root, out_dir, cfg, seed)


def build_training_set(name: str, raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    return _resolve(entry(name, TRAINING_SETS, "training set").builder)(raw_root, out_dir, cfg, seed)


def score(name: str, records: list[Record], responses: list[str]) -> list[dict]:
    """One row per record: id, subtask, correct, parsed (what the scorer read)."""
    bm = entry(name, BENCHMARKS, "benchmark")
    if len(records) != len(responses):
        raise InputError(f"{name}: {len(records)} records but {len(responses)} responses")
    rule = scoring.SCORERS[bm.scorer]
    out = []
    for rec, resp in zip(records, responses):
        if rec.task != bm.task:
            raise InputError(f"{name}: record {rec.id} is of task {rec.task!r}, not {bm.task!r}")
        ok, parsed = rule(resp, rec)
        out.append({"id": rec.id, "subtask": rec.meta.get("subtask", name), "correct": bool(ok), "parsed": parsed,
                    "meta": rec.meta})
    return out


def per_subtask(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """subtask -> (correct, n) over scored or prediction rows."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        counts[row["subtask"]][0] += row["correct"]
        counts[row["subtask"]][1] += 1
    return {s: (k, n) for s, (k, n) in counts.items()}


def summarize(name: str, scored: list[dict]) -> dict:
    """The benchmark's number (percent) by its aggregate, per-subtask accuracies, extra metrics."""
    bm = entry(name, BENCHMARKS, "benchmark")
    per = per_subtask(scored)
    out = {"benchmark": name, "n": sum(n for _, n in per.values()),
           "accuracy": scoring.AGGREGATES[bm.aggregate](per),
           "subtasks": {s: 100.0 * k / n for s, (k, n) in sorted(per.items())}}
    if "pair_accuracy" in bm.extra_metrics:
        out["pair_accuracy"] = scoring.pair_accuracy({row["meta"]["mmvp_index"]: row["correct"] for row in scored})
    return out
