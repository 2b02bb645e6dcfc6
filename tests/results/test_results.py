"""Results database and tables: built from synthetic cell files, checked against those files."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import duckdb
import pytest

from livr.answers import extract_answer_with_method
from livr.cli import main as cli
from livr.data.schema import TASKS
from livr.layout import Layout, job_parts
from livr.results.db import PAPER_CSV, build_database
from livr.results.tables import write_tables

EXP = "demo"
BACKBONES = ("tiny-a", "tiny-b")
SINGLE_TASKS = ("relative_reflectance", "counting", "jigsaw")  # deliberately not canonical order
MIXTURE, MIXTURE_TASKS = "multitask6", ("localization", "counting")
METHODS = ("zero_shot", "sft", "livr")
MISSING = ("tiny-b", "relative_reflectance", "relative_reflectance", "livr")  # one cell never run


def make_cell(
    root: Path, exp, backbone, train_set, method, task, n=12, seed=0, weights=None, selected=True, train_seed=42
) -> Path:
    """Write one cell's predictions and sidecar as `livr evaluate` does, where livr/layout.py puts them;
    return the .jsonl path. `weights`: base for zero-shot, else best_val unless given; `selected=False`
    writes the cell as evaluated with the run's unselected checkpoint (<task>.unselected.jsonl), with
    other predictions. `seed` seeds the made-up predictions; `train_seed` is the trained weights' seed
    (none for the base model), which changes them too unless it is the default 42."""
    weights = weights or ("base" if method == "zero_shot" else "best_val")
    train_seed = None if weights == "base" else train_seed
    rng = random.Random(
        f"{seed}-{exp}-{backbone}-{train_set}-{method}-{task}"
        + ("" if selected else f"-{weights}")
        + ("" if train_seed in (None, 42) else f"-{train_seed}")
    )
    rows = []
    for i in range(n):
        if task == "counting":
            gold = str(rng.randint(0, 9))
            raw = rng.choice([gold, f"There are {gold} objects.", str(rng.randint(0, 9)), "I cannot count them."])
        else:
            gold = rng.choice("AB")
            raw = rng.choice([gold, f"The answer is ({gold}).", rng.choice("AB"), "A or B"])
        parsed, how = extract_answer_with_method(raw, task, None if task == "counting" else 2)
        rows.append(
            {
                "id": f"{task}-{i:03d}",
                "task": task,
                "raw_output": raw,
                "parsed": parsed,
                "parse_method": how,
                "gold": gold,
                "correct": parsed == gold,
            }
        )
    layout = Layout(results=str(root))
    where = layout.cell_file if selected else layout.unselected_cell_file
    path = Path(where(exp, backbone, train_set, method, train_seed, task))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    n_correct = sum(r["correct"] for r in rows)
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "experiment": exp,
                "backbone": backbone,
                "train_set": train_set,
                "method": method,
                "seed": train_seed,
                "task": task,
                "weights": weights,
                "selected": selected,
                "n": n,
                "n_correct": n_correct,
                "n_unparsed": sum(r["parsed"] is None for r in rows),
                "accuracy": round(100 * n_correct / n, 2),
                "checkpoint": None
                if method == "zero_shot"
                else f"runs/{exp}/{backbone}/{train_set}/{method}/seed{train_seed}/"
                + ("final" if selected else "unselected"),
                "settings": {"max_new_tokens": 16, "batch_size": 4},
                "seconds": 1.5 + seed,
            }
        )
    )
    return path


def make_cells(root: Path) -> list[Path]:
    cells = []
    for backbone in BACKBONES:
        for method in METHODS:
            for task in SINGLE_TASKS:
                if (backbone, task, task, method) != MISSING:
                    cells.append(make_cell(root, EXP, backbone, task, method, task))
            for task in MIXTURE_TASKS:  # zero-shot cells here differ from the single-task ones
                cells.append(make_cell(root, EXP, backbone, MIXTURE, method, task, seed=1))
    cells.append(make_cell(root, "other", "tiny-a", "jigsaw", "sft", "jigsaw"))
    return cells


def read_cell_files(cells):
    return [
        (json.loads(p.with_suffix(".json").read_text()), [json.loads(line) for line in p.read_text().splitlines()])
        for p in cells
    ]


@pytest.fixture
def built(tmp_path):
    cells = make_cells(tmp_path)
    timing = tmp_path / Layout.timing(EXP, "train", *job_parts("tiny-a", "counting", "sft", 42))
    timing.parent.mkdir(parents=True)
    timing.write_text(
        "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
        "12.5\t0:00:12\t512.1\t900.0\t400.0\t410.0\t1.0\t2.0\t95.5\t11.9\n"
        "13.0\t0:00:13\t-\t901.0\t401.0\t411.0\t1.5\t2.5\t90.0\t12.1\n"
    )
    metrics = Path(Layout(runs=str(tmp_path / "runs")).train_metrics(EXP, "tiny-a", "counting", "livr", 42))
    metrics.parent.mkdir(parents=True)
    metrics.write_text(
        '{"step": 10, "epoch": 0.5, "stage": 1, "loss": 2.5, "lr": 0.001}\n\n'
        '{"step": 20, "epoch": 1, "stage": "2", "eval_accuracy": 41.0}\n'
    )
    db = tmp_path / "results" / "livr.duckdb"
    rc = cli(
        [
            "collect",
            "--cells",
            *map(str, cells),
            "--job-timings",
            str(timing),
            "--train-metrics",
            str(metrics),
            "--out",
            str(db),
        ]
    )
    assert rc == 0
    return {"db": db, "cells": cells, "timing": timing, "metrics": metrics, "root": tmp_path}


def query(db, sql, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_runs_and_predictions_hold_what_the_files_hold(built):
    files = read_cell_files(built["cells"])
    runs = query(
        built["db"],
        "SELECT experiment, backbone, train_set, method, seed, task, n, n_correct, n_unparsed, "
        "accuracy, checkpoint, seconds, settings, path FROM runs",
    )
    assert len(runs) == len(files)
    by_path = {r[-1]: r for r in runs}
    for path, (side, rows) in zip(built["cells"], files):
        r = by_path[str(path)]
        assert r[:12] == (
            side["experiment"],
            side["backbone"],
            side["train_set"],
            side["method"],
            side["seed"],
            side["task"],
            side["n"],
            side["n_correct"],
            side["n_unparsed"],
            side["accuracy"],
            side["checkpoint"],
            side["seconds"],
        )
        assert json.loads(r[12]) == side["settings"]
        stored = query(
            built["db"],
            "SELECT id, raw_output, parsed, parse_method, gold, correct FROM predictions "
            "WHERE experiment = ? AND backbone = ? AND train_set = ? AND method = ? AND task = ? ORDER BY id",
            [side[k] for k in ("experiment", "backbone", "train_set", "method", "task")],
        )
        assert stored == [
            (x["id"], x["raw_output"], x["parsed"], x["parse_method"], x["gold"], x["correct"]) for x in rows
        ]
    assert query(built["db"], "SELECT count(*) FROM predictions")[0][0] == sum(len(rows) for _, rows in files)


def test_metrics_view_recomputes_accuracy(built):
    got = {
        r[:5]: r[5:]
        for r in query(
            built["db"],
            "SELECT experiment, backbone, train_set, method, task, n, n_correct, n_unparsed, accuracy FROM metrics",
        )
    }
    assert len(got) == len(built["cells"])
    for side, rows in read_cell_files(built["cells"]):
        n_correct = sum(x["parsed"] == x["gold"] for x in rows)
        key = tuple(side[k] for k in ("experiment", "backbone", "train_set", "method", "task"))
        n, correct, unparsed, accuracy = got[key]
        assert (n, correct, unparsed) == (len(rows), n_correct, sum(x["parsed"] is None for x in rows))
        assert accuracy == pytest.approx(100 * n_correct / len(rows))


def test_job_timings_train_metrics_and_paper_are_stored(built):
    timings = query(
        built["db"],
        "SELECT path, job, experiment, step, backbone, train_set, method, seed, task, repeat, "
        "s, hms, max_rss, cpu_time FROM job_timings ORDER BY repeat",
    )
    assert timings == [
        (
            str(built["timing"]),
            "demo/train/tiny-a/counting/sft/seed42",
            EXP,
            "train",
            "tiny-a",
            "counting",
            "sft",
            42,
            None,
            0,
            12.5,
            "0:00:12",
            512.1,
            11.9,
        ),
        (
            str(built["timing"]),
            "demo/train/tiny-a/counting/sft/seed42",
            EXP,
            "train",
            "tiny-a",
            "counting",
            "sft",
            42,
            None,
            1,
            13.0,
            "0:00:13",
            None,
            12.1,
        ),
    ]
    metrics = query(
        built["db"],
        "SELECT line, experiment, backbone, train_set, method, seed, step, epoch, stage, loss, "
        "raw->>'lr', raw->>'eval_accuracy' FROM train_metrics ORDER BY line",
    )
    assert metrics == [
        (1, EXP, "tiny-a", "counting", "livr", 42, 10, 0.5, "1", 2.5, "0.001", None),
        (3, EXP, "tiny-a", "counting", "livr", 42, 20, 1.0, "2", None, None, "41.0"),
    ]
    with open(PAPER_CSV) as f:
        paper = list(csv.DictReader(f))
    assert query(built["db"], "SELECT count(*) FROM paper")[0][0] == len(paper)
    assert (
        query(
            built["db"],
            "SELECT accuracy FROM paper WHERE table_name = 'table2' AND backbone = 'qwen3-vl-4b' "
            "AND method = 'livr' AND task = 'localization'",
        )[0][0]
        == 81.97
    )


def expected_accuracy(cells, exp, backbone, train_set, method, task):
    """Accuracy computed straight from the cell's .jsonl, not from the database."""
    for side, rows in read_cell_files(cells):
        if (side["experiment"], side["backbone"], side["train_set"], side["method"], side["task"]) == (
            exp,
            backbone,
            train_set,
            method,
            task,
        ):
            return 100 * sum(x["parsed"] == x["gold"] for x in rows) / len(rows)
    return None


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check_row(row, expected: dict, tasks):
    """Every task column and Mean equal the independently computed values, rounded to 2 decimals."""
    values = [expected.get(t) for t in tasks]
    mean = None if None in values else sum(values) / len(values)
    for col, value in [*zip(tasks, values), ("Mean", mean)]:
        if value is None:
            assert row[col] == "", (row["method"], col)
        else:
            assert abs(float(row[col]) - value) <= 0.005 + 1e-9, (row["backbone"], row["method"], col)


