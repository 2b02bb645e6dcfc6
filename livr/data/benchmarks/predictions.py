"""The per-example prediction rows of a benchmark cell: what `livr evaluate` writes when the test
set is an evaluation-only benchmark, in the per-cell file format (docs/ARCHITECTURE.md), judged by
the benchmark's own scorer (`score`) instead of livr/answers.py.

- `parsed`: what the scorer read from the response; None when it read nothing (an empty answer,
  no "\\boxed{...}" plan), so unparsable answers are counted as for the nine tasks.
- `parse_method`: the scorer's name ("unparsable" when parsed is None).
- `gold`: the record's meta["target"], the text the scorer compares with (an option's text, a
  letter, Mirage's reference plan; Mirage's verdict comes from simulating the plan on the map).
- `subtask`: what `summarize` groups by (the record's meta["subtask"], else the benchmark's name);
  `pair`: MMVP's question pair (meta["pair"]), None elsewhere. The results database aggregates
  with these (livr/results/schema.sql, view `eval_set_metrics`).
"""

from __future__ import annotations

from livr.answers import UNPARSABLE
from livr.data.benchmarks import BENCHMARKS, entry, per_subtask, score
from livr.data.benchmarks.scoring import AGGREGATES, vigorl_match
from livr.data.schema import Record


def prediction_rows(name: str, records: list[Record], responses: list[str]) -> list[dict]:
    bm = BENCHMARKS[name]
    rows = []
    for rec, raw, s in zip(records, responses, score(name, records, responses)):
        parsed = s["parsed"]
        if parsed == "" or (bm.scorer == "mirage_vsp" and parsed == "None"):  # the scorer found nothing
            parsed = None
        rows.append(
            {
                "id": rec.id,
                "task": name,
                "raw_output": raw,
                "parsed": parsed,
                "parse_method": bm.scorer if parsed is not None else UNPARSABLE,
                "gold": rec.meta.get("target", rec.answer),
                "correct": s["correct"],
                "subtask": s["subtask"],
                "pair": rec.meta.get("pair"),
            }
        )
    return rows


def benchmark_accuracy(name: str, rows: list[dict]) -> float:
    """The benchmark's number (percent) by its aggregate over the rows' subtasks."""
    return AGGREGATES[BENCHMARKS[name].aggregate](per_subtask(rows))


def recheck(name: str, parsed: str | None, gold: str) -> bool | None:
    """The scorer's verdict recomputed from a prediction row alone (what `livr collect` checks each
    row's `correct` against); None where the verdict needs the record itself (Mirage's map)."""
    scorer = entry(name, BENCHMARKS, "benchmark").scorer
    if scorer == "mirage_vsp":
        return None
    if parsed is None:
        return False
    if scorer == "vigorl_option_text":
        return vigorl_match(parsed, gold)
    return parsed == gold  # the letter rules (lvr_letter, blink_letter)
