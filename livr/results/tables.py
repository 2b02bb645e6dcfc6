"""`livr tables`: the paper's Tables 1-4 and the Mirage comparison as CSV, from the results
database, and the experiment's DVC metrics (metrics/) and plots (val_curves/).

Table 1 holds cells trained on the task they are evaluated on, Table 2 cells trained on a mixture
(one row group per backbone and mixture). Rows per backbone: Zero-shot, Direct SFT, LIVR and
Delta vs SFT (LIVR - SFT), each only when present; columns: the experiment's tasks in canonical
order, then Mean. A Mean is left empty when its row lacks one of the task columns, so means are
never taken over different task sets. Values are percent, rounded to 2 decimals after the mean and
delta are taken. An experiment with no cells of a kind still gets every file, header only, so a
workflow target is always produced; an experiment with no cells at all is an error.

When the experiment's cells include any of the paper's ablation methods (the `method` column of
livr/results/paper_ablations.csv other than `livr`), it also gets ablations.csv (our accuracy per
backbone, ablation method and task, `livr` and `sft` included as references) and
ablations_vs_paper.csv (ablations.sql: each paper ablation row beside ours, with both deltas
against default LIVR). Of the paper's Table 5 (controls) and Table 6 (latent design), each whose
methods the experiment ran (other than zero_shot, sft, livr) is written in the paper's layout,
rows in its order, each task's column of ours beside the paper's (table5.csv, table6.csv; the long
form with n and intervals in table5_long.csv, table6_long.csv).

Weights: a trained cell is evaluated with the checkpoint its run kept and with the other candidate
(best validation accuracy or last step; livr/train.py). The tables show what each run kept
(`--weights selected`, as the paper reports) or every trained cell at `best_val` or at `last`;
selection.csv puts both side by side with LIVR - SFT at each, so a reader can check whether a
conclusion hangs on checkpoint selection. attention_shares.csv (`livr analyze`, when the
experiment has analyses) puts the answer->latent attention beside the paper's.

The comparison experiments' tables (table3.csv, table4.csv, mirage_vsp.csv) hold the paper's rows
of that table (`reported_by`: livr for the LIVR paper's own runs, vigorl / lvr / mirage for numbers
it quotes from that work) and ours beside them, one column per benchmark the paper reports, our
value being the benchmark's own aggregate (view eval_set_metrics: BLINK-3 the mean of its subtask
accuracies, the others pooled), the mean over training seeds, with the training set's size and the
method's declared `deviations`. Written header-only when the experiment has no cell of that table.

Uncertainty: the *_vs_paper.csv rows carry n and the 95% Wilson interval of each accuracy, and
the LIVR rows the paired bootstrap interval of LIVR - SFT (livr/results/stats.py). Training seeds:
a cell of several seeds shows their mean, with the two-level bootstrap interval (seeds, then test
examples) of the mean and of LIVR - SFT; *_vs_paper.csv then adds each seed's value, their spread,
where the paper's number falls among them and whether LIVR - SFT is supported (vs_paper.sql); with
one seed per cell every file reads as before seeds. metrics/
holds every cell's accuracy (n, interval) and every paired difference against SFT and LIVR, one
small JSON each, so `dvc metrics show` is a table with a row per cell (and `dvc metrics diff`);
val_curves/<backbone>__<train_set>.csv the validation accuracy of each trained method against
epochs, for `dvc plots show`.
"""

from __future__ import annotations

import argparse
import csv
import json
from importlib import resources
from pathlib import Path

import pandas as pd

from livr.data.schema import TASKS
from livr.errors import InputError
from livr.io import atomic_dir, write_text
from livr.layout import METRICS, VAL_CURVES
from livr.results.db import WEIGHT_CHOICES, connect_read_only

