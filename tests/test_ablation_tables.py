"""`livr tables` writes the ablation tables (ours, and ours beside the paper's) when the
experiment ran ablation methods, and not otherwise."""

import csv

import pandas as pd
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
    cells = [make_cell(tmp_path, "abl", "tiny-x", t, m, t) for m in METHODS for t in ("localization", "functional_correspondence")]
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
