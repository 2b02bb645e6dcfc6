"""End to end: the `ci` experiment through Snakemake and through DVC with the real livr CLI, in
temporary copies of the repository (tiny backbones, synthetic data; a few minutes on 2 cores)."""

from __future__ import annotations

import csv
import sys

import pytest

from workflow_helpers import copy_repo, run, set_experiment, snakemake_dry_run, tool

pytestmark = pytest.mark.slow
CI_TASKS = {"relative_reflectance", "counting"}


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
    # every trained cell at both checkpoints, and the analyses of the LIVR models, in the database
    import duckdb

    con = duckdb.connect(str(repo / "results" / "ci" / "livr.duckdb"), read_only=True)
    weights = con.execute("SELECT method, weights, selected, count(*) FROM runs GROUP BY ALL ORDER BY ALL").fetchall()
    assert weights == [("livr", "best_val", True, 2), ("livr", "last", False, 2), ("sft", "best_val", True, 2),
                       ("sft", "last", False, 2), ("zero_shot", "base", True, 2)]
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
        f"runs/ci/tiny-qwen2.5-vl/{t}/sft/final" for t in CI_TASKS}
    assert {o[0] for r, o in jobs if r == "evaluate"} == {
        f"results/cells/ci/tiny-qwen2.5-vl/{t}/sft/{t}.jsonl" for t in CI_TASKS}
    assert {o[0] for r, o in jobs if r == "evaluate_unselected"} == {
        f"results/cells/ci/tiny-qwen2.5-vl/{t}/sft/{t}.unselected.jsonl" for t in CI_TASKS}
    assert {r for r, _ in jobs} == {"train", "evaluate", "evaluate_unselected", "collect", "tables", "publish"}


def test_dvc_ci_end_to_end(tmp_path):
    repo = copy_repo(tmp_path / "repo", git=True)
    set_experiment(repo / "params.yaml", "ci")
    run([sys.executable, "workflow/scripts/dvc_cells.py"], repo)
    run([tool("dvc"), "repro"], repo)
    text = _table_text(repo / "results" / "table1.csv")
    for task in CI_TASKS:
        assert task in text
    status = run([tool("dvc"), "status"], repo)
    assert "Data and pipelines are up to date" in status.stdout, status.stdout
