"""`livr tables` writes the ablation tables (ours, and ours beside the paper's) when the
experiment ran ablation methods, and not otherwise."""

import csv
import json

import pandas as pd
import pytest
from test_results import cli, make_cell

from livr.results.tables import PAPER_ABLATIONS_CSV, write_tables

METHODS = ("sft", "livr", "livr_k4", "livr_eval_no_latents")


def test_paper_ablations_csv_names_real_methods_and_tasks():
    import yaml

    from livr.data.schema import TASKS

    params = yaml.safe_load(open("params.yaml"))
    rows = list(csv.DictReader(open(PAPER_ABLATIONS_CSV)))
    assert {r["method"] for r in rows} - {""} <= set(params["methods"])
    assert {r["method"] for r in rows} - {"", "livr"} <= set(params["experiments"]["ablations"]["methods"])
    assert {r["task"] for r in rows} <= set(TASKS)
    by = {(r["ablation"], r["variant"], r["task"]): float(r["accuracy"]) for r in rows}
    assert by[("num_latents", "K=4", "semantic_correspondence")] == 62.59
    assert by[("eval_time", "stage-1 mask at test time", "localization")] == 70.49


def test_tables_write_ablations_when_the_experiment_has_them(tmp_path):
    cells = [
        make_cell(tmp_path, "abl", "tiny-x", t, m, t)
        for m in METHODS
        for t in ("localization", "functional_correspondence")
    ]
    cells.append(make_cell(tmp_path, "plain", "tiny-x", "localization", "sft", "localization"))
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", *map(str, cells), "--out", str(db)]) == 0
    written = write_tables(db, "abl", tmp_path / "out", {"tiny-x": "qwen3-vl-4b"})
    assert {p.name for p in written} >= {"ablations.csv", "ablations_vs_paper.csv", "table1.csv"}
    ours = pd.read_csv(tmp_path / "out" / "ablations.csv")
    assert set(ours["method"]) == set(METHODS)
    vs = pd.read_csv(tmp_path / "out" / "ablations_vs_paper.csv")
    k4 = vs[(vs.method == "livr_k4") & (vs.task == "localization")].iloc[0]
    assert k4.paper == 81.15 and k4.paper_delta_vs_livr == round(81.15 - 83.61, 2)
    livr = ours[(ours.method == "livr") & (ours.task == "localization")].accuracy.iloc[0]
    mine = ours[(ours.method == "livr_k4") & (ours.task == "localization")].accuracy.iloc[0]
    assert abs(k4.ours_delta_vs_livr - (mine - livr)) < 0.011
    assert set(vs[vs.method == "livr_eval_no_latents"].task) == {"localization"}  # the paper has it there only
    assert "prompt tuning" not in set(vs.variant)  # no method of ours: no row
    plain = write_tables(db, "plain", tmp_path / "plain")
    assert not any(p.name.startswith("ablations") for p in plain)


TABLE_TASKS = ("localization", "semantic_correspondence", "functional_correspondence")


def paper_rows(table):
    return [r for r in csv.DictReader(open(PAPER_ABLATIONS_CSV)) if r["ablation"] == table]


def test_table5_in_the_papers_layout_beside_the_papers_numbers(tmp_path):
    ran = ("zero_shot", "sft", "livr", "livr_split_0_10", "livr_mask_only", "prompt_tuning")
    cells = [make_cell(tmp_path, "abl", "tiny-x", t, m, t) for m in ran for t in TABLE_TASKS]
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", *map(str, cells), "--out", str(db)]) == 0
    written = {p.name for p in write_tables(db, "abl", tmp_path / "out", {"tiny-x": "qwen3-vl-4b"})}
    assert {"table5.csv", "table5_long.csv"} <= written and "table6.csv" not in written  # no Table 6 method ran
    table = pd.read_csv(tmp_path / "out" / "table5.csv")
    paper = paper_rows("table5")
    order = list(dict.fromkeys(r["variant"] for r in paper))
    assert order == [
        "Baseline",
        "SFT",
        "LIVR",
        "Latents only (no mask)",
        "Mask only (no latents)",
        "Input image x2 (no mask)",
        "Input image x2 (2-stage mask)",
        "Prompt tuning",
    ]
    assert list(table["row"]) == order
    assert list(table.columns) == [
        "backbone",
        "paper_backbone",
        "row",
        "method",
        *[c for t in TABLE_TASKS for c in (t, f"{t}_paper")],
    ]
    ours = pd.read_csv(tmp_path / "out" / "ablations.csv")
    for r in paper:
        row = table[table["row"] == r["variant"]].iloc[0]
        assert row["method"] == r["method"] and row[f"{r['task']}_paper"] == float(r["accuracy"])
        mine = ours[(ours.method == r["method"]) & (ours.task == r["task"])].accuracy
        if r["method"] in ran:
            assert row[r["task"]] == pytest.approx(mine.iloc[0], abs=0.006)
        else:  # a paper row we did not run: the paper's number, none of ours
            assert mine.empty and pd.isna(row[r["task"]])
    long = pd.read_csv(tmp_path / "out" / "table5_long.csv")
    assert {"n", "ours_ci_low", "ours_ci_high"} <= set(long.columns) and (long.dropna(subset=["ours"]).n == 12).all()