_SQL = resources.files("livr.results")
TABLE_CELLS_SQL = _SQL.joinpath("table_cells.sql").read_text()
VS_PAPER_SQL = _SQL.joinpath("vs_paper.sql").read_text()
ABLATIONS_SQL = _SQL.joinpath("ablations.sql").read_text()
PAPER_TABLES_SQL = _SQL.joinpath("paper_tables.sql").read_text()
SELECTION_SQL = _SQL.joinpath("selection.sql").read_text()
TRAINING_CURVES_SQL = _SQL.joinpath("training_curves.sql").read_text()
PAPER_ABLATIONS_CSV = str(_SQL.joinpath("paper_ablations.csv"))
COMPARISON_TABLE_SQL = _SQL.joinpath("comparison_table.sql").read_text()
PAPER_ANALYSES_CSV = str(_SQL.joinpath("paper_analyses.csv"))
ROW_LABELS = {"zero_shot": "Zero-shot", "sft": "Direct SFT", "livr": "LIVR", "delta_vs_sft": "Delta vs SFT"}
TABLES = {"table1": False, "table2": True}  # name -> cells trained on a mixture?
COMPARISON_TABLES = ("table3", "table4", "mirage_vsp")  # paper.table_name of the comparison experiments
COMPARISON_KEYS = ["source", "reported_by", "backbone", "paper_backbone", "train_set", "method", "n_train"]
COMPARISON_NOTES = ["deviations"]  # after the benchmark columns: our method's departures from the quoted recipe
PAPER_LAYOUT_TABLES = ("table5", "table6")  # ablation groups of paper_ablations.csv written in the paper's layout
REFERENCE_METHODS = ("zero_shot", "sft", "livr")  # rows of those tables every experiment has
SELECTION = "selection.csv"
SEED_COLUMNS = [  # of *_vs_paper.csv, written when a cell has several training seeds (vs_paper.sql)
    "n_seeds",
    "ours_per_seed",
    "ours_sd",
    "ours_min",
    "ours_max",
    "paper_vs_seeds",
    "paper_z",
    "ours_delta_per_seed",
    "ours_delta_supported",
]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="results/livr.duckdb", help="results database (default: %(default)s)")
    parser.add_argument("--experiment", required=True, help="experiment name, as in params.yaml")
    parser.add_argument("--out-dir", default="results", help="where the CSV files go (default: %(default)s)")
    parser.add_argument(
        "--paper-backbone",
        action="extend",
        nargs="+",
        default=[],
        metavar="OURS=PAPER",
        help="compare our backbone with a paper backbone, e.g. tiny-qwen2.5-vl=qwen2.5-vl-3b "
        "(unmapped backbones are compared with the paper backbone of the same name)",
    )
    parser.add_argument(
        "--weights",
        default="selected",
        choices=WEIGHT_CHOICES,
        help="the trained cells' weights the tables show: what each run kept (default, as the paper "
        "reports), or every cell's best-validation or last-step checkpoint",
    )


EMPTY_BECAUSE = {  # why a table has no rows of ours: the experiment has no cell of its kind
    "table1": "no cell trained and tested on one of the nine tasks",
    "table2": "no cell trained on a mixture (Table 2's multi-task training)",
    **{
        name: f"no cell of the {name} comparison (the train_sets/eval_sets of that experiment)"
        for name in COMPARISON_TABLES
    },
}


def main(args: argparse.Namespace) -> int:
    mapping = parse_backbone_map(args.paper_backbone)
    for path in write_tables(args.db, args.experiment, args.out_dir, mapping, args.weights):
        empty = path.stem in EMPTY_BECAUSE and path.read_text().count("\n") <= 1
        # one line saying why, where a table is written header-only (its declared output exists either way)
        print(
            f"wrote {path}"
            + (f" (header only: experiment {args.experiment!r} has {EMPTY_BECAUSE[path.stem]})" if empty else "")
        )
    return 0


