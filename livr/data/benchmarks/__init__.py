"""Training sets and evaluation-only benchmarks of the paper's comparison experiments (Table 3,
Table 4, Mirage VSP), so one cell can be trained on one set and evaluated on several benchmarks,
each with its own scorer. Each one's facts are in its spec, livr/data/specs/comparison/<name>.py.

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

from collections import defaultdict
from pathlib import Path

from livr.data.benchmarks import scoring
from livr.data.registry import BENCHMARKS, TRAINING_SETS
from livr.data.schema import Record
from livr.data.specs import resolve
from livr.errors import InputError

__all__ = [
    "BENCHMARKS",
    "TRAINING_SETS",
    "build_benchmark",
    "build_training_set",
    "defaults",
    "entry",
    "per_subtask",
    "score",
    "summarize",
]


def entry(name: str, registry: dict, kind: str):
    if name not in registry:
        raise InputError(f"unknown {kind} {name!r}; valid {kind}s: {', '.join(registry)}")
    return registry[name]


def defaults(name: str, kind: str = "benchmark") -> dict:
    reg = BENCHMARKS if kind == "benchmark" else TRAINING_SETS
    return dict(resolve(entry(name, reg, kind).defaults))


def build_benchmark(name: str, raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    return resolve(entry(name, BENCHMARKS, "benchmark").builder)(raw_root, out_dir, cfg, seed)


def build_training_set(name: str, raw_root, out_dir, cfg: dict | None, seed: int) -> Path:
    return resolve(entry(name, TRAINING_SETS, "training set").builder)(raw_root, out_dir, cfg, seed)


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
        out.append(
            {
                "id": rec.id,
                "subtask": rec.meta.get("subtask", name),
                "correct": bool(ok),
                "parsed": parsed,
                "meta": rec.meta,
            }
        )
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
    out = {
        "benchmark": name,
        "n": sum(n for _, n in per.values()),
        "accuracy": scoring.AGGREGATES[bm.aggregate](per),
        "subtasks": {s: 100.0 * k / n for s, (k, n) in sorted(per.items())},
    }
    if "pair_accuracy" in bm.extra_metrics:
        out["pair_accuracy"] = scoring.pair_accuracy({row["meta"]["mmvp_index"]: row["correct"] for row in scored})
    return out
