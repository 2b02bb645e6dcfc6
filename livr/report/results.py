"""Report sections built from the database alone: the tables, LIVR - SFT with its intervals,
training curves."""

from __future__ import annotations

import tempfile

import pandas as pd

from livr.report.html import esc, frame_html, img_tag, png_uri
from livr.results.tables import TRAINING_CURVES_SQL, write_tables

TITLES = {"table1": "Table 1: single-task training", "table1_vs_paper": "Table 1 vs the paper",
          "table2": "Table 2: multi-task training", "table2_vs_paper": "Table 2 vs the paper",
          "ablations": "Ablations", "ablations_vs_paper": "Ablations vs the paper",
          "table3": "Table 3: spatial generalisation (SAT-32k)", "table4": "Table 4: Visual-CoT training",
          "mirage_vsp": "Mirage comparison: Visual Spatial Planning",
          "table5": "Table 5: controls, ours beside the paper's", "table5_long": "Table 5 (long, with n and intervals)",
          "table6": "Table 6: latent design, ours beside the paper's", "table6_long": "Table 6 (long, with n and intervals)",
}
OWN_SECTIONS = ("selection", "attention_shares")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tables_section(db, experiment: str, mapping: dict[str, str]) -> str:
    """The CSV tables exactly as `livr tables` writes them (same code, into a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tables(db, experiment, tmp, mapping)
        # selection.csv and attention_shares.csv have sections of their own (analysis.py)
        frames = {p.stem: pd.read_csv(p) for p in paths if p.suffix == ".csv" and p.stem not in OWN_SECTIONS}
    return "".join(
        f'<h3 id="{name}">{esc(TITLES.get(name, name))} <span class="note">({name}.csv)</span></h3>{frame_html(frame)}'
        for name, frame in frames.items()
    )


def cells_overview(con, experiment: str) -> pd.DataFrame:
    return con.execute(
        "SELECT backbone, train_set, method, task, weights, selected, n, n_correct, n_unparsed, "
        "round(accuracy, 2) AS accuracy, round(ci_low, 2) AS ci_low, round(ci_high, 2) AS ci_high "
        "FROM metrics WHERE experiment = ? ORDER BY backbone, train_set, method, task, NOT selected", [experiment]
    ).fetchdf()


def paired_deltas(con, experiment: str, baseline: str) -> pd.DataFrame:
    """Every method minus `baseline` per cell, with n and the paired bootstrap interval."""
    return con.execute(
        "SELECT backbone, train_set, task, method, n, round(delta, 2) AS delta, round(ci_low, 2) AS ci_low, "
        "round(ci_high, 2) AS ci_high, a_only, b_only FROM paired_deltas "
        "WHERE experiment = ? AND baseline = ? AND weights = 'selected' ORDER BY backbone, train_set, method, task",
        [experiment, baseline]
    ).fetchdf()


def delta_rows(con, experiment: str, mapping: dict[str, str]) -> pd.DataFrame:
    """LIVR - SFT per (backbone, train set, task): ours with its interval, and the paper's for the
    mapped paper backbone (single-task cells from Table 1, mixtures from Table 2)."""
    return con.execute(
        """
        SELECT d.backbone, d.train_set, d.task, d.delta AS ours, d.ci_low, d.ci_high, d.n,
               pl.accuracy - ps.accuracy AS paper
        FROM paired_deltas d
        LEFT JOIN (SELECT unnest(?) AS backbone, unnest(?) AS paper_backbone) m ON m.backbone = d.backbone
        LEFT JOIN paper pl ON pl.method = 'livr' AND pl.task = d.task AND pl.backbone = m.paper_backbone
             AND pl.table_name = CASE WHEN d.train_set = d.task THEN 'table1' ELSE 'table2' END
        LEFT JOIN paper ps ON ps.method = 'sft' AND ps.task = d.task AND ps.backbone = m.paper_backbone
             AND ps.table_name = pl.table_name
        WHERE d.experiment = ? AND d.method = 'livr' AND d.baseline = 'sft' AND d.weights = 'selected'
        ORDER BY d.backbone, d.train_set, d.task
        """, [list(mapping), list(mapping.values()), experiment]).fetchdf()


def delta_charts(deltas: pd.DataFrame, mapping: dict[str, str]) -> str:
    """One bar chart per (backbone, train set): ours with its 95% interval, the paper's beside it."""
    if deltas.empty:
        return '<p class="note">No cell has both LIVR and SFT.</p>'
    import numpy as np

    plt = _pyplot()
    tags = []
    # single-task cells (trained on the task they are tested on) share one chart, as in Table 1
    deltas = deltas.assign(group=deltas["train_set"].where(deltas["train_set"] != deltas["task"], ""))
    for (backbone, group), g in deltas.groupby(["backbone", "group"], sort=False):
        x = np.arange(len(g))
        fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(g) + 1.5), 3.0))
        err = np.vstack([g["ours"] - g["ci_low"], g["ci_high"] - g["ours"]])
        ax.bar(x - 0.2, g["ours"], 0.4, yerr=err, capsize=3, label=f"ours: {backbone} (95% paired bootstrap)",
               color="#1f77b4")
        ax.bar(x + 0.2, g["paper"].fillna(0), 0.4, label=f"paper: {mapping.get(backbone, 'n/a')}", color="#aaaaaa")
        for xi, v in zip(x, g["paper"]):
            if pd.isna(v):
                ax.text(xi + 0.2, 0, "n/a", ha="center", va="bottom", fontsize=7)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, [t.replace("_", "\n") for t in g["task"]], fontsize=7)
        ax.set_ylabel("LIVR - SFT (points)")
        ax.set_title(f"{backbone} trained on {group}" if group else f"{backbone}, trained per task", fontsize=9)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, frameon=False)
        fig.tight_layout()
        key = f"{backbone}/{group}"
        tags.append(img_tag(png_uri(fig), "chart", f"deltas {key}", key=key))
    return "".join(tags)


def training_curves(con, experiment: str) -> str:
    """Per (backbone, train set): validation accuracy and training loss of each method against
    epochs, LIVR's stage 2 after its stage 1 (dotted line: the stage boundary)."""
    rows = con.execute(TRAINING_CURVES_SQL, {"experiment": experiment}).fetchdf()
    if rows.empty:
        return '<p class="note">No training metrics in the database (collect with --train-metrics).</p>'
    plt = _pyplot()
    tags = []
    for (backbone, train_set), group in rows.groupby(["backbone", "train_set"], sort=True):
        fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(8, 2.6))
        for method, m in group.groupby("method", sort=True):
            acc, loss = m.dropna(subset=["val_accuracy"]), m.dropna(subset=["loss"])
            line, = ax_acc.plot(acc["epoch"], acc["val_accuracy"], marker="o", ms=3, label=method)
            ax_loss.plot(loss["epoch"], loss["loss"], color=line.get_color(), label=method)
            for end in m.groupby("stage", sort=False)["epoch"].max().iloc[:-1]:
                for ax in (ax_acc, ax_loss):
                    ax.axvline(end, color=line.get_color(), ls=":", lw=1)
        ax_acc.set(title="val accuracy (%)", xlabel="epoch (stages in sequence)")
        ax_loss.set(title="train loss", xlabel="epoch (stages in sequence)")
        ax_acc.legend(fontsize=7)
        fig.suptitle(f"{backbone} / {train_set}", fontsize=10)
        fig.tight_layout()
        tags.append(img_tag(png_uri(fig), "curve", f"training {backbone}/{train_set}", key=f"{backbone}/{train_set}"))
    return "".join(tags)