def parse_backbone_map(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items:
        ours, sep, paper = item.partition("=")
        if not sep or not ours or not paper:
            raise InputError(f"--paper-backbone {item!r}: expected OURS=PAPER, e.g. tiny-qwen2.5-vl=qwen2.5-vl-3b")
        mapping[ours] = paper
    return mapping


def write_tables(
    db: str | Path,
    experiment: str,
    out_dir: str | Path,
    paper_backbones: dict[str, str] | None = None,
    weights: str = "selected",
) -> list[Path]:
    """Write table1/table2 (+ _vs_paper), table3/table4/mirage_vsp CSVs (+ datasets, ablations,
    selection, attention shares, metrics, curves) for one experiment, at `weights`; the paths written."""
    if weights not in WEIGHT_CHOICES:
        raise InputError(f"weights {weights!r}; valid: {', '.join(WEIGHT_CHOICES)}")
    out_dir = Path(out_dir)
    con = connect_read_only(db)
    try:
        _check_names(con, experiment, paper_backbones or {})
        _check_weights(con, experiment, weights)
        con.execute("CREATE TEMP TABLE backbone_map (backbone VARCHAR, paper_backbone VARCHAR)")
        for ours, paper in (paper_backbones or {}).items():
            con.execute("INSERT INTO backbone_map VALUES (?, ?)", [ours, paper])
        written = []
        for name, mixture in TABLES.items():
            con.execute(
                "CREATE OR REPLACE TEMP TABLE table_cells AS " + TABLE_CELLS_SQL,
                {"experiment": experiment, "mixture": mixture, "weights": weights},
            )
            long = con.execute(
                "SELECT backbone, train_set, method, task, round(accuracy, 2) AS accuracy FROM table_cells"
            ).fetchdf()
            vs_paper = con.execute(VS_PAPER_SQL, {"table": name, "tasks": list(TASKS)}).fetchdf()
            if not mixture:
                vs_paper = vs_paper.drop(columns="train_set")
            if not several_seeds(con):  # one seed per cell: the table as before seeds
                vs_paper = vs_paper.drop(columns=SEED_COLUMNS)
            for path, frame in (
                (out_dir / f"{name}.csv", wide_table(long, mixture)),
                (out_dir / f"{name}_vs_paper.csv", vs_paper),
            ):
                write_text(path, frame.to_csv(index=False, float_format="%.2f"))
                written.append(path)
        written.append(write_datasets(con, experiment, out_dir / "datasets.csv"))
        for name in COMPARISON_TABLES:
            path = out_dir / f"{name}.csv"
            write_text(path, comparison_table(con, experiment, name).to_csv(index=False, float_format="%.2f"))
            written.append(path)
        written += _write_ablations(con, experiment, out_dir, weights)
        selection = con.execute(SELECTION_SQL, {"experiment": experiment, "tasks": list(TASKS)}).fetchdf()
        if selection.empty or selection.groupby(["backbone", "train_set", "method", "task"]).size().max() <= 1:
            selection = selection.drop(columns="seed")  # one seed per cell: as before seeds
        write_text(out_dir / SELECTION, selection.to_csv(index=False, float_format="%.2f"))
        written.append(out_dir / SELECTION)
        written += _write_attention_shares(con, experiment, out_dir, paper_backbones or {})
        written.append(write_metrics(con, experiment, out_dir / METRICS))
        written.append(write_val_curves(con, experiment, out_dir / VAL_CURVES))
        return written
    finally:
        con.close()


def shown_seed(con, experiment: str) -> int | None:
    """The training seed the validation curves show (they do not pool seeds): the experiment's
    smallest, the only one for a single-seed experiment; None when nothing trained."""
    return con.execute("SELECT min(seed) FROM runs WHERE experiment = ?", [experiment]).fetchone()[0]


def several_seeds(con) -> bool:
    """Whether a cell of the temp table `table_cells` pools several training seeds."""
    return bool(con.execute("SELECT coalesce(max(n_seeds), 1) > 1 FROM table_cells").fetchone()[0])


def _write_ablations(con, experiment: str, out_dir: Path, weights: str) -> list[Path]:
    # the connection has no file access: the CSV is read here and inserted
    con.execute(
        "CREATE OR REPLACE TEMP TABLE paper_ablations (ablation VARCHAR, variant VARCHAR, method VARCHAR, "
        "backbone VARCHAR, task VARCHAR, accuracy DOUBLE, row_order INTEGER)"
    )
    with open(PAPER_ABLATIONS_CSV, newline="") as f:
        rows = [
            (r["ablation"], r["variant"], r["method"] or None, r["backbone"], r["task"], float(r["accuracy"]), i)
            for i, r in enumerate(csv.DictReader(f))
        ]
    con.executemany("INSERT INTO paper_ablations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    ran = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT method FROM metrics WHERE experiment = ? AND method IN (SELECT method FROM "
            "paper_ablations)",
            [experiment],
        ).fetchall()
    }
    if not ran - set(REFERENCE_METHODS):
        return []
    ours = con.execute(
        "SELECT backbone, method, task, round(accuracy, 2) AS accuracy FROM seed_metrics "
        "WHERE experiment = ? AND train_set = task AND weights = ? "
        "AND (method IN (SELECT method FROM paper_ablations) OR method = 'sft') "
        "ORDER BY backbone, method, list_position(?, task)",
        [experiment, weights, list(TASKS)],
    ).fetchdf()
    vs_paper = con.execute(
        ABLATIONS_SQL, {"experiment": experiment, "tasks": list(TASKS), "weights": weights}
    ).fetchdf()
    frames = {"ablations": ours, "ablations_vs_paper": vs_paper}
    for table in PAPER_LAYOUT_TABLES:
        methods = {
            r[0]
            for r in con.execute("SELECT DISTINCT method FROM paper_ablations WHERE ablation = ?", [table]).fetchall()
        }
        if (methods - set(REFERENCE_METHODS)) & ran:
            long = con.execute(
                PAPER_TABLES_SQL, {"experiment": experiment, "table": table, "weights": weights, "tasks": list(TASKS)}
            ).fetchdf()
            frames[table] = paper_layout(long)
            frames[f"{table}_long"] = long.drop(columns="row_order")
    written = []
    for name, frame in frames.items():
        write_text(out_dir / f"{name}.csv", frame.to_csv(index=False, float_format="%.2f"))
        written.append(out_dir / f"{name}.csv")
    return written


