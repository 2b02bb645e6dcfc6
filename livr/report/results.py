"""Report sections built from the tables `livr tables` writes (same code, into a temporary
folder): a compact Table 1 (and Table 2), LIVR - SFT beside the paper's as a chart and a compact
table (with several training seeds a forest plot: each seed, the pooled delta, the paper's), each
cell's seeds, the other tables an experiment produces, and the training curves."""

from __future__ import annotations

import tempfile

import pandas as pd

from livr.data.registry import TASK_SPECS
from livr.data.schema import TASKS
from livr.report.html import details, esc, frame_html, img_tag, label, missing, number, png_uri, pyplot, with_interval
from livr.results.tables import ROW_LABELS, TRAINING_CURVES_SQL, shown_seed, write_tables

MAIN_TABLES = {"table1": "Table 1: single-task training", "table2": "Table 2: multi-task training"}
OTHER_TITLES = {
    "ablations": "Ablations",
    "ablations_vs_paper": "Ablations vs the paper",
    "table3": "Table 3: spatial generalisation (SAT-32k)",
    "table4": "Table 4: Visual-CoT training",
    "mirage_vsp": "Mirage comparison: Visual Spatial Planning",
    "table5": "Table 5: controls, ours beside the paper's",
    "table6": "Table 6: latent design, ours beside the paper's",
}
LONG_FORMS = {"table5_long": "Table 5 with n and intervals", "table6_long": "Table 6 with n and intervals"}
OURS, PAPER, SEED, SFT = "#1f77b4", "#888888", "#9ecae1", "#ff7f0e"
# LIVR - SFT of each training seed (paired bootstrap), grouped as the vs-paper tables (train_set '' for Table 1)
SEED_DELTAS_SQL = """
SELECT backbone, CASE WHEN train_set = task THEN '' ELSE train_set END AS train_set, task, seed, delta, ci_low, ci_high
FROM paired_deltas
WHERE experiment = $experiment AND method = 'livr' AND baseline = 'sft' AND weights = 'selected'
  AND task IN (SELECT task FROM tasks)
ORDER BY backbone, train_set, task, seed
"""
# Each trained cell over its training seeds (view seed_metrics), at the weights each run kept
SEED_CELLS_SQL = """
SELECT backbone, CASE WHEN train_set = task THEN '' ELSE train_set END AS train_set, method, task, n_seeds, seeds,
       accuracies, accuracy, ci_low, ci_high
FROM seed_metrics
WHERE experiment = $experiment AND weights = 'selected' AND method IN ('sft', 'livr')
  AND task IN (SELECT task FROM tasks)
ORDER BY backbone, train_set, method, task
"""


def written_tables(db, experiment: str, mapping: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Every CSV table `livr tables` writes for the experiment, by name (table1, selection, ...)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tables(db, experiment, tmp, mapping)
        return {p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""]) for p in paths if p.suffix == ".csv"}


def _group_keys(mixture: bool) -> list[str]:
    return ["backbone", "train_set"] if mixture else ["backbone"]


def _group_title(key: tuple, paper_backbone) -> str:
    backbone, *train_set = key
    title = f"<b>{esc(backbone)}</b>" + (f" · trained on {esc(train_set[0])}" if train_set else "")
    return title + (f' <span class="note">· paper: {esc(paper_backbone)}</span>' if not missing(paper_backbone) else "")


def _task_header(tasks: list[str]) -> str:
    cells = "".join(
        f"<th>{label(t)}"
        + (f'<br><span class="ci">chance {TASK_SPECS[t].chance:.1f}</span>' if t in TASK_SPECS else "")
        + "</th>"
        for t in tasks
    )
    return f"<tr><th></th>{cells}<th>Mean</th></tr>"


