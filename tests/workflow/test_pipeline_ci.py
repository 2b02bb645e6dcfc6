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

from livr.layout import Layout

pytestmark = pytest.mark.slow
CI_TASKS = {"relative_reflectance", "counting"}
TRAIN_SET, BENCHMARKS = "sat32k", ("blink3", "mmvp")
METHODS = ("zero_shot", "sft", "livr")
SEEDS = (42, 43)  # params.yaml experiments.ci.seeds; the tables show their mean
L, BACKBONE = Layout(), "tiny-qwen2.5-vl"


def seeds_of(method, seeds=SEEDS):
    return (None,) if method == "zero_shot" else seeds


def check_comparison_results(repo, seeds=SEEDS):
    """Our rows in table3/table4 beside the paper's, each benchmark's number equal to what its own
    scorer and aggregate give on the stand-in records and the decoded outputs (the mean over `seeds`)."""
    import duckdb

    from livr.data import benchmarks as bm
    from livr.data.schema import read_split

    con = duckdb.connect(str(repo / "results" / "ci" / "livr.duckdb"), read_only=True)
    sql = {
        (m, s, e): (acc, pairs)
        for m, s, e, acc, pairs in con.execute(
            "SELECT method, seed, eval_set, accuracy, pair_accuracy FROM eval_set_metrics "
            "WHERE train_set = ? AND selected",
            [TRAIN_SET],
        ).fetchall()
    }
    con.close()
    assert set(sql) == {(m, s, e) for m in METHODS for s in seeds_of(m, seeds) for e in BENCHMARKS}
    for (method, seed, name), (accuracy, pairs) in sql.items():
        records = read_split(repo / "data" / "built" / "synthetic" / "ci" / "comparison" / name, "test")
        cell = repo / L.cell_file("ci", BACKBONE, TRAIN_SET, method, seed, name)
        assert json.loads(cell.with_suffix(".json").read_text())["seed"] == seed
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
        means = [sum(sql[m, s, column][0] for s in seeds_of(m, seeds)) / len(seeds_of(m, seeds)) for m in METHODS]
        assert [float(r[column]) for r in ours] == pytest.approx([round(x, 2) for x in means])  # mean over seeds
        assert {r["reported_by"] for r in rows if r["source"] == "paper"} >= {"livr"}
    assert (repo / "results" / "mirage_vsp.csv").read_text().count("\n") == 1  # no Mirage cells in ci: header only
    for seed in seeds:
        assert (repo / L.checkpoint_dir("ci", BACKBONE, TRAIN_SET, "livr", seed)).is_dir()


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
    for seed in SEEDS:
        assert (repo / L.train_metrics("ci", BACKBONE, "counting", "livr", seed)).is_file()
    check_comparison_results(repo)
    # every trained cell at both checkpoints, and the analyses of the LIVR models trained on the nine
    # tasks (not the comparison training set), in the database
    import duckdb

    con = duckdb.connect(str(repo / "results" / "ci" / "livr.duckdb"), read_only=True)
    weights = con.execute(
        "SELECT method, seed, weights, selected, count(*) FROM runs GROUP BY ALL ORDER BY ALL NULLS LAST"
    ).fetchall()
    n = len(CI_TASKS) + len(BENCHMARKS)  # the nine-task cells and the comparison cells
    assert weights == [
        *((m, s, w, w == "best_val", n) for m in ("livr", "sft") for s in SEEDS for w in ("best_val", "last")),
        ("zero_shot", None, "base", True, n),  # once: the untrained model has no seed
    ]
    shares = con.execute(
        "SELECT method, seed, task, answer_to_latent FROM attention_shares ORDER BY task, seed"
    ).fetchall()
    assert [(m, s, t) for m, s, t, _ in shares] == [
        ("livr", s, t) for t in ("counting", "relative_reflectance") for s in SEEDS
    ]
    assert all(0 < x < 1 for *_, x in shares)
    # the seed drives training: the same run's losses differ between seeds
    losses = con.execute(
        "SELECT seed, list(loss ORDER BY line) FROM train_metrics WHERE method = 'sft' AND train_set = 'counting' "
        "AND loss IS NOT NULL GROUP BY seed ORDER BY seed"
    ).fetchall()
    assert [s for s, _ in losses] == list(SEEDS) and losses[0][1] != losses[1][1]
    # job timings name each trained job's seed; the zero-shot ones none
    timed = con.execute("SELECT DISTINCT step, method, seed FROM job_timings WHERE step = 'evaluate'").fetchall()
    assert sorted(timed, key=str) == sorted([("evaluate", m, s) for m in METHODS for s in seeds_of(m)], key=str)
    assert con.execute("SELECT count(DISTINCT kind) FROM tsne_points").fetchone() == (3,)
    con.close()
    assert (repo / "results" / "ci" / "selection.csv").is_file()
    # tiny backbones: every train, evaluate and analyze job forked from the run's warm server
    # (livr/ops/warm_jobs.py), none started cold
    warm = (repo / L.log("ci", "warm_jobs")).read_text().splitlines()
    started = {line.split()[3] for line in warm if line.startswith("job ")}
    assert {"train", "evaluate", "analyze"} <= started and not any("cold start" in line for line in warm)

    assert snakemake_dry_run(repo, "ci") == [], "a second run must have nothing to do"

    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("  sft: {train: sft}\n", "  sft: {train: sft, lr: 7.7e-4}\n"))
    jobs = snakemake_dry_run(repo, "ci")
    tested = [(t, t) for t in CI_TASKS] + [(TRAIN_SET, b) for b in BENCHMARKS]
    assert {o[0] for r, o in jobs if r == "train"} == {
        f"runs/ci/tiny-qwen2.5-vl/{t}/sft/seed{s}/final" for t in (*CI_TASKS, TRAIN_SET) for s in SEEDS
    }
    assert {o[0] for r, o in jobs if r == "evaluate"} == {
        f"results/cells/ci/tiny-qwen2.5-vl/{ts}/sft/seed{s}/{t}.jsonl" for ts, t in tested for s in SEEDS
    }
    assert {o[0] for r, o in jobs if r == "evaluate_unselected"} == {
        f"results/cells/ci/tiny-qwen2.5-vl/{ts}/sft/seed{s}/{t}.unselected.jsonl" for ts, t in tested for s in SEEDS
    }
    assert {r for r, _ in jobs} == {"train", "evaluate", "evaluate_unselected", "collect", "tables", "publish"}