DATASETS_SQL = """
SELECT d.task, d.split, d.n AS ours, p.n AS paper
FROM datasets d
LEFT JOIN paper_datasets p USING (task, split)
WHERE d.experiment = $experiment
ORDER BY list_position($tasks, d.task), list_position(['train', 'val', 'test'], d.split)
"""


def write_datasets(con, experiment: str, path: Path) -> Path:
    """datasets.csv: examples per split of every task the experiment read, beside the paper's."""
    frame = con.execute(DATASETS_SQL, {"experiment": experiment, "tasks": list(TASKS)}).fetchdf()
    write_text(path, frame.to_csv(index=False))
    return path


def comparison_table(con, experiment: str, table: str) -> pd.DataFrame:
    """The paper's rows of `table`, then ours, per paper backbone; one column per benchmark the
    paper reports (in its order). Header only when the experiment has no cell of the table."""
    columns = [
        r[0]
        for r in con.execute(
            "SELECT task FROM paper WHERE table_name = ? GROUP BY task ORDER BY min(rowid)", [table]
        ).fetchall()
    ]
    long = con.execute(COMPARISON_TABLE_SQL, {"experiment": experiment, "table": table}).fetchdf()
    if long.empty:
        return pd.DataFrame(columns=[*COMPARISON_KEYS, *columns, *COMPARISON_NOTES])
    long = long.fillna({"reported_by": "", "train_set": ""})
    keys = ["source", "backbone", "paper_backbone", "train_set", "method"]
    wide = long.pivot_table(index=keys, columns="column", values="accuracy", aggfunc="first").reset_index()
    wide = wide.reindex(columns=[*keys, *columns])
    by = long.groupby(keys, dropna=False)
    # a paper row's reported_by and position (its first cell in the paper's CSV order)
    meta = by.agg(
        reported_by=("reported_by", lambda v: "/".join(sorted(set(v) - {""}))),
        row_order=("row_order", "min"),
        n_train=("n_train", "max"),
        deviations=("deviations", lambda v: "; ".join(dict.fromkeys(v.dropna()))),
    ).reset_index()
    wide = wide.merge(meta, on=keys)
    paper_order = list(dict.fromkeys(long.loc[long["source"] == "paper"].sort_values("row_order")["paper_backbone"]))
    wide["group"] = wide["paper_backbone"].map(lambda b: paper_order.index(b) if b in paper_order else len(paper_order))
    methods = list(ROW_LABELS)
    wide["method_order"] = wide["method"].map(lambda m: methods.index(m) if m in methods else len(methods))
    wide["ours_last"] = wide["source"] == "ours"
    wide = wide.sort_values(
        ["group", "paper_backbone", "ours_last", "row_order", "backbone", "train_set", "method_order", "method"],
        kind="stable",
    )
    for c in columns:
        wide[c] = wide[c].astype(float).round(2)
    wide["n_train"] = wide["n_train"].astype("Int64")
    return wide[[*COMPARISON_KEYS, *columns, *COMPARISON_NOTES]]