def test_table1_matches_predictions(built, tmp_path):
    out = tmp_path / "tables"
    assert cli(["tables", "--db", str(built["db"]), "--experiment", EXP, "--out-dir", str(out)]) == 0
    rows = read_csv(out / "table1.csv")
    tasks = [t for t in TASKS if t in SINGLE_TASKS]
    assert list(rows[0]) == ["backbone", "method", *tasks, "Mean"]
    labels = [(r["backbone"], r["method"]) for r in rows]
    assert labels == [(b, m) for b in BACKBONES for m in ("Zero-shot", "Direct SFT", "LIVR", "Delta vs SFT")]
    for row in rows:
        b = row["backbone"]
        acc = {m: {t: expected_accuracy(built["cells"], EXP, b, t, m, t) for t in tasks} for m in METHODS}
        if row["method"] == "Delta vs SFT":
            expected = {t: acc["livr"][t] - acc["sft"][t] for t in tasks if acc["livr"][t] is not None}
        else:
            expected = acc[{"Zero-shot": "zero_shot", "Direct SFT": "sft", "LIVR": "livr"}[row["method"]]]
        check_row(row, expected, tasks)
    # The cell that was never run leaves its value, its row's Mean and the Delta blank.
    blank = [r for r in rows if r["backbone"] == "tiny-b" and r["method"] in ("LIVR", "Delta vs SFT")]
    assert all(r["relative_reflectance"] == "" and r["Mean"] == "" for r in blank)


