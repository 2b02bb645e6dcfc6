"""Several training seeds per cell: the two-level bootstrap (against a hand computation and its
properties), the per-seed and pooled tables of the results database, and the tables over seeds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from test_results import make_cells, query

from livr.cli import main as cli
from livr.errors import InputError
from livr.layout import METRICS
from livr.results.db import build_database
from livr.results.stats import paired_bootstrap, two_level_bootstrap, wilson_interval
from livr.results.tables import SEED_COLUMNS, write_tables

EXP, BACKBONE, TASK = "seeds", "tiny-a", "counting"
N = 20
SEEDS = (42, 43, 44)
# examples right per seed (the first k of N): SFT 10, 12, 14; LIVR 13, 12, 18 -> LIVR - SFT +3, 0, +4 (of 20)
RIGHT = {"sft": dict(zip(SEEDS, (10, 12, 14))), "livr": dict(zip(SEEDS, (13, 12, 18))), "zero_shot": {None: 5}}


def write_cell(root: Path, method: str, seed: int | None, right: int, selected: bool = True) -> Path:
    """A counting cell whose first `right` of N examples are answered correctly; `selected=False`: at
    the run's other (last-step) weights."""
    rows = [
        {
            "id": f"{TASK}-{i:03d}",
            "task": TASK,
            "raw_output": "3" if i < right else "4",
            "parsed": "3" if i < right else "4",
            "parse_method": "number",
            "gold": "3",
            "correct": i < right,
        }
        for i in range(N)
    ]
    name = f"{TASK}.jsonl" if selected else f"{TASK}.unselected.jsonl"
    path = root / "cells" / EXP / BACKBONE / TASK / method / f"seed{seed}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    sidecar = {
        "experiment": EXP,
        "backbone": BACKBONE,
        "train_set": TASK,
        "method": method,
        "task": TASK,
        "weights": "base" if method == "zero_shot" else "best_val" if selected else "last",
        "selected": selected,
        "n": N,
        "n_correct": right,
        "n_unparsed": 0,
        "accuracy": 100 * right / N,
        "checkpoint": None,
        "seed": seed,
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    return path


@pytest.fixture
def seeded(tmp_path):
    cells = [write_cell(tmp_path, m, s, k) for m, by_seed in RIGHT.items() for s, k in by_seed.items()]
    db = tmp_path / "livr.duckdb"
    build_database(db, cells)
    return db


def correct_rows(method: str, seeds) -> np.ndarray:
    return np.array([[i < RIGHT[method][s] for i in range(N)] for s in seeds], dtype=float)


def test_two_level_bootstrap_against_a_hand_computation():
    d = np.array([[1, 0, -1, 1, 0], [0, 0, 1, 1, 1], [-1, 0, 0, 0, 0]], dtype=float)
    got = two_level_bootstrap(d, samples=5, seed=7)
    # by hand: each resample draws 5 examples (stream default_rng(7)) and 3 seeds (default_rng([7, 1])),
    # and averages d over every drawn (seed, example)
    # (drawn 1,000 resamples at a time: here all 5 at once)
    examples = np.random.default_rng(7).integers(0, 5, size=(5, 5))
    seeds = np.random.default_rng([7, 1]).integers(0, 3, size=(5, 3))
    means = [sum(d[s, i] for s in se for i in ex) / 15 for ex, se in zip(examples, seeds)]
    lo, hi = np.percentile(means, [2.5, 97.5])
    assert got["delta"] == pytest.approx(100 * 3 / 15)  # (1 + 3 - 1) / 15
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    assert (got["n_seeds"], got["n"], got["samples"], got["bootstrap_seed"]) == (3, 5, 5, 7)


def test_two_level_bootstrap_covers_training_noise():
    # seed A right on every example, seed B on none: each seed's own interval is a point, the pooled
    # one spans both (resamples of the seeds hold A 0, 1 or 2 times)
    d = np.array([[1.0] * 10, [0.0] * 10])
    assert paired_bootstrap(d[0], np.zeros(10))["ci_low"] == 100.0
    got = two_level_bootstrap(d)
    assert got["delta"] == 50.0 and (got["ci_low"], got["ci_high"]) == (0.0, 100.0)