def test_snakemake_ci_recon_end_to_end(tmp_path):
    """LVR and Mirage (`ci_recon`) through Snakemake: each trains only on the stand-in set that carries its
    targets' field, validates and tests by latent-mode decoding (the checkpoint says how), and its rows
    in table4.csv / mirage_vsp.csv equal what its decoded outputs score, with its size and deviations."""
    import duckdb

    from livr import config as livr_config
    from livr.data import benchmarks as bm
    from livr.data.schema import read_split
    from livr.model.reconstruction import trained_decoding

    repo = copy_repo(tmp_path / "repo")
    run([tool("snakemake"), "--cores", "2", "results/table1.csv", "--config", "experiment=ci_recon"], repo)
    params = livr_config.load_params(repo / "params.yaml")
    con = duckdb.connect(str(repo / "results" / "ci_recon" / "livr.duckdb"), read_only=True)
    sql = {
        (ts, m, e): acc
        for ts, m, e, acc in con.execute(
            "SELECT train_set, method, eval_set, accuracy FROM eval_set_metrics WHERE selected"
        ).fetchall()
    }
    con.close()
    trained = {"lvr": "viscot", "mirage": "mirage_vsp"}
    assert set(sql) == {(ts, m, e) for m, ts in trained.items() for e in ("mmvp", "mirage_vsp_test")}
    for (train_set, method, name), accuracy in sql.items():
        records = read_split(repo / "data" / "built" / "synthetic" / "ci_recon" / "comparison" / name, "test")
        rows = [
            json.loads(line)
            for line in (repo / L.cell_file("ci_recon", BACKBONE, train_set, method, 42, name)).read_text().splitlines()
        ]
        truth = bm.summarize(name, bm.score(name, records, [r["raw_output"] for r in rows]))
        assert accuracy == pytest.approx(truth["accuracy"])
    training = params["experiments"]["ci_recon"]["training"]
    for method, train_set in trained.items():
        meta = json.loads(
            (repo / L.checkpoint_dir("ci_recon", BACKBONE, train_set, method, 42) / "livr_checkpoint.json").read_text()
        )
        assert meta["latent_decoding"] == trained_decoding(method, training["lvr_decode_steps"], 4)
        history = [
            json.loads(line)
            for line in (repo / L.train_metrics("ci_recon", BACKBONE, train_set, method, 42)).read_text().splitlines()
        ]
        assert any("eval_accuracy" in r for r in history)
    for table, column, method in (("table4", "mmvp", "lvr"), ("mirage_vsp", "mirage_vsp", "mirage")):
        with open(repo / "results" / f"{table}.csv", newline="") as f:
            ours = [r for r in csv.DictReader(f) if r["source"] == "ours" and r["method"] == method]
        assert len(ours) == 1 and ours[0]["train_set"] == trained[method] and ours[0]["n_train"] == "16"
        assert float(ours[0][column]) == round(
            sql[trained[method], method, f"{column}_test" if table == "mirage_vsp" else column], 2
        )
        assert ours[0]["deviations"] == "; ".join(params["methods"][method]["deviations"])


def test_dvc_ci_end_to_end(tmp_path):
    """`ci` through DVC at one of its seeds: the Snakemake run above covers both seeds end to end, and
    DVC's job lists at several seeds are checked against Snakemake's (tests/workflow/test_workflow.py);
    one seed halves the slowest test of the suite."""
    repo = copy_repo(tmp_path / "repo", git=True)
    set_experiment(repo / "params.yaml", "ci")
    params = (repo / "params.yaml").read_text()
    assert params.count(f"seeds: {list(SEEDS)}") == 1
    (repo / "params.yaml").write_text(params.replace(f"seeds: {list(SEEDS)}", f"seeds: [{SEEDS[1]}]"))
    run([sys.executable, "workflow/scripts/dvc_cells.py"], repo)
    run([tool("dvc"), "repro"], repo)
    text = _table_text(repo / "results" / "table1.csv")
    for task in CI_TASKS:
        assert task in text
    check_comparison_results(repo, seeds=SEEDS[1:])
    # the run, under the path DVC's job list gave its seed
    assert (repo / L.train_metrics("ci", BACKBONE, "counting", "sft", SEEDS[1])).is_file()
    status = run([tool("dvc"), "status"], repo)
    assert "Data and pipelines are up to date" in status.stdout, status.stdout