def test_table2_uses_mixture_cells_and_their_zero_shot(built, tmp_path):
    write_tables(built["db"], EXP, tmp_path)
    rows = read_csv(tmp_path / "table2.csv")
    tasks = [t for t in TASKS if t in MIXTURE_TASKS]
    assert list(rows[0]) == ["backbone", "train_set", "method", *tasks, "Mean"]
    assert len(rows) == 4 * len(BACKBONES) and {r["train_set"] for r in rows} == {MIXTURE}
    for row in rows:
        b = row["backbone"]
        acc = {m: {t: expected_accuracy(built["cells"], EXP, b, MIXTURE, m, t) for t in tasks} for m in METHODS}
        acc["delta"] = {t: acc["livr"][t] - acc["sft"][t] for t in tasks}
        method = {"Zero-shot": "zero_shot", "Direct SFT": "sft", "LIVR": "livr", "Delta vs SFT": "delta"}[row["method"]]
        check_row(row, acc[method], tasks)


def test_vs_paper_maps_backbones(built, tmp_path):
    write_tables(built["db"], EXP, tmp_path, {"tiny-a": "qwen2.5-vl-3b"})
    rows = read_csv(tmp_path / "table1_vs_paper.csv")
    assert list(rows[0]) == [
        "backbone",
        "paper_backbone",
        "method",
        "task",
        "n",
        "paper_n",
        "ours",
        "ours_ci_low",
        "ours_ci_high",
        "paper",
        "ours_delta_vs_sft",
        "ours_delta_ci_low",
        "ours_delta_ci_high",
        "paper_delta_vs_sft",
    ]
    row = next(r for r in rows if (r["backbone"], r["method"], r["task"]) == ("tiny-a", "livr", "counting"))
    ours = expected_accuracy(built["cells"], EXP, "tiny-a", "counting", "livr", "counting")
    sft = expected_accuracy(built["cells"], EXP, "tiny-a", "counting", "sft", "counting")
    assert row["paper_backbone"] == "qwen2.5-vl-3b"
    assert abs(float(row["ours"]) - ours) <= 0.005 + 1e-9
    assert abs(float(row["ours_delta_vs_sft"]) - (ours - sft)) <= 0.005 + 1e-9
    with open(PAPER_CSV) as f:
        paper = {(r["table"], r["backbone"], r["method"], r["task"]): float(r["accuracy"]) for r in csv.DictReader(f)}
    assert float(row["paper"]) == paper["table1", "qwen2.5-vl-3b", "livr", "counting"]
    assert float(row["paper_delta_vs_sft"]) == pytest.approx(
        paper["table1", "qwen2.5-vl-3b", "livr", "counting"] - paper["table1", "qwen2.5-vl-3b", "sft", "counting"]
    )
    # An unmapped backbone is looked up under its own name, which the paper lacks.
    unmapped = [r for r in rows if r["backbone"] == "tiny-b"]
    assert unmapped and all(r["paper_backbone"] == "tiny-b" and r["paper"] == "" for r in unmapped)
    table2 = read_csv(tmp_path / "table2_vs_paper.csv")
    assert {r["task"] for r in table2} == set(MIXTURE_TASKS) and all(r["train_set"] == MIXTURE for r in table2)