def test_one_seed_is_the_paired_bootstrap_and_identical_seeds_are_no_narrower():
    rng = np.random.default_rng(3)
    a, b = rng.random(40) < 0.6, rng.random(40) < 0.5
    one = paired_bootstrap(a, b)
    single = two_level_bootstrap([a.astype(float) - b])
    assert {k: single[k] for k in one if k in single} == {k: one[k] for k in one if k in single}
    for k in (2, 3, 5):
        same = two_level_bootstrap([a.astype(float) - b] * k)
        assert same["ci_high"] - same["ci_low"] >= one["ci_high"] - one["ci_low"]
        assert (same["delta"], same["ci_low"], same["ci_high"]) == pytest.approx(
            (one["delta"], one["ci_low"], one["ci_high"])
        )
    with pytest.raises(ValueError, match="one row of scores per seed"):
        two_level_bootstrap([[]])


def test_runs_and_predictions_carry_the_training_seed(seeded):
    assert query(seeded, "SELECT method, list(seed ORDER BY seed) FROM runs GROUP BY method ORDER BY method") == [
        ("livr", list(SEEDS)),
        ("sft", list(SEEDS)),
        ("zero_shot", [None]),
    ]
    assert query(seeded, "SELECT count(*), count(DISTINCT seed) FROM predictions WHERE method = 'sft'") == [(3 * N, 3)]


def test_seed_metrics_summarise_each_cell_over_its_seeds(seeded):
    ((n_seeds, seeds, accs, mean, sd, lo, hi, n, ci_low, ci_high),) = query(
        seeded,
        "SELECT n_seeds, seeds, accuracies, accuracy, sd, min_accuracy, max_accuracy, n, ci_low, ci_high "
        "FROM seed_metrics WHERE method = 'sft' AND weights = 'selected'",
    )
    assert (n_seeds, seeds, n) == (3, list(SEEDS), N)
    assert accs == pytest.approx([50.0, 60.0, 70.0]) and (mean, sd, lo, hi) == pytest.approx((60.0, 10.0, 50.0, 70.0))
    want = two_level_bootstrap(correct_rows("sft", SEEDS))
    assert (ci_low, ci_high) == pytest.approx((want["ci_low"], want["ci_high"]))
    # one seed: no sd, and the Wilson interval of its accuracy, as before seeds
    ((sd, lo, hi),) = query(
        seeded, "SELECT sd, ci_low, ci_high FROM seed_metrics WHERE method = 'zero_shot' AND weights = 'selected'"
    )
    assert sd is None and (lo, hi) == pytest.approx(wilson_interval(RIGHT["zero_shot"][None], N))
    assert query(seeded, "SELECT DISTINCT n_seeds FROM pooled_accuracy") == [(3,)]  # several seeds only


def test_paired_deltas_per_seed_and_pooled(seeded):
    rows = query(
        seeded,
        "SELECT seed, n, delta, ci_low, ci_high FROM paired_deltas WHERE method = 'livr' AND baseline = 'sft' "
        "AND weights = 'selected' ORDER BY seed",
    )
    livr, sft = correct_rows("livr", SEEDS), correct_rows("sft", SEEDS)
    assert [r[0] for r in rows] == list(SEEDS)
    for (seed, n, delta, lo, hi), a, b in zip(rows, livr, sft):
        want = paired_bootstrap(a, b)
        assert (n, delta, lo, hi) == pytest.approx((N, want["delta"], want["ci_low"], want["ci_high"])), seed
    ((n_seeds, seeds, n, delta, lo, hi, supported),) = query(
        seeded,
        "SELECT n_seeds, seeds, n, delta, ci_low, ci_high, supported FROM pooled_deltas "
        "WHERE method = 'livr' AND baseline = 'sft' AND weights = 'selected'",
    )
    want = two_level_bootstrap(livr - sft)
    assert (n_seeds, seeds, n) == (3, list(SEEDS), N)
    assert delta == pytest.approx(100 * (3 + 0 + 4) / 3 / N)
    assert (lo, hi) == pytest.approx((want["ci_low"], want["ci_high"]))
    assert supported == (lo > 0 or hi < 0)
    # the base model (no seed) against every seed of SFT
    ((zs_seeds, zs_delta),) = query(
        seeded,
        "SELECT seeds, delta FROM pooled_deltas WHERE method = 'zero_shot' AND baseline = 'sft' AND "
        "weights = 'selected'",
    )
    assert zs_seeds == list(SEEDS) and zs_delta == pytest.approx(100 * (5 - 12) / N)
    assert query(seeded, "SELECT count(*) FROM paired_deltas WHERE method = 'zero_shot' AND baseline = 'sft'") == [
        (3 * 2,)  # three seeds, at selected and at best_val
    ]