def test_tables_show_either_checkpoint_and_selection_puts_both_side_by_side(tmp_path):
    """Each trained cell also evaluated with its unselected (last-step) checkpoint: the default tables
    show the kept weights, --weights last the other ones, selection.csv both with LIVR - SFT at each."""
    cells = []
    for m in ("zero_shot", "sft", "livr"):
        cells.append(make_cell(tmp_path, "sel", "tiny-x", "localization", m, "localization", n=40))
        if m != "zero_shot":
            cells.append(
                make_cell(
                    tmp_path, "sel", "tiny-x", "localization", m, "localization", n=40, weights="last", selected=False
                )
            )
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", *map(str, cells), "--out", str(db)]) == 0

    def accuracy(method, suffix):
        (path,) = [p for p in cells if method in p.parts and p.name == f"localization{suffix}.jsonl"]
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        return 100 * sum(r["correct"] for r in rows) / len(rows)

    kept = {m: accuracy(m, "") for m in ("zero_shot", "sft", "livr")}
    last = {**kept, "sft": accuracy("sft", ".unselected"), "livr": accuracy("livr", ".unselected")}
    assert last != kept, "the fixture's two checkpoints must differ for this test to mean anything"
    for weights, want in (("selected", kept), ("best_val", kept), ("last", last)):
        out = tmp_path / weights
        assert cli(["tables", "--db", str(db), "--experiment", "sel", "--out-dir", str(out), "--weights", weights]) == 0
        rows = {r["method"]: r for r in csv.DictReader(open(out / "table1.csv"))}
        for label, m in (("Zero-shot", "zero_shot"), ("Direct SFT", "sft"), ("LIVR", "livr")):
            assert float(rows[label]["localization"]) == pytest.approx(want[m], abs=0.006), (weights, m)
        assert float(rows["Delta vs SFT"]["localization"]) == pytest.approx(want["livr"] - want["sft"], abs=0.006)
    sel = pd.read_csv(tmp_path / "selected" / "selection.csv")
    livr = sel[sel.method == "livr"].iloc[0]
    assert (livr.kept, livr.n) == ("best_val", 40)
    assert livr.best_val == pytest.approx(kept["livr"], abs=0.006) and livr["last"] == pytest.approx(
        last["livr"], abs=0.006
    )
    assert livr.best_val_minus_sft == pytest.approx(kept["livr"] - kept["sft"], abs=0.006)
    assert livr.last_minus_sft == pytest.approx(last["livr"] - last["sft"], abs=0.006)
    assert livr.last_minus_sft_ci_low <= livr.last_minus_sft <= livr.last_minus_sft_ci_high
    assert set(sel.method) == {"sft", "livr"}, "zero-shot has one set of weights: not a selection question"
    # the DVC metrics hold the kept weights only
    metrics = json.loads((tmp_path / "selected" / "metrics" / "tiny-x/localization/livr/localization.json").read_text())
    assert metrics["accuracy"] == round(kept["livr"], 2)


def test_bad_weights_choice_is_refused(tmp_path, capsys):
    cell = make_cell(tmp_path, "e", "tiny-x", "localization", "sft", "localization")
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", str(cell), "--out", str(db)]) == 0
    with pytest.raises(SystemExit) as exit_:
        cli(["tables", "--db", str(db), "--experiment", "e", "--weights", "final"])
    assert exit_.value.code == 2 and "invalid choice: 'final'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="weights 'final'; valid: selected, best_val, last"):
        write_tables(db, "e", tmp_path / "out", weights="final")