def correct_by_id(cells, exp, backbone, train_set, method, task):
    for side, rows in read_cell_files(cells):
        if (side["experiment"], side["backbone"], side["train_set"], side["method"], side["task"]) == (
            exp,
            backbone,
            train_set,
            method,
            task,
        ):
            return {r["id"]: r["parsed"] == r["gold"] for r in rows}
    return None


def test_intervals_are_wilson_and_paired_bootstrap_of_the_predictions(built, tmp_path):
    from livr.results.stats import paired_bootstrap, wilson_interval

    for _exp, b, ts, m, t, n, k, lo, hi in query(
        built["db"], "SELECT experiment, backbone, train_set, method, task, n, n_correct, ci_low, ci_high FROM metrics"
    ):
        assert (lo, hi) == pytest.approx(wilson_interval(k, n), abs=1e-9), (b, ts, m, t)
        assert lo <= 100 * k / n <= hi
    deltas = query(
        built["db"],
        "SELECT experiment, backbone, train_set, task, method, baseline, n, delta, ci_low, "
        "ci_high, a_only, b_only FROM paired_deltas WHERE weights = 'selected'",
    )
    # every kept weights are best_val here, and no cell has last-step weights: the best_val
    # comparisons are the selected ones, and no trained pair exists at `last`
    assert sorted(deltas) == sorted(
        query(
            built["db"],
            "SELECT experiment, backbone, train_set, task, method, baseline, "
            "n, delta, ci_low, ci_high, a_only, b_only FROM paired_deltas WHERE weights = 'best_val'",
        )
    )
    assert query(built["db"], "SELECT count(*) FROM paired_deltas WHERE weights = 'last'") == [(0,)]
    expected_pairs = set()
    for side, _ in read_cell_files(built["cells"]):
        for baseline in ("sft", "livr"):
            key = (side["experiment"], side["backbone"], side["train_set"], side["task"])
            if side["method"] != baseline and correct_by_id(built["cells"], *key[:3], baseline, key[3]) is not None:
                expected_pairs.add((*key, side["method"], baseline))
    assert {d[:6] for d in deltas} == expected_pairs and expected_pairs
    for exp, b, ts, t, m, base, n, delta, lo, hi, a_only, b_only in deltas:
        a, z = correct_by_id(built["cells"], exp, b, ts, m, t), correct_by_id(built["cells"], exp, b, ts, base, t)
        ids = sorted(set(a) & set(z))
        want = paired_bootstrap([a[i] for i in ids], [z[i] for i in ids])
        assert (n, a_only, b_only) == (len(ids), want["a_only"], want["b_only"])
        assert (delta, lo, hi) == pytest.approx((want["delta"], want["ci_low"], want["ci_high"]))
        assert delta == pytest.approx(100 * (sum(a[i] for i in ids) - sum(z[i] for i in ids)) / len(ids))
        assert lo <= delta <= hi
    # the vs-paper CSV carries them: n, Wilson bounds on every row, the bootstrap on LIVR rows
    write_tables(built["db"], EXP, tmp_path)
    row = next(
        r
        for r in read_csv(tmp_path / "table1_vs_paper.csv")
        if (r["backbone"], r["method"], r["task"]) == ("tiny-a", "livr", "counting")
    )
    ((n, lo, hi),) = query(
        built["db"],
        "SELECT n, ci_low, ci_high FROM metrics WHERE experiment = ? AND backbone = "
        "'tiny-a' AND method = 'livr' AND task = 'counting' AND train_set = task",
        [EXP],
    )
    ((dlo, dhi),) = query(
        built["db"],
        "SELECT ci_low, ci_high FROM paired_deltas WHERE experiment = ? AND backbone = "
        "'tiny-a' AND method = 'livr' AND baseline = 'sft' AND task = 'counting' AND train_set = task "
        "AND weights = 'selected'",
        [EXP],
    )
    assert int(row["n"]) == n
    assert (float(row["ours_ci_low"]), float(row["ours_ci_high"])) == pytest.approx((lo, hi), abs=0.005)
    assert (float(row["ours_delta_ci_low"]), float(row["ours_delta_ci_high"])) == pytest.approx((dlo, dhi), abs=0.005)


