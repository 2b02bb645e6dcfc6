"""Benchmark cells of the comparison experiments in the results database and tables: prediction
rows from each benchmark's own scorer (on stand-in records), the SQL aggregates checked against
`summarize()` on the same predictions, and table3/table4/mirage_vsp.csv in the paper's layout."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from test_results import make_cell, query, read_csv

from livr.cli import main as cli
from livr.data import benchmarks as bm
from livr.data.benchmarks.predictions import benchmark_accuracy, prediction_rows
from livr.data.schema import LETTERS, read_split
from livr.data.standins import build_standin
from livr.results.db import PAPER_CSV, build_database
from livr.results.tables import COMPARISON_KEYS, COMPARISON_NOTES, write_tables

EXP = "cmp"
BACKBONE = "tiny-qwen2.5-vl"  # compared with qwen2.5-vl-3b (Table 3, Mirage 3B rows)
EVAL_SETS = ("sat_val", "blink3", "robospatial_home", "mmvp", "blink5", "mirage_vsp_test")
METHODS = ("zero_shot", "sft", "livr")
# The compared methods on their own training sets, with their declared deviations (sidecar settings).
RECON = {"viscot": ("lvr", ["no GRPO stage", "greedy decoding"]), "mirage_vsp": ("mirage", ["greedy decoding"])}


def methods_of(train_set: str) -> tuple[str, ...]:
    return (*METHODS, RECON[train_set][0]) if train_set in RECON else METHODS


def responses_for(records, rng: random.Random) -> list[str]:
    """Right, wrong, wrapped and empty answers in each benchmark's own form."""
    out = []
    for r in records:
        target = r.meta["target"]
        if r.choices:
            wrong_text = next(c for c in r.choices if c != r.choices[LETTERS.index(r.answer)])
            wrong = wrong_text if target != r.answer else LETTERS[r.choices.index(wrong_text)]
        else:
            wrong = "\\boxed{UP}"
        out.append(rng.choice([target, target, f"<answer>{target}</answer>", wrong, "", "no idea"]))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("standins")
    return {name: read_split(build_standin(name, root / name, 2, 1, 30, seed=3), "test") for name in EVAL_SETS}