def test_tables_over_seeds(seeded, tmp_path):
    write_tables(seeded, EXP, tmp_path, {BACKBONE: "qwen2.5-vl-3b"})
    table1 = {r["method"]: r for r in csv.DictReader(open(tmp_path / "table1.csv"))}
    assert float(table1["Direct SFT"][TASK]) == 60.0 and float(table1["LIVR"][TASK]) == pytest.approx(71.67)
    assert float(table1["Delta vs SFT"][TASK]) == pytest.approx(11.67)
    vs = {r["method"]: r for r in csv.DictReader(open(tmp_path / "table1_vs_paper.csv"))}
    assert set(SEED_COLUMNS) <= set(vs["sft"])
    sft, livr = vs["sft"], vs["livr"]
    assert sft["ours_per_seed"] == "42: 50.00; 43: 60.00; 44: 70.00"
    assert (sft["n_seeds"], sft["ours_sd"], sft["ours_min"], sft["ours_max"]) == ("3", "10.00", "50.00", "70.00")
    paper = float(sft["paper"])  # Table 1, Qwen2.5-VL-3B, counting
    assert sft["paper_vs_seeds"] == ("below" if paper < 50 else "above" if paper > 70 else "within")
    assert float(sft["paper_z"]) == pytest.approx((paper - 60.0) / 10.0, abs=0.005)
    assert livr["ours_delta_per_seed"].startswith("42: +15.00 [") and livr["ours_delta_per_seed"].count(";") == 2
    ((lo, hi, supported),) = query(
        seeded,
        "SELECT ci_low, ci_high, supported FROM pooled_deltas WHERE method = 'livr' AND baseline = 'sft' "
        "AND weights = 'selected'",
    )
    assert (float(livr["ours_delta_ci_low"]), float(livr["ours_delta_ci_high"])) == pytest.approx((lo, hi), abs=0.005)
    assert livr["ours_delta_supported"] == str(supported)
    assert vs["zero_shot"]["paper_z"] == ""  # one seed: no sd
    # the DVC metrics: each cell's mean over seeds, each difference pooled
    cell = json.loads((tmp_path / METRICS / BACKBONE / TASK / "sft" / f"{TASK}.json").read_text())
    ((acc_lo, acc_hi),) = query(
        seeded, "SELECT ci_low, ci_high FROM seed_metrics WHERE method = 'sft' AND weights = 'selected'"
    )
    assert cell == {
        "accuracy": 60.0,
        "n": N,
        "ci_low": round(acc_lo, 2),
        "ci_high": round(acc_hi, 2),
        "n_seeds": 3,
        "sd": 10.0,
    }
    delta = json.loads((tmp_path / METRICS / BACKBONE / TASK / "livr-sft" / f"{TASK}.json").read_text())
    assert delta == {
        "delta": 11.67,
        "n": N,
        "ci_low": round(lo, 2),
        "ci_high": round(hi, 2),
        "n_seeds": 3,
        "supported": supported,
    }
    zero_shot = json.loads((tmp_path / METRICS / BACKBONE / TASK / "zero_shot" / f"{TASK}.json").read_text())
    assert set(zero_shot) == {"accuracy", "n", "ci_low", "ci_high"}  # one run: as before seeds