def test_dvc_metrics_and_val_curves_hold_the_database(built, tmp_path):
    write_tables(built["db"], EXP, tmp_path)
    metrics = {
        str(p.relative_to(tmp_path / "metrics")): json.loads(p.read_text())
        for p in (tmp_path / "metrics").rglob("*.json")
    }
    got = {k: v["accuracy"] for k, v in metrics.items() if "accuracy" in v}
    want = {
        "/".join(r[:4]) + ".json": round(r[4], 2)
        for r in query(
            built["db"], "SELECT backbone, train_set, method, task, accuracy FROM metrics WHERE experiment = ?", [EXP]
        )
    }
    assert got == want
    assert all(set(v) <= {"accuracy", "n", "ci_low", "ci_high", "delta"} for v in metrics.values())  # a few columns
    d = metrics["tiny-a/counting/livr-sft/counting.json"]
    ((delta, n),) = query(
        built["db"],
        "SELECT delta, n FROM paired_deltas WHERE experiment = ? AND backbone = 'tiny-a' "
        "AND train_set = 'counting' AND method = 'livr' AND baseline = 'sft' AND weights = 'selected'",
        [EXP],
    )
    assert (d["delta"], d["n"]) == (round(delta, 2), n)
    # the one training run with metrics: its validation (epoch 1 of stage "2") is the curve's one point,
    # laid after stage "1", which ended at epoch 0.5
    (curve,) = sorted((tmp_path / "val_curves").iterdir())
    assert curve.name == "tiny-a__counting.csv"
    assert curve.read_text().splitlines() == ["epoch,livr", "1.5,41"]