def write_cell(root: Path, exp, train_set, method, name, records, responses, deviations=(), seed=42) -> Path:
    """A cell's predictions and sidecar as `livr evaluate` writes them for a benchmark."""
    rows = prediction_rows(name, records, responses)
    path = root / "cells" / exp / BACKBONE / train_set / method / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    k = sum(r["correct"] for r in rows)
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "experiment": exp,
                "backbone": BACKBONE,
                "train_set": train_set,
                "method": method,
                "task": name,
                "weights": "base" if method == "zero_shot" else "best_val",
                "seed": None if method == "zero_shot" else seed,
                "selected": True,
                "n": len(rows),
                "n_correct": k,
                "n_unparsed": sum(r["parsed"] is None for r in rows),
                "accuracy": round(100 * k / len(rows), 4),
                "benchmark_accuracy": benchmark_accuracy(name, rows),
                "settings": {"deviations": list(deviations)},
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def built(data, tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    rng = random.Random(0)
    cells, truth = [], {}
    for name, records in data.items():
        train_set = "mirage_vsp" if name == "mirage_vsp_test" else "sat32k" if name != "mmvp" else "viscot"
        for method in methods_of(train_set):
            responses = responses_for(records, rng)
            deviations = RECON[train_set][1] if method not in METHODS else ()
            cells.append(write_cell(root, EXP, train_set, method, name, records, responses, deviations))
            truth[(train_set, method, name)] = bm.summarize(name, bm.score(name, records, responses))
    train_dirs = [build_standin(t, root / "data" / t, 5, 2, 1, seed=3) for t in RECON]  # their n_train
    db = root / "livr.duckdb"
    datasets = ["--datasets", *map(str, train_dirs), "--experiment", EXP]
    assert cli(["collect", "--cells", *map(str, cells), *datasets, "--out", str(db)]) == 0
    return {"db": db, "root": root, "truth": truth, "cells": cells}


def test_sql_aggregates_equal_summarize(built):
    got = {
        r[:3]: r[3:]
        for r in query(
            built["db"],
            "SELECT train_set, method, eval_set, accuracy, n, pair_accuracy, "
            "aggregate FROM eval_set_metrics WHERE experiment = ?",
            [EXP],
        )
    }
    assert set(got) == set(built["truth"])
    for key, s in built["truth"].items():
        accuracy, n, pairs, aggregate = got[key]
        assert accuracy == pytest.approx(s["accuracy"]) and n == s["n"], key
        assert aggregate == bm.BENCHMARKS[key[2]].aggregate
        assert pairs == (pytest.approx(s["pair_accuracy"]) if "pair_accuracy" in s else None), key
    subtasks = {
        (r[0], r[1], r[2], r[3]): r[4]
        for r in query(
            built["db"],
            "SELECT train_set, method, eval_set, subtask, accuracy FROM subtask_metrics WHERE experiment = ?",
            [EXP],
        )
    }
    for (ts, m, name), s in built["truth"].items():
        assert {k[3]: v for k, v in subtasks.items() if k[:3] == (ts, m, name)} == pytest.approx(s["subtasks"])


def test_mean_of_subtasks_is_not_the_pooled_accuracy(built):
    """BLINK-3's stand-in subtasks have unequal sizes, so the check above tells the two rules apart."""
    rows = query(
        built["db"],
        "SELECT e.accuracy, m.accuracy FROM eval_set_metrics e JOIN metrics m "
        "ON m.experiment = e.experiment AND m.train_set = e.train_set AND m.method = e.method "
        "AND m.task = e.eval_set WHERE e.eval_set = 'blink3'",
    )
    assert rows and any(abs(a - b) > 0.01 for a, b in rows)
    sizes = query(built["db"], "SELECT DISTINCT subtask, n FROM subtask_metrics WHERE eval_set = 'blink3'")
    assert len({n for _, n in sizes}) == 3


def test_sidecar_benchmark_accuracy_is_the_sql_number(built):
    for path in built["cells"]:
        side = json.loads(path.with_suffix(".json").read_text())
        (acc,) = query(
            built["db"],
            "SELECT accuracy FROM eval_set_metrics WHERE train_set = ? AND method = ? AND eval_set = ?",
            [side["train_set"], side["method"], side["task"]],
        )[0]
        assert side["benchmark_accuracy"] == pytest.approx(acc)


def test_prediction_rows_carry_scorer_subtask_and_pair(data):
    records = data["mmvp"]
    rows = prediction_rows("mmvp", records, [r.answer for r in records[:-1]] + [""])
    assert [r["pair"] for r in rows[:4]] == [1, 1, 2, 2] and all(r["subtask"] == "mmvp" for r in rows)
    assert rows[0]["parse_method"] == "lvr_letter" and rows[0]["correct"] and rows[0]["gold"] == records[0].answer
    assert rows[-1]["parsed"] is None and rows[-1]["parse_method"] == "unparsable" and not rows[-1]["correct"]
    blink3 = data["blink3"]
    r = prediction_rows("blink3", blink3[:1], [f"<answer>{blink3[0].meta['target'].upper()}!</answer>"])[0]
    assert r["correct"] and r["gold"] == blink3[0].meta["target"] and r["subtask"] == blink3[0].meta["subtask"]
    m = prediction_rows("mirage_vsp_test", data["mirage_vsp_test"][:1], ["I would go right"])[0]
    assert m["parsed"] is None and not m["correct"]


def test_collect_rejects_a_row_its_scorer_contradicts(built, tmp_path):
    path = built["cells"][0]  # sat_val
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    bad = next(r for r in rows if r["correct"])
    bad["correct"] = False
    cell = tmp_path / "cells" / path.name
    cell.parent.mkdir(parents=True)
    cell.write_text("".join(json.dumps(r) + "\n" for r in rows))
    side = json.loads(path.with_suffix(".json").read_text())
    side["n_correct"] -= 1
    cell.with_suffix(".json").write_text(json.dumps(side))
    with pytest.raises(ValueError, match="key 'correct' is False but parsed="):
        build_database(tmp_path / "x.duckdb", [cell])
    del rows[0]["subtask"]
    cell.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValueError, match=r"missing key\(s\) \['subtask'\]"):
        build_database(tmp_path / "x.duckdb", [cell])


def paper_rows(table):
    with open(PAPER_CSV, newline="") as f:
        return [r for r in csv.DictReader(f) if r["table"] == table]


@pytest.mark.parametrize(
    "table,columns",
    [
        ("table3", ["sat_val", "blink3", "robospatial_home"]),
        ("table4", ["mmvp", "vstar", "blink5"]),
        ("mirage_vsp", ["mirage_vsp"]),
    ],
)
def test_comparison_tables_put_ours_beside_the_papers_rows(built, tmp_path, table, columns):
    write_tables(built["db"], EXP, tmp_path, {BACKBONE: "qwen2.5-vl-3b"})
    rows = read_csv(tmp_path / f"{table}.csv")
    assert list(rows[0]) == [*COMPARISON_KEYS, *columns, *COMPARISON_NOTES]
    paper = paper_rows(table)
    theirs = [r for r in rows if r["source"] == "paper"]
    # every paper row, once per (backbone, method), with the value and reported_by of the CSV
    assert len(theirs) == len({(p["backbone"], p["method"]) for p in paper})
    for p in paper:
        row = next(r for r in theirs if (r["backbone"], r["method"]) == (p["backbone"], p["method"]))
        assert float(row[p["task"]]) == pytest.approx(float(p["accuracy"])) and row["reported_by"] == p["reported_by"]
    ours = [r for r in rows if r["source"] == "ours"]
    sql = {
        r[:3]: r[3] for r in query(built["db"], "SELECT train_set, method, paper_task, accuracy FROM eval_set_metrics")
    }
    expected = {k for k in sql if k[2] in columns}
    assert {(r["train_set"], r["method"], c) for r in ours for c in columns if r[c]} == expected
    for r in ours:
        assert r["backbone"] == BACKBONE and r["paper_backbone"] == "qwen2.5-vl-3b" and r["reported_by"] == ""
        recon = RECON.get(r["train_set"], (None, []))
        assert r["deviations"] == ("; ".join(recon[1]) if r["method"] == recon[0] else "")
        assert r["n_train"] == ("5" if r["train_set"] in RECON else "")  # the training set's size, where collected
        for c in columns:
            if r[c]:
                assert float(r[c]) == pytest.approx(round(sql[r["train_set"], r["method"], c], 2))
    # our rows follow the paper's rows of the backbone ours maps to, in method order
    order = [(r["source"], r["paper_backbone"]) for r in rows]
    first_ours = order.index(("ours", "qwen2.5-vl-3b"))
    assert all(s == "paper" for s, b in order[:first_ours])
    train_sets = sorted({r["train_set"] for r in ours})  # table4 here: mmvp trained on viscot, blink5 on sat32k
    assert [(r["train_set"], r["method"]) for r in ours] == [(t, m) for t in train_sets for m in methods_of(t)]
    if table == "mirage_vsp":  # rows of the 7B group (Mirage's own numbers) come after ours
        assert order[first_ours + len(ours) :] and all(b == "qwen2.5-vl-7b" for _, b in order[first_ours + len(ours) :])