def test_one_seed_reads_as_without_seeds(tmp_path):
    """A sidecar naming its seed changes no table: cells of one seed give the files of cells naming none."""
    outputs = []
    for named in (False, True):
        root = tmp_path / str(named)
        cells = make_cells(root)
        if named:
            for cell in cells:
                side = json.loads(cell.with_suffix(".json").read_text())
                side["seed"] = None if side["weights"] == "base" else 42
                cell.with_suffix(".json").write_text(json.dumps(side))
        build_database(root / "livr.duckdb", cells)
        write_tables(root / "livr.duckdb", "demo", root / "tables", {"tiny-a": "qwen2.5-vl-3b"})
        outputs.append({p.name: p.read_text() for p in sorted((root / "tables").glob("*.csv"))})
    assert outputs[0] == outputs[1]
    header = outputs[0]["table1_vs_paper.csv"].splitlines()[0].split(",")
    assert not set(SEED_COLUMNS) & set(header)
    # and every pooled delta is its one seed's paired delta
    db = tmp_path / "True" / "livr.duckdb"
    keys = "experiment, backbone, train_set, task, weights, method, baseline, n, delta, ci_low, ci_high"
    assert sorted(query(db, f"SELECT {keys} FROM pooled_deltas")) == sorted(
        query(db, f"SELECT {keys} FROM paired_deltas")
    )


def test_a_bad_seed_is_rejected_naming_the_file(tmp_path, capsys):
    cell = write_cell(tmp_path, "sft", 42, 10)
    side = json.loads(cell.with_suffix(".json").read_text())
    cell.with_suffix(".json").write_text(json.dumps({**side, "seed": "42"}))
    with pytest.raises(InputError, match=r"seed42.*key 'seed' is '42'; expected the training seed"):
        build_database(tmp_path / "db.duckdb", [cell])
    base = write_cell(tmp_path, "zero_shot", 7, 5)
    assert cli(["collect", "--cells", str(base), "--out", str(tmp_path / "db.duckdb")]) != 0
    assert "key 'seed' is 7; expected null for the base model" in capsys.readouterr().err
    # the same cell at the same seed twice is an error; at two seeds it is two rows
    twice = write_cell(tmp_path / "again", "sft", 42, 10)
    with pytest.raises(InputError, match="already read from"):
        build_database(tmp_path / "db.duckdb", [write_cell(tmp_path, "sft", 42, 10), twice])


def test_checkpoint_selection_per_seed(tmp_path):
    """selection.csv: each seed's cell at both weights, beside SFT of the same seed at the same weights."""
    cells = [write_cell(tmp_path, m, s, k) for m, by_seed in RIGHT.items() for s, k in by_seed.items()]
    cells += [write_cell(tmp_path, m, s, k + 2, selected=False) for m in ("sft", "livr") for s, k in RIGHT[m].items()]
    build_database(tmp_path / "livr.duckdb", cells)
    write_tables(tmp_path / "livr.duckdb", EXP, tmp_path / "tables")
    rows = [r for r in csv.DictReader(open(tmp_path / "tables" / "selection.csv")) if r["method"] == "livr"]
    assert [r["seed"] for r in rows] == [str(s) for s in SEEDS]
    for r, seed in zip(rows, SEEDS):
        livr, sft = RIGHT["livr"][seed], RIGHT["sft"][seed]
        assert float(r["best_val"]) == 100 * livr / N and float(r["last"]) == 100 * (livr + 2) / N
        assert float(r["best_val_minus_sft"]) == pytest.approx(100 * (livr - sft) / N)
        assert float(r["last_minus_sft"]) == pytest.approx(100 * (livr - sft) / N)


def test_ablations_show_the_mean_over_seeds(tmp_path):
    right = {**RIGHT, "livr_eval_no_latents": dict(zip(SEEDS, (6, 8, 10)))}
    cells = [write_cell(tmp_path, m, s, k) for m, by_seed in right.items() for s, k in by_seed.items()]
    build_database(tmp_path / "livr.duckdb", cells)
    write_tables(tmp_path / "livr.duckdb", EXP, tmp_path / "tables")
    ours = {r["method"]: r for r in csv.DictReader(open(tmp_path / "tables" / "ablations.csv"))}
    assert float(ours["livr_eval_no_latents"]["accuracy"]) == 40.0 and float(ours["sft"]["accuracy"]) == 60.0