def paper_layout(long: pd.DataFrame) -> pd.DataFrame:
    """paper_tables.sql's long rows (ordered) -> one row per (backbone, paper row), each task's accuracy
    of ours beside the paper's (`<task>`, `<task>_paper`), rows in the paper's order."""
    tasks = [t for t in TASKS if t in set(long["task"])]
    columns = ["backbone", "paper_backbone", "row", "method", *[c for t in tasks for c in (t, f"{t}_paper")]]
    rows = []
    keys = ["backbone", "paper_backbone", "row_order", "variant", "method"]
    for (backbone, paper_backbone, _, variant, method), g in long.groupby(keys, sort=False, dropna=False):
        by_task = g.set_index("task")
        row = {"backbone": backbone, "paper_backbone": paper_backbone, "row": variant, "method": method}
        for t in tasks:
            row[t], row[f"{t}_paper"] = by_task["ours"].get(t), by_task["paper"].get(t)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns).round(2)


def attention_shares_frame(con, experiment: str, paper_backbones: dict[str, str]) -> pd.DataFrame:
    """Each analysed model's answer->latent (and ->image) attention per task, beside the paper's
    (livr/results/paper_analyses.csv) for the mapped paper backbone; empty without analyses."""
    frame = con.execute(
        "SELECT backbone, train_set, method, task, weights, n, answer_to_latent, answer_to_image, predictor_to_latent, "
        "predictor_to_image FROM attention_shares WHERE experiment = ? "
        "ORDER BY backbone, train_set, method, list_position(?, task)",
        [experiment, list(TASKS)],
    ).fetchdf()
    frame.insert(1, "paper_backbone", [paper_backbones.get(b, b) for b in frame["backbone"]])
    paper = pd.read_csv(PAPER_ANALYSES_CSV)
    paper = (
        paper[paper["analysis"] == "answer_to_latent_attention"]
        .rename(columns={"backbone": "paper_backbone", "value": "paper_answer_to_latent"})
        .drop(columns="analysis")
    )
    return frame.merge(paper, on=["paper_backbone", "method", "task"], how="left")


def _write_attention_shares(con, experiment: str, out_dir: Path, paper_backbones: dict[str, str]) -> list[Path]:
    """attention_shares.csv (attention_shares_frame), when the experiment has analyses."""
    frame = attention_shares_frame(con, experiment, paper_backbones)
    if frame.empty:
        return []
    path = out_dir / "attention_shares.csv"
    write_text(path, frame.to_csv(index=False, float_format="%.4f"))
    return [path]


# Each cell at its kept weights over its training seeds (seed_metrics: for one seed its accuracy and
# Wilson interval, as before seeds; for several the mean and its two-level bootstrap interval).
METRIC_CELLS_SQL = """
SELECT backbone, train_set, method, task, accuracy, n, ci_low, ci_high, n_seeds, sd
FROM seed_metrics
WHERE experiment = ? AND weights = 'selected'
ORDER BY ALL
"""


def write_metrics(con, experiment: str, out_dir: Path) -> Path:
    """The DVC metrics, of the weights each run kept: one small JSON per row of `dvc metrics show`,
    so its table has a row per cell and a few columns. <backbone>/<train_set>/<method>/<task>.json:
    accuracy, n, ci_low, ci_high (and for a comparison benchmark its own number: benchmark_accuracy,
    aggregate[, pair_accuracy]); <backbone>/<train_set>/<method>-<baseline>/<task>.json: the paired
    difference, delta, n, ci_low, ci_high. A cell of several training seeds: the mean over them with
    the two-level bootstrap interval, and n_seeds, sd (cells) or n_seeds, supported (differences)."""
    cells = con.execute(METRIC_CELLS_SQL, [experiment]).fetchall()
    deltas = con.execute(
        "SELECT backbone, train_set, task, method, baseline, delta, n, ci_low, ci_high, n_seeds, supported "
        "FROM pooled_deltas WHERE experiment = ? AND weights = 'selected' ORDER BY ALL",
        [experiment],
    ).fetchall()
    benchmarks = {
        tuple(b[:4]): b[4:]
        for b in con.execute(
            "SELECT backbone, train_set, method, eval_set, accuracy, aggregate, pair_accuracy FROM eval_set_metrics "
            "WHERE experiment = ? AND selected ORDER BY ALL",
            [experiment],
        ).fetchall()
    }
    files = {}
    for c in cells:
        row = {"accuracy": round(c[4], 2), "n": c[5], "ci_low": round(c[6], 2), "ci_high": round(c[7], 2)}
        if c[8] > 1:
            row |= {"n_seeds": c[8], "sd": round(c[9], 2)}
        if tuple(c[:4]) in benchmarks:  # the benchmark's own number (accuracy is pooled over examples)
            accuracy, aggregate, pairs = benchmarks[tuple(c[:4])]
            row |= {
                "benchmark_accuracy": round(accuracy, 2),
                "aggregate": aggregate,
                **({"pair_accuracy": round(pairs, 2)} if pairs is not None else {}),
            }
        files[f"{c[0]}/{c[1]}/{c[2]}/{c[3]}.json"] = row
    for d in deltas:
        files[f"{d[0]}/{d[1]}/{d[3]}-{d[4]}/{d[2]}.json"] = {
            "delta": round(d[5], 2),
            "n": d[6],
            "ci_low": round(d[7], 2),
            "ci_high": round(d[8], 2),
            **({"n_seeds": d[9], "supported": d[10]} if d[9] > 1 else {}),
        }
    with atomic_dir(out_dir) as tmp:
        for rel, row in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(json.dumps(row) + "\n")
    return out_dir