def results_table(wide: pd.DataFrame, vs_paper: pd.DataFrame, mixture: bool) -> str:
    """Table 1 or 2 in the paper's layout, one header row per backbone (and mixture) instead of a
    column: accuracy (its n and 95% Wilson interval on hover), LIVR - SFT with its paired bootstrap
    interval below it, coloured where that excludes 0."""
    keys = _group_keys(mixture)
    tasks = [c for c in wide.columns if c not in (*keys, "method", "Mean")]
    if not mixture:
        vs_paper = vs_paper.assign(train_set="")
    by = {(r.backbone, r.train_set, r.method, r.task): r for r in vs_paper.itertuples()}
    paper_of = dict(zip(vs_paper["backbone"], vs_paper["paper_backbone"]))
    label_method = {v: k for k, v in ROW_LABELS.items()}
    rows = [f'<table class="data results">{_task_header(tasks)}']
    for key, group in wide.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            f'<tr class="group"><th colspan="{len(tasks) + 2}">{_group_title(key, paper_of.get(key[0]))}</th></tr>'
        )
        train_set = key[1] if mixture else ""
        for r in group.to_dict("records"):
            method = label_method[r["method"]]
            cells = []
            for t in tasks:
                if method == "delta_vs_sft":
                    c = by.get((key[0], train_set, "livr", t))
                    lo, hi = (c.ours_delta_ci_low, c.ours_delta_ci_high) if c else (None, None)
                    cells.append(f"<td>{with_interval(r[t], lo, hi, signed=True)}</td>")
                else:
                    c = by.get((key[0], train_set, method, t))
                    tip = (
                        f' title="n={c.n}, 95% [{c.ours_ci_low:.2f}, {c.ours_ci_high:.2f}]"'
                        if c and not missing(c.ours_ci_low)
                        else ""
                    )
                    cells.append(f"<td{tip}>{number(r[t])}</td>")
            mean = number(r["Mean"], signed=method == "delta_vs_sft")
            rows.append(f'<tr class="{method}"><th>{esc(r["method"])}</th>{"".join(cells)}<td>{mean}</td></tr>')
    return "".join(rows) + "</table>"


def tables_section(frames: dict[str, pd.DataFrame]) -> str:
    """Table 1 and 2 compact (those with rows), then the other tables the experiment produced."""
    parts = []
    for name, title in MAIN_TABLES.items():
        if not frames[name].empty:
            parts.append(
                f'<h3 id="{name}">{esc(title)} <span class="note">({name}.csv)</span></h3>'
                + results_table(frames[name], frames[f"{name}_vs_paper"], mixture=name == "table2")
            )
    for name, title in OTHER_TITLES.items():
        if name in frames and not frames[name].empty:
            frame = by_task(frames[name], "method") if name == "ablations" else frames[name]
            parts.append(f'<h3 id="{name}">{esc(title)} <span class="note">({name}.csv)</span></h3>{frame_html(frame)}')
    for name, title in LONG_FORMS.items():
        if name in frames and not frames[name].empty:
            parts.append(details(f"{esc(title)} ({name}.csv)", frame_html(frames[name])))
    return "".join(parts)


def by_task(long: pd.DataFrame, row: str) -> pd.DataFrame:
    """A long (backbone, `row`, task, accuracy) table as one row per (backbone, `row`), a column per task."""
    tasks = [t for t in TASKS if t in set(long["task"])]
    wide = long.pivot_table(index=["backbone", row], columns="task", values="accuracy", aggfunc="first", sort=False)
    return wide.reindex(columns=tasks).reset_index().rename_axis(columns=None)


def datasets_table(datasets: pd.DataFrame) -> str:
    """Examples per split of every task: ours / the paper's."""
    if datasets.empty:
        return ""
    cell = [f"{o:,} / {'n/a' if missing(p) else f'{int(p):,}'}" for o, p in zip(datasets["ours"], datasets["paper"])]
    wide = datasets.assign(cell=cell).pivot(index="task", columns="split", values="cell")
    wide = wide.reindex(
        index=list(dict.fromkeys(datasets["task"])),
        columns=[s for s in ("train", "val", "test") if s in set(datasets["split"])],
    )
    return frame_html(wide.rename(columns=lambda s: f"{s}: ours / paper").reset_index())


