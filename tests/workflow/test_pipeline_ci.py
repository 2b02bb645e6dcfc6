"""End to end: the `ci` experiment through Snakemake and through DVC with the real livr CLI, in
temporary copies of the repository (tiny backbones, synthetic data; a few minutes on 2 cores).
`ci` includes the comparison path: a stand-in training set (sat32k) evaluated on two stand-in
benchmarks with different scorers and aggregates (blink3, mmvp), into table3.csv / table4.csv."""

from __future__ import annotations

import csv
import json
import sys

import pytest
from workflow_helpers import copy_repo, run, set_experiment, snakemake_dry_run, tool

pytestmark = pytest.mark.slow
CI_TASKS = {"relative_reflectance", "counting"}
TRAIN_SET, BENCHMARKS = "sat32k", ("blink3", "mmvp")
METHODS = ("zero_shot", "sft", "livr")


def check_comparison_results(repo):
    """Our rows in table3/table4 beside the paper's, each benchmark's number equal to what its own
    scorer and aggregate give on the stand-in records and the decoded outputs."""
    import duckdb

    from livr.data import benchmarks as bm
    from livr.data.schema import read_split

    con = duckdb.connect(str(repo / "results" / "ci" / "livr.duckdb"), read_only=True)
    sql = {
        (m, e): (acc, pairs)
        for m, e, acc, pairs in con.execute(
            "SELECT method, eval_set, accuracy, pair_accuracy FROM eval_set_metrics WHERE train_set = ? AND selected",
            [TRAIN_SET],
        ).fetchall()
    }
    con.close()
    assert set(sql) == {(m, e) for m in METHODS for e in BENCHMARKS}
    for (method, name), (accuracy, pairs) in sql.items():
        records = read_split(repo / "data" / "built" / "synthetic" / "ci" / "comparison" / name, "test")
        cell = repo / "results" / "cells" / "ci" / "tiny-qwen2.5-vl" / TRAIN_SET / method / f"{name}.jsonl"
        rows = [json.loads(line) for line in cell.read_text().splitlines()]
        assert [r["id"] for r in rows] == [r.id for r in records]
        truth = bm.summarize(name, bm.score(name, records, [r["raw_output"] for r in rows]))
        assert accuracy == pytest.approx(truth["accuracy"]) and truth["n"] == 32
        assert pairs == (pytest.approx(truth["pair_accuracy"]) if name == "mmvp" else None)
    for table, column in (("table3", "blink3"), ("table4", "mmvp")):
        with open(repo / "results" / f"{table}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        ours = [r for r in rows if r["source"] == "ours"]
        assert [r["method"] for r in ours] == list(METHODS) and all(r["train_set"] == TRAIN_SET for r in ours)
        assert [float(r[column]) for r in ours] == [round(sql[m, column][0], 2) for m in METHODS]
        assert {r["reported_by"] for r in rows if r["source"] == "paper"} >= {"livr"}
    assert (repo / "results" / "mirage_vsp.csv").read_text().count("\n") == 1  # no Mirage cells in ci: header only
    assert (repo / "runs" / "ci" / "tiny-qwen2.5-vl" / TRAIN_SET / "livr" / "final").is_dir()


def _table_text(path):
    with open(path, newline="") as f:
        return " ".join(",".join(row) for row in csv.reader(f))


def test_snakemake_ci_end_to_end(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    run([tool("snakemake"), "--cores", "2", "results/table1.csv", "--config", "experiment=ci"], repo)
    table = repo / "results" / "table1.csv"
    assert table.is_file()
    text = _table_text(table)
    for task in CI_TASKS:
        assert task in text, f"{task} missing from table1.csv: {text}"
    assert (repo / "results" / "ci" / "livr.duckdb").is_file()
    assert (repo / "runs" / "ci" / "tiny-qwen2.5-vl" / "counting" / "livr" / "metrics.jsonl").is_file()
    check_comparison_results(repo)
    # every trained cell at both checkpoints, and the analyses of the LIVR models trained on the nine
    # tasks (not the comparison training set), in the database
    import duckdb

    con = duckdb.connect(str(repo / "results" / "ci" / "livr.duckdb"), read_only=True)
    weights = con.execute("SELECT method, weights, selected, count(*) FROM runs GROUP BY ALL ORDER BY ALL").fetchall()
    n = len(CI_TASKS) + len(BENCHMARKS)  # the nine-task cells and the comparison cells
    assert weights == [
        ("livr", "best_val", True, n),
        ("livr", "last", False, n),
        ("sft", "best_val", True, n),
        ("sft", "last", False, n),
        ("zero_shot", "base", True, n),
    ]
    shares = con.execute("SELECT method, task, answer_to_latent FROM attention_shares ORDER BY task").fetchall()
    assert [(m, t) for m, t, _ in shares] == [("livr", "counting"), ("livr", "relative_reflectance")]
    assert all(0 < s < 1 for _, _, s in shares)
    assert con.execute("SELECT count(DISTINCT kind) FROM tsne_points").fetchone() == (3,)
    con.close()
    assert (repo / "results" / "ci" / "selection.csv").is_file()

    assert snakemake_dry_run(repo, "ci") == [], "a second run must have nothing to do"

    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("  sft: {train: sft}\n", "  sft: {train: sft, lr: 7.7e-4}\n"))
    jobs = snakemake_dry_run(repo, "ci")
    assert {o[0] for r, o in jobs if r == "train"} == {
        f"runs/ci/tiny-qwen2.5-vl/{t}/sft/final" for t in (*CI_TASKS, TRAIN_SET)
    }
    assert {o[0] for r, o in jobs if r == "evaluate"} == {
        f"results/cells/ci/tiny-qwen2.5-vl/{t}/sft/{t}.jsonl" for t in CI_TASKS
    } | {f"results/cells/ci/tiny-qwen2.5-vl/{TRAIN_SET}/sft/{b}.jsonl" for b in BENCHMARKS}
    assert {o[0] for r, o in jobs if r == "evaluate_unselected"} == {
        f"results/cells/ci/tiny-qwen2.5-vl/{t}/sft/{t}.unselected.jsonl" for t in CI_TASKS
    } | {f"results/cells/ci/tiny-qwen2.5-vl/{TRAIN_SET}/sft/{b}.unselected.jsonl" for b in BENCHMARKS}
    assert {r for r, _ in jobs} == {"train", "evaluate", "evaluate_unselected", "collect", "tables", "publish"}


def test_dvc_ci_end_to_end(tmp_path):
    repo = copy_repo(tmp_path / "repo", git=True)
    set_experiment(repo / "params.yaml", "ci")
    run([sys.executable, "workflow/scripts/dvc_cells.py"], repo)
    run([tool("dvc"), "repro"], repo)
    text = _table_text(repo / "results" / "table1.csv")
    for task in CI_TASKS:
        assert task in text
    check_comparison_results(repo)
    status = run([tool("dvc"), "status"], repo)
    assert "Data and pipelines are up to date" in status.stdout, status.stdout