def write_val_curves(con, experiment: str, out_dir: Path) -> Path:
    """One CSV per (backbone, train set): epoch, then one column of validation accuracy per trained
    method (LIVR's stage 2 continues stage 1's epochs). Empty directory when nothing was trained."""
    long = (
        con.execute(TRAINING_CURVES_SQL, {"experiment": experiment, "seed": shown_seed(con, experiment)})
        .fetchdf()
        .dropna(subset=["val_accuracy"])
    )
    with atomic_dir(out_dir) as tmp:
        for (backbone, train_set), group in long.groupby(["backbone", "train_set"], sort=True):
            wide = group.pivot_table(index="epoch", columns="method", values="val_accuracy", aggfunc="last")
            wide.reset_index().to_csv(tmp / f"{backbone}__{train_set}.csv", index=False, float_format="%.4g")
    return out_dir


def _check_weights(con, experiment: str, weights: str) -> None:
    """A --weights choice no trained cell was evaluated at would give tables of zero-shot rows alone."""
    trained = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT weights FROM runs WHERE experiment = ? AND weights <> 'base'", [experiment]
        ).fetchall()
    }
    if weights != "selected" and trained and weights not in trained:
        raise InputError(
            f"--weights {weights}: experiment {experiment!r} has no trained cell evaluated at its {weights} weights "
            f"(its runs were evaluated only with the weights they kept: `evaluate_unselected: false` in params.yaml); "
            f"valid here: {', '.join(['selected', *sorted(trained)])}"
        )


def _check_names(con, experiment: str, paper_backbones: dict[str, str]) -> None:
    experiments = [r[0] for r in con.execute("SELECT DISTINCT experiment FROM runs ORDER BY 1").fetchall()]
    if experiment not in experiments:
        raise InputError(
            f"experiment {experiment!r} has no cells in the database; experiments: {', '.join(experiments) or '(none)'}"
        )
    known = [r[0] for r in con.execute("SELECT DISTINCT backbone FROM paper ORDER BY 1").fetchall()]
    for ours, paper in paper_backbones.items():
        if paper not in known:
            raise InputError(
                f"--paper-backbone {ours}={paper}: the paper has no backbone {paper!r}; valid: {', '.join(known)}"
            )


def wide_table(long: pd.DataFrame, mixture: bool) -> pd.DataFrame:
    """Long (backbone, train_set, method, task, accuracy) -> the paper's layout."""
    tasks = [t for t in TASKS if t in set(long["task"])]
    keys = ["backbone", "train_set", "method"] if mixture else ["backbone", "method"]
    if long.empty:
        return pd.DataFrame(columns=[*keys, *tasks, "Mean"])
    wide = long.pivot(index=["backbone", "train_set", "method"], columns="task", values="accuracy")
    wide = wide.reindex(columns=[*tasks, "Mean"]).reset_index()
    wide["order"] = wide["method"].map(list(ROW_LABELS).index)
    wide = wide.sort_values(["backbone", "train_set", "order"])
    wide["method"] = wide["method"].map(ROW_LABELS)
    return wide[[*keys, *tasks, "Mean"]]