def test_comparison_tables_show_the_mean_over_seeds(data, built, tmp_path):
    """A cell trained at two seeds: our row holds the mean of its seeds' benchmark numbers."""
    records = data["mmvp"]
    seed43 = write_cell(
        tmp_path, EXP, "viscot", "sft", "mmvp", records, responses_for(records, random.Random(5)), seed=43
    )
    db = tmp_path / "db.duckdb"
    build_database(db, [*built["cells"], seed43])
    write_tables(db, EXP, tmp_path / "tables", {BACKBONE: "qwen2.5-vl-3b"})
    per_seed = query(
        db, "SELECT accuracy FROM eval_set_metrics WHERE method = 'sft' AND train_set = 'viscot' ORDER BY seed"
    )
    assert len(per_seed) == 2 and per_seed[0] != per_seed[1]
    row = next(
        r
        for r in read_csv(tmp_path / "tables" / "table4.csv")
        if (r["source"], r["train_set"], r["method"]) == ("ours", "viscot", "sft")
    )
    assert float(row["mmvp"]) == pytest.approx(round((per_seed[0][0] + per_seed[1][0]) / 2, 2))


def test_tables_of_other_experiments_stay_header_only(built, tmp_path):
    """An experiment with cells of the nine tasks only writes the comparison tables header-only, and
    benchmark cells never reach Table 1 or 2."""

    cells = [*built["cells"], make_cell(tmp_path, "nine", "tiny-a", "jigsaw", "sft", "jigsaw")]
    db = tmp_path / "db.duckdb"
    build_database(db, cells)
    write_tables(db, "nine", tmp_path / "nine")
    for table in ("table3", "table4", "mirage_vsp"):
        assert (tmp_path / "nine" / f"{table}.csv").read_text().count("\n") == 1
    write_tables(db, EXP, tmp_path / "cmp")
    for table in ("table1", "table2"):
        assert (tmp_path / "cmp" / f"{table}.csv").read_text().count("\n") == 1
    metrics = json.loads((tmp_path / "cmp" / "metrics" / BACKBONE / "sat32k/livr/blink3.json").read_text())
    assert metrics["aggregate"] == "mean_of_subtasks"
    assert not any("aggregate" in json.loads(p.read_text()) for p in (tmp_path / "nine" / "metrics").rglob("*.json"))


def test_paper_table_knows_who_reported_each_row(built):
    got = dict(query(built["db"], "SELECT reported_by, count(*) FROM paper GROUP BY 1"))
    assert set(got) == {"livr", "vigorl", "lvr", "mirage"}
    assert got == {
        k: sum(
            r["reported_by"] == k for t in ("table1", "table2", "table3", "table4", "mirage_vsp") for r in paper_rows(t)
        )
        for k in got
    }
    assert query(
        built["db"], "SELECT name, aggregate FROM eval_sets WHERE name IN ('blink3', 'blink5') ORDER BY 1"
    ) == [("blink3", "mean_of_subtasks"), ("blink5", "size_weighted")]


def test_incomplete_mmvp_pairs_give_no_pair_accuracy(data, tmp_path):
    """A truncated MMVP evaluation (max_test_examples: 5) still scores per question; MMVP's pair
    accuracy is left NULL rather than computed over a broken pair."""
    records = data["mmvp"][:5]
    cell = write_cell(tmp_path, "trunc", "viscot", "sft", "mmvp", records, [r.answer for r in records])
    db = tmp_path / "db.duckdb"
    build_database(db, [cell])
    assert query(db, "SELECT accuracy, n, pair_accuracy FROM eval_set_metrics") == [(100.0, 5, None)]