def vs_paper_deltas(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (backbone, train set, task) with LIVR and SFT: accuracies and LIVR - SFT, ours
    (with its paired bootstrap interval) and the paper's, from table1/2_vs_paper."""
    parts = []
    for name in MAIN_TABLES:
        vs = frames[f"{name}_vs_paper"]
        if vs.empty:
            continue
        vs = vs.assign(train_set=vs["train_set"] if "train_set" in vs else "")
        sft = vs[vs["method"] == "sft"][["backbone", "train_set", "task", "ours", "paper"]]
        livr = vs[vs["method"] == "livr"].merge(
            sft, on=["backbone", "train_set", "task"], how="left", suffixes=("", "_sft")
        )
        parts.append(livr.dropna(subset=["ours_delta_vs_sft"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def delta_chart(g: pd.DataFrame, backbone: str, train_set: str, seeds: pd.DataFrame | None = None) -> str:
    """LIVR - SFT per task: ours with its 95% interval, the paper's beside it. With several training
    seeds (`seeds`: paired_deltas rows of these tasks) a forest plot: each seed's delta with its paired
    bootstrap interval, then ours pooled over seeds (two-level bootstrap), then the paper's."""
    import numpy as np

    plt = pyplot()
    forest = seeds is not None and not seeds.empty and seeds.groupby("task").size().max() > 1
    y = np.arange(len(g))[::-1]  # first task on top
    fig, ax = plt.subplots(figsize=(6.4, (0.7 if forest else 0.34) * len(g) + 1.3))
    pooled = " pooled over seeds (95% two-level bootstrap)" if forest else " (95% paired bootstrap)"
    err = np.vstack([g["ours_delta_vs_sft"] - g["ours_delta_ci_low"], g["ours_delta_ci_high"] - g["ours_delta_vs_sft"]])
    ax.errorbar(
        g["ours_delta_vs_sft"],
        y + (0.3 if forest else 0.12),
        xerr=err,
        fmt="o",
        ms=5,
        capsize=3,
        color=OURS,
        label=f"ours: {backbone}{pooled}",
    )
    if forest:
        _seed_rows(ax, g, y, seeds)
    paper_backbone = g["paper_backbone"].iloc[0]
    off = 0.35 if forest else 0.12
    ax.plot(g["paper_delta_vs_sft"], y - off, "D", ms=5, color=PAPER, label=f"paper: {paper_backbone}")
    for yi, v in zip(y, g["paper_delta_vs_sft"]):
        if missing(v):
            ax.text(0, yi - off, " paper: n/a", fontsize=7, color=PAPER, va="center")
    ax.axvline(0, color="black", lw=0.8)
    finish_task_chart(fig, ax, y, list(g["task"]), "LIVR − SFT (accuracy points)", backbone, train_set)
    key = f"{backbone}/{train_set}"
    if not forest:
        return img_tag(png_uri(fig), "chart", f"LIVR - SFT {key}", key=key)
    drawn = ",".join(str(s) for s in sorted(seeds["seed"].dropna().unique()))
    return img_tag(png_uri(fig), "chart", f"LIVR - SFT {key}, per seed and pooled", key=key, seeds=drawn)


def finish_task_chart(fig, ax, y, tasks: list[str], xlabel: str, backbone: str, train_set: str) -> None:
    """A chart with one row per task (task i at height y[i]): labels, grid, the cell's title, and the
    legend below the x label, whatever the chart's height (savefig's tight bounding box takes it in)."""
    ax.set_yticks(y, [t.replace("_", " ") for t in tasks], fontsize=8)
    ax.set_ylim(-0.7, len(tasks) - 0.3)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", lw=0.3)
    ax.set_title(f"{backbone} trained on {train_set}" if train_set else f"{backbone}, trained per task", fontsize=9)
    fig.tight_layout()
    fig.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False)


def _seed_rows(ax, g: pd.DataFrame, y, seeds: pd.DataFrame) -> None:
    """Each task's per-seed deltas, spread between its pooled row and the paper's, with their intervals."""
    labelled = False
    for yi, task in zip(y, g["task"]):
        rows = seeds[seeds["task"] == task]
        for j, r in enumerate(rows.itertuples()):
            yj = yi + 0.15 - 0.35 * (j + 0.5) / len(rows)
            ax.errorbar(
                r.delta,
                yj,
                xerr=[[r.delta - r.ci_low], [r.ci_high - r.delta]],
                fmt="o",
                ms=3,
                capsize=2,
                lw=0.8,
                color=SEED,
                label=None if labelled else "ours: each seed (95% paired bootstrap)",
            )
            ax.text(r.ci_high, yj, f" {'base' if missing(r.seed) else int(r.seed)}", fontsize=6, va="center")
            labelled = True


def vs_paper_section(frames: dict[str, pd.DataFrame], seed_deltas: pd.DataFrame | None = None) -> str:
    """Per backbone (and mixture): the chart of LIVR - SFT and a compact table of the numbers behind it;
    with several training seeds (`seed_deltas`: SEED_DELTAS_SQL) the chart is a forest plot and the
    table has a column of each seed's delta."""
    deltas = vs_paper_deltas(frames)
    if deltas.empty:
        return ""
    seed_deltas = seed_deltas if seed_deltas is not None else pd.DataFrame(columns=["backbone", "train_set", "task"])
    several = not seed_deltas.empty and seed_deltas.groupby(["backbone", "train_set", "task"]).size().max() > 1
    charts, rows = [], []
    head = (
        "<tr><th>task</th><th>n</th><th>SFT</th><th>LIVR</th><th>LIVR − SFT</th>"
        + ("<th>LIVR − SFT per seed</th>" if several else "")
        + "<th>paper SFT</th><th>paper LIVR</th><th>paper LIVR − SFT</th></tr>"
    )
    for (backbone, train_set), g in deltas.groupby(["backbone", "train_set"], sort=False):
        seeds = seed_deltas[(seed_deltas["backbone"] == backbone) & (seed_deltas["train_set"] == train_set)]
        charts.append(delta_chart(g, backbone, train_set, seeds if several else None))
        key = (backbone, train_set) if train_set else (backbone,)
        rows.append(
            f'<tr class="group"><th colspan="{9 if several else 8}">{_group_title(key, g["paper_backbone"].iloc[0])}'
            "</th></tr>"
        )
        for r in g.itertuples():
            paper = "".join(
                f"<td>{number(v, signed) or 'n/a'}</td>"
                for v, signed in ((r.paper_sft, False), (r.paper, False), (r.paper_delta_vs_sft, True))
            )
            per_seed = "<br>".join(
                f"{'base' if missing(d.seed) else int(d.seed)}: {number(d.delta, True)}"
                for d in seeds[seeds["task"] == r.task].itertuples()
            )
            rows.append(
                f'<tr data-task="{esc(r.task)}"><th>{label(r.task)}</th><td>{r.n}</td><td>{number(r.ours_sft)}</td>'
                f"<td>{number(r.ours)}</td>"
                f"<td>{with_interval(r.ours_delta_vs_sft, r.ours_delta_ci_low, r.ours_delta_ci_high, signed=True)}</td>"
                + (f'<td class="seeds">{per_seed}</td>' if several else "")
                + f"{paper}</tr>"
            )
    return f'<div class="grid">{"".join(charts)}</div><table class="data vs-paper">{head}{"".join(rows)}</table>'


def seed_deltas(con, experiment: str) -> pd.DataFrame:
    return con.execute(SEED_DELTAS_SQL, {"experiment": experiment}).fetchdf()


def seeds_section(con, experiment: str) -> str:
    """Per backbone (and mixture), when a trained cell has several training seeds: each cell's seeds
    as dots, with their mean and its 95% two-level bootstrap interval, SFT beside LIVR per task."""
    cells = con.execute(SEED_CELLS_SQL, {"experiment": experiment}).fetchdf()
    if cells.empty or cells["n_seeds"].max() < 2:
        return ""
    return "".join(
        seeds_chart(g, backbone, train_set)
        for (backbone, train_set), g in cells.groupby(["backbone", "train_set"], sort=True)
    )


def seeds_chart(g: pd.DataFrame, backbone: str, train_set: str) -> str:
    """One row per task: SFT's and LIVR's seeds (dots) and their mean with its interval (bar)."""
    import numpy as np

    plt = pyplot()
    tasks = [t for t in TASKS if t in set(g["task"])]
    y = np.arange(len(tasks))[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.5 * len(tasks) + 1.3))
    for method, color, off in (("sft", SFT, -0.15), ("livr", OURS, 0.15)):
        name = ROW_LABELS[method]
        for yi, task in zip(y, tasks):
            r = g[(g["method"] == method) & (g["task"] == task)]
            if r.empty:
                continue
            r = r.iloc[0]
            first = task == tasks[0]
            ax.plot(
                r.accuracies,
                [yi + off] * len(r.accuracies),
                "o",
                ms=4,
                mfc="none",
                color=color,
                label=f"{name}: each seed" if first else None,
            )
            ax.errorbar(
                r.accuracy,
                yi + off,
                xerr=[[r.accuracy - r.ci_low], [r.ci_high - r.accuracy]],
                fmt="|",
                ms=12,
                mew=2,
                capsize=3,
                color=color,
                label=f"{name}: mean (95% two-level bootstrap)" if first else None,
            )
    finish_task_chart(fig, ax, y, list(tasks), "accuracy (%)", backbone, train_set)
    key = f"{backbone}/{train_set}"
    seeds = ",".join(str(int(s)) for s in sorted({s for ss in g["seeds"] for s in ss if s is not None}))
    return img_tag(png_uri(fig), "seeds", f"accuracy per seed {key}", key=key, seeds=seeds)


def cells_overview(con, experiment: str) -> pd.DataFrame:
    frame = con.execute(
        "SELECT backbone, train_set, method, seed, task, weights, selected, n, n_correct, n_unparsed, accuracy, "
        "ci_low, ci_high "
        "FROM metrics WHERE experiment = ? ORDER BY backbone, train_set, method, task, NOT selected, seed",
        [experiment],
    ).fetchdf()
    return _without_single_seeds(frame, ["backbone", "train_set", "method", "task", "weights"])


def paired_deltas(con, experiment: str, baseline: str) -> pd.DataFrame:
    """Every method minus `baseline` per cell (and training seed), with n and the paired bootstrap interval."""
    frame = con.execute(
        "SELECT backbone, train_set, task, method, seed, n, delta, ci_low, ci_high, a_only, b_only FROM paired_deltas "
        "WHERE experiment = ? AND baseline = ? AND weights = 'selected' ORDER BY backbone, train_set, method, task, "
        "seed",
        [experiment, baseline],
    ).fetchdf()
    return _without_single_seeds(frame, ["backbone", "train_set", "task", "method"])


def _without_single_seeds(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The frame without its seed column when no cell has several seeds (the page as before seeds)."""
    if frame.empty or frame.groupby(keys).size().max() <= 1:
        return frame.drop(columns="seed")
    return frame


def training_curves(con, experiment: str) -> str:
    """Per (backbone, train set): validation accuracy and training loss of each method against
    epochs, LIVR's stage 2 after its stage 1 (dotted line: the stage boundary)."""
    rows = con.execute(TRAINING_CURVES_SQL, {"experiment": experiment, "seed": shown_seed(con, experiment)}).fetchdf()
    if rows.empty:
        return ""
    plt = pyplot()
    tags = []
    for (backbone, train_set), group in rows.groupby(["backbone", "train_set"], sort=True):
        fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(6, 2.4))
        for method, m in group.groupby("method", sort=True):
            acc, loss = m.dropna(subset=["val_accuracy"]), m.dropna(subset=["loss"])
            (line,) = ax_acc.plot(acc["epoch"], acc["val_accuracy"], marker="o", ms=3, label=method)
            ax_loss.plot(loss["epoch"], loss["loss"], color=line.get_color(), label=method)
            for end in m.groupby("stage", sort=False)["epoch"].max().iloc[:-1]:
                for ax in (ax_acc, ax_loss):
                    ax.axvline(end, color=line.get_color(), ls=":", lw=1)
        for ax, title in ((ax_acc, "val accuracy (%)"), (ax_loss, "train loss")):
            ax.set_title(title, fontsize=8)
            ax.set_xlabel("epoch (stages in sequence)", fontsize=7)
            ax.tick_params(labelsize=7)
        ax_acc.legend(fontsize=7)
        fig.suptitle(f"{backbone} / {train_set}", fontsize=10)
        fig.tight_layout()
        tags.append(img_tag(png_uri(fig), "curve", f"training {backbone}/{train_set}", key=f"{backbone}/{train_set}"))
    return "".join(tags)