def test_experiment_without_mixture_cells_gets_header_only_table2(built, tmp_path):
    write_tables(built["db"], "other", tmp_path)
    assert (tmp_path / "table2.csv").read_text() == "backbone,train_set,method,Mean\n"
    assert (tmp_path / "table2_vs_paper.csv").read_text().count("\n") == 1
    # Only SFT was run there: no Zero-shot, LIVR or Delta rows.
    (row,) = read_csv(tmp_path / "table1.csv")
    assert list(row) == ["backbone", "method", "jigsaw", "Mean"]
    assert (row["backbone"], row["method"]) == ("tiny-a", "Direct SFT")
    jigsaw = expected_accuracy(built["cells"], "other", "tiny-a", "jigsaw", "sft", "jigsaw")
    assert float(row["jigsaw"]) == float(row["Mean"]) == pytest.approx(jigsaw, abs=0.005)


def test_tables_reject_unknown_experiment_and_paper_backbone(built, tmp_path, capsys):
    assert cli(["tables", "--db", str(built["db"]), "--experiment", "nope", "--out-dir", str(tmp_path)]) == 2
    assert "experiment 'nope'" in capsys.readouterr().err and not list(tmp_path.glob("*.csv"))
    with pytest.raises(ValueError, match="no backbone 'qwen9'.*qwen3-vl-4b"):
        write_tables(built["db"], EXP, tmp_path, {"tiny-a": "qwen9"})


def test_mismatched_sidecar_is_rejected_naming_the_file(tmp_path, capsys):
    cell = make_cell(tmp_path, EXP, "tiny-a", "jigsaw", "sft", "jigsaw")
    sidecar = cell.with_suffix(".json")
    side = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**side, "n_correct": side["n_correct"] + 1}))
    rc = cli(["collect", "--cells", str(cell), "--out", str(tmp_path / "x.duckdb")])
    err = capsys.readouterr().err
    assert rc == 2 and str(sidecar) in err and "n_correct" in err
    assert not (tmp_path / "x.duckdb").exists()


def test_missing_key_is_rejected_naming_file_and_line(tmp_path):
    cell = make_cell(tmp_path, EXP, "tiny-a", "jigsaw", "sft", "jigsaw")
    lines = cell.read_text().splitlines()
    row = json.loads(lines[2])
    del row["gold"]
    cell.write_text("\n".join([*lines[:2], json.dumps(row), *lines[3:]]) + "\n")
    with pytest.raises(ValueError, match=rf"{cell}:3: missing key\(s\) \['gold'\]"):
        build_database(tmp_path / "x.duckdb", [cell])


def test_failed_collect_keeps_the_old_database_and_leaves_no_temp_file(built):
    db, cells = built["db"], built["cells"]
    before = db.read_bytes()
    corrupt = cells[-1]
    corrupt.write_text(corrupt.read_text() + "{not json\n")
    bad_line = len(corrupt.read_text().splitlines())
    with pytest.raises(ValueError, match=rf"{corrupt}:{bad_line}: not valid JSON"):
        build_database(db, cells)
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["livr.duckdb"]
    assert query(db, "SELECT count(*) FROM runs")[0][0] == len(cells)


def test_sql_prints_results_and_refuses_writes(built, capsys):
    assert (
        cli(
            [
                "sql",
                "SELECT backbone, count(*) AS n FROM runs WHERE experiment = 'demo' GROUP BY 1 ORDER BY 1",
                "--db",
                str(built["db"]),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    sides = [side for side, _ in read_cell_files(built["cells"])]
    n_a = sum(side["experiment"] == EXP and side["backbone"] == "tiny-a" for side in sides)
    assert out.split("\n")[0].split() == ["backbone", "n"] and f"tiny-a {n_a}" in " ".join(out.split())
    assert cli(["sql", "SELECT task, n FROM runs WHERE experiment = 'other'", "--db", str(built["db"]), "--csv"]) == 0
    assert capsys.readouterr().out == "task,n\njigsaw,12\n"
    assert cli(["sql", "DELETE FROM runs", "--db", str(built["db"])]) == 2
    assert "read-only" in capsys.readouterr().err
    assert cli(["sql", f"COPY runs TO '{built['root'] / 'leak.csv'}'", "--db", str(built["db"])]) == 2
    assert not (built["root"] / "leak.csv").exists()
    assert query(built["db"], "SELECT count(*) FROM runs")[0][0] == len(built["cells"])


def test_sql_names_a_missing_database(tmp_path, capsys):
    assert cli(["sql", "SELECT 1", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "none.duckdb: results database not found" in capsys.readouterr().err


def test_dataset_sizes_are_stored_and_shown_beside_the_papers(tmp_path):
    from livr.data.synthetic import build_synthetic_task

    dirs = []
    for task, n_test in (("counting", 5), ("jigsaw", 3)):
        d = tmp_path / "data" / task
        build_synthetic_task(task, d, n_train=4, n_val=2, n_test=n_test, seed=0)
        dirs.append(d)
    cell = make_cell(tmp_path, EXP, "tiny-a", "counting", "sft", "counting")
    db = tmp_path / "x.duckdb"
    assert (
        cli(["collect", "--cells", str(cell), "--experiment", EXP, "--datasets", *map(str, dirs), "--out", str(db)])
        == 0
    )
    assert query(db, "SELECT task, split, n FROM datasets ORDER BY task, split") == [
        ("counting", "test", 5),
        ("counting", "train", 4),
        ("counting", "val", 2),
        ("jigsaw", "test", 3),
        ("jigsaw", "train", 4),
        ("jigsaw", "val", 2),
    ]
    write_tables(db, EXP, tmp_path / "t")
    rows = read_csv(tmp_path / "t" / "datasets.csv")
    assert [(r["task"], r["split"], r["ours"], r["paper"]) for r in rows][:3] == [
        ("counting", "train", "4", "1000"),
        ("counting", "val", "2", "534"),
        ("counting", "test", "5", "528"),
    ]
    vs = read_csv(tmp_path / "t" / "table1_vs_paper.csv")
    assert {(r["task"], r["paper_n"]) for r in vs} == {("counting", "528")}
    # a directory without a manifest is named
    (tmp_path / "empty").mkdir()
    assert (
        cli(
            [
                "collect",
                "--cells",
                str(cell),
                "--experiment",
                EXP,
                "--datasets",
                str(tmp_path / "empty"),
                "--out",
                str(db),
            ]
        )
        == 2
    )


def test_cells_at_several_seeds_keep_their_seed_and_are_never_mixed(tmp_path):
    """sft and livr at seeds 42 and 43, zero-shot once: every row carries the seed its sidecar names
    (NULL for the base model), LIVR - SFT pairs the same seed, the tables pool the seeds."""
    task, seeds = "counting", (42, 43)
    cells = [make_cell(tmp_path, "s", "tiny-a", task, "zero_shot", task, n=40)]
    cells += [
        make_cell(tmp_path, "s", "tiny-a", task, m, task, n=40, train_seed=s) for m in ("sft", "livr") for s in seeds
    ]
    assert "seed43" in cells[-1].parts and "zero_shot" in cells[0].parts  # the layout's seed level
    db = tmp_path / "seeds.duckdb"
    assert cli(["collect", "--cells", *map(str, cells), "--out", str(db)]) == 0
    files = {(side["method"], side["seed"]): rows for side, rows in read_cell_files(cells)}
    assert set(files) == {("zero_shot", None), *((m, s) for m in ("sft", "livr") for s in seeds)}
    runs = query(db, "SELECT method, seed, weights, path FROM runs ORDER BY ALL")
    assert {(m, s) for m, s, _, _ in runs} == set(files) and len(runs) == len(files)
    assert all((w == "base") == (s is None) for _, s, w, _ in runs)
    for (method, seed), rows in files.items():
        stored = query(
            db,
            "SELECT id, correct FROM predictions WHERE method = ? AND seed IS NOT DISTINCT FROM ? ORDER BY id",
            [method, seed],
        )
        assert stored == sorted((r["id"], r["correct"]) for r in rows)
        ((acc,),) = query(
            db, "SELECT accuracy FROM metrics WHERE method = ? AND seed IS NOT DISTINCT FROM ?", [method, seed]
        )
        assert acc == pytest.approx(100 * sum(r["correct"] for r in rows) / len(rows))
    assert files[("livr", 42)] != files[("livr", 43)], "the fixture's seeds must differ for this test to mean anything"

    def delta(a, b):
        right = {x["id"]: x["correct"] for x in files[b]}
        return 100 * sum(x["correct"] - right[x["id"]] for x in files[a]) / len(files[a])

    deltas = query(
        db,
        "SELECT method, baseline, seed, delta FROM paired_deltas WHERE weights = 'selected' AND baseline = 'sft'",
    )
    assert sorted(deltas, key=str) == sorted(
        [("livr", "sft", s, pytest.approx(delta(("livr", s), ("sft", s)))) for s in seeds]
        + [("zero_shot", "sft", s, pytest.approx(delta(("zero_shot", None), ("sft", s)))) for s in seeds],
        key=str,
    )
    # the tables pool the seeds: each method's mean over its seeds, LIVR - SFT the mean of same-seed deltas
    assert cli(["tables", "--db", str(db), "--experiment", "s", "--out-dir", str(tmp_path / "tables")]) == 0
    table1 = (tmp_path / "tables" / "table1.csv").read_text()
    acc = {m: [100 * sum(r["correct"] for r in files[(m, s)]) / 40 for s in seeds] for m in ("sft", "livr")}
    assert f"tiny-a,LIVR,{sum(acc['livr']) / 2:.2f}," in table1
    assert f"tiny-a,Direct SFT,{sum(acc['sft']) / 2:.2f}," in table1
    pooled = sum(delta(("livr", s), ("sft", s)) for s in seeds) / 2
    assert f"tiny-a,Delta vs SFT,{pooled:.2f}," in table1


@pytest.mark.parametrize(
    "edit, needle",
    [
        ({"seed": 42, "weights": "base"}, "key 'seed' is 42; expected null for the base model"),
        ({"seed": None}, "key 'seed' is None; expected the training seed of the evaluated weights"),
        ({"seed": "42"}, "key 'seed' is '42'; expected the training seed"),
    ],
)
def test_a_sidecar_s_seed_must_match_its_weights(tmp_path, capsys, edit, needle):
    path = make_cell(tmp_path, "s", "tiny-a", "counting", "sft", "counting")
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), **edit}))
    assert cli(["collect", "--cells", str(path), "--out", str(tmp_path / "db.duckdb")]) == 2
    err = capsys.readouterr().err
    assert str(sidecar) in err and needle in err


def test_the_same_cell_at_the_same_seed_is_refused_twice(tmp_path, capsys):
    a = make_cell(tmp_path / "a", "s", "tiny-a", "counting", "zero_shot", "counting")
    b = make_cell(tmp_path / "b", "s", "tiny-a", "counting", "zero_shot", "counting")
    c = make_cell(tmp_path / "c", "s", "tiny-a", "counting", "sft", "counting", train_seed=43)
    d = make_cell(tmp_path / "d", "s", "tiny-a", "counting", "sft", "counting", train_seed=44)
    assert cli(["collect", "--cells", str(a), str(c), str(d), "--out", str(tmp_path / "ok.duckdb")]) == 0
    capsys.readouterr()
    assert cli(["collect", "--cells", str(a), str(b), "--out", str(tmp_path / "db.duckdb")]) == 2
    assert f"already read from {a}" in capsys.readouterr().err
    # the database's own key refuses it too (seed NULL included: coalesce(seed, -1) in its unique index)
    con = duckdb.connect(str(tmp_path / "ok.duckdb"))
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO runs SELECT * FROM runs WHERE seed IS NULL")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("UPDATE runs SET seed = 43 WHERE seed = 44")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("UPDATE runs SET seed = NULL WHERE seed = 44")  # trained weights without a seed
    con.close()
