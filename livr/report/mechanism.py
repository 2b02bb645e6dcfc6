"""Report section: the paper's test of the mechanism (Sec. 4.3.1). A trained model with latents
(LIVR, and the latents-only control `livr_split_0_10`) is evaluated as trained, without its latents,
under the Stage-1 bottleneck mask at test time, and under that mask without latents: its test-time
variants (methods with `checkpoint_of`, e.g. `livr_eval_no_latents`), each beside chance, SFT and
the model as trained, with the paired difference to the latter (the kept weights of each run)."""

from __future__ import annotations

import pandas as pd

from livr.data.schema import TASKS
from livr.report.html import details, esc, img_tag, interval, missing, number, png_uri, pyplot, with_interval

EXPLANATION = (
    "Under the Stage-1 mask the answer can see the image only through the latents, so accuracy "
    "there above chance (interval lower bound above the chance line) means the latents carry "
    "task-relevant visual information; with the latents dropped as well, the answer sees no image at all. "
    "Without latents the model answers from the prompt alone "
    "and the image it sees directly: a drop from the model as trained means it relies on its latents."
)

# Every cell of a trained model that has test-time variants, the variants, and Direct SFT; over
# several training seeds the mean with its two-level interval (seed_metrics, pooled_deltas), and for
# one seed its accuracy with the Wilson interval and the paired bootstrap delta, as before seeds.
MECHANISM_SQL = """
WITH variant_cells AS (
    SELECT DISTINCT backbone, train_set, task, checkpoint_method AS model
    FROM runs
    WHERE experiment = $experiment AND selected AND checkpoint_method IS NOT NULL AND checkpoint_method <> method
),
evaluated AS (  -- one row per evaluation, whatever its number of training seeds
    SELECT DISTINCT v.backbone, v.train_set, v.task, v.model, r.method,
           coalesce(CAST(r.settings->>'eval_latents' AS BOOLEAN), true) AS latents,
           coalesce(r.settings->>'eval_mask', 'standard') AS mask
    FROM variant_cells v
    JOIN runs r ON r.experiment = $experiment AND r.backbone = v.backbone AND r.train_set = v.train_set
     AND r.task = v.task AND r.selected AND (r.checkpoint_method = v.model OR r.method = 'sft')
)
SELECT e.backbone, e.train_set, e.task, e.model, e.method, e.latents, e.mask, m.n, m.accuracy, m.ci_low, m.ci_high,
       t.chance, d.delta AS minus_model, d.ci_low AS minus_model_ci_low, d.ci_high AS minus_model_ci_high
FROM evaluated e
JOIN seed_metrics m ON m.experiment = $experiment AND m.backbone = e.backbone AND m.train_set = e.train_set
 AND m.task = e.task AND m.method = e.method AND m.weights = 'selected'
JOIN tasks t ON t.task = e.task
LEFT JOIN pooled_deltas d
  ON d.experiment = $experiment AND d.backbone = e.backbone AND d.train_set = e.train_set AND d.task = e.task
 AND d.method = e.method AND d.baseline = e.model AND d.weights = 'selected'
"""


def describe(method: str, model: str, latents: bool, mask: str) -> str:
    if method == "sft" and model != "sft":
        return "Direct SFT (reference)"
    how = {
        (True, "standard"): "as trained (latents, standard mask)",
        (False, "standard"): "without latents",
        (True, "bottleneck"): "under the Stage-1 mask",
        (False, "bottleneck"): "under the Stage-1 mask, without latents",
    }
    return how[(bool(latents), mask)]


def mechanism_table(con, experiment: str) -> pd.DataFrame:
    """One row per (backbone, train set, task, model, evaluation) of models that have test-time variants."""
    frame = con.execute(MECHANISM_SQL, {"experiment": experiment}).fetchdf()
    if frame.empty:
        return frame
    frame["evaluated"] = [describe(r.method, r.model, r.latents, r.mask) for r in frame.itertuples()]
    frame["above_chance"] = frame["ci_low"] > frame["chance"]
    frame["order"] = [
        (r.method == "sft" and r.model != "sft", not r.latents, r.mask == "bottleneck") for r in frame.itertuples()
    ]
    frame["task_order"] = frame["task"].map(list(TASKS).index)
    frame = frame.sort_values(["backbone", "model", "task_order", "train_set", "order"]).drop(
        columns=["order", "task_order", "latents", "mask"]
    )
    columns = [
        "backbone",
        "train_set",
        "task",
        "model",
        "evaluated",
        "method",
        "n",
        "accuracy",
        "ci_low",
        "ci_high",
        "chance",
        "above_chance",
        "minus_model",
        "minus_model_ci_low",
        "minus_model_ci_high",
    ]
    return frame[columns].round(2)


SHORT = {
    "as trained (latents, standard mask)": "as trained",
    "under the Stage-1 mask": "Stage-1\nmask",
    "without latents": "no\nlatents",
    "under the Stage-1 mask, without latents": "Stage-1 mask,\nno latents",
    "Direct SFT (reference)": "SFT",
}
COLOURS = {
    "as trained (latents, standard mask)": "#1f77b4",
    "under the Stage-1 mask": "#9467bd",
    "without latents": "#ff7f0e",
    "under the Stage-1 mask, without latents": "#e6a0c4",
    "Direct SFT (reference)": "#999999",
}


def _cell_title(train_set: str, task: str) -> str:
    return task.replace("_", " ") + ("" if train_set == task else f" (trained on {train_set})")


def mechanism_chart(g: pd.DataFrame, key: str) -> str:
    """One task of one model: accuracy of each evaluation with its 95% interval, and chance."""
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2.9, 2.4))
    x = np.arange(len(g))
    err = np.vstack([g["accuracy"] - g["ci_low"], g["ci_high"] - g["accuracy"]])
    ax.bar(x, g["accuracy"], 0.7, yerr=err, capsize=2, color=[COLOURS[e] for e in g["evaluated"]], error_kw={"lw": 0.8})
    ax.axhline(g["chance"].iloc[0], color="#d62728", ls="--", lw=1)
    ax.text(len(g) - 0.5, g["chance"].iloc[0], "chance", color="#d62728", fontsize=6, ha="right", va="bottom")
    ax.set_xticks(x, [SHORT[e] for e in g["evaluated"]], fontsize=6)
    ax.set_ylim(0, 100)
    ax.tick_params(axis="y", labelsize=6)
    ax.set_ylabel("accuracy (%)", fontsize=7)
    ax.set_title(_cell_title(g["train_set"].iloc[0], g["task"].iloc[0]), fontsize=8)
    fig.tight_layout()
    return img_tag(png_uri(fig), "mech", f"mechanism {key}", key=key)


def numbers_table(frame: pd.DataFrame) -> str:
    """Per task: each evaluation's accuracy [95% interval] and, below it, its paired difference to
    the model as trained."""
    columns = list(dict.fromkeys(frame["evaluated"]))
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    rows = [f'<table class="data mechanism"><tr><th>task</th><th>chance</th>{head}</tr>']
    for (backbone, model), g in frame.groupby(["backbone", "model"], sort=False):
        rows.append(
            f'<tr class="group"><th colspan="{len(columns) + 2}"><b>{esc(backbone)}</b> · model {esc(model)}</th></tr>'
        )
        for (train_set, task), t in g.groupby(["train_set", "task"], sort=False):
            by = {r.evaluated: r for r in t.itertuples()}
            cells = []
            for c in columns:
                r = by.get(c)
                if r is None:
                    cells.append("<td></td>")
                    continue
                minus = (
                    ""
                    if missing(r.minus_model)
                    else '<br><span class="ci">vs as trained '
                    f"{number(r.minus_model, signed=True)} "
                    f"{interval(r.minus_model_ci_low, r.minus_model_ci_high)}</span>"
                )
                cells.append(
                    f'<td data-method="{esc(r.method)}" data-accuracy="{r.accuracy:.2f}" '
                    f'data-minus="{number(r.minus_model)}">'
                    f"{with_interval(r.accuracy, r.ci_low, r.ci_high)}{minus}</td>"
                )
            rows.append(
                f'<tr data-task="{esc(task)}"><th>{esc(_cell_title(train_set, task))}</th>'
                f"<td>{number(t['chance'].iloc[0])}</td>{''.join(cells)}</tr>"
            )
    return "".join(rows) + "</table>"


def mechanism_section(con, experiment: str) -> str:
    """One small chart per task and model with test-time variants; the numbers in a table below."""
    frame = mechanism_table(con, experiment)
    if frame.empty:
        return ""
    parts = [f"<p>{EXPLANATION}</p>"]
    for (backbone, model), g in frame.groupby(["backbone", "model"], sort=False):
        charts = [
            mechanism_chart(t, f"{backbone}/{train_set}/{model}/{task}")
            for (train_set, task), t in g.groupby(["train_set", "task"], sort=False)
        ]
        parts.append(f'<h3>{esc(backbone)} · model {esc(model)}</h3><div class="grid">{"".join(charts)}</div>')
    parts.append(
        '<p class="note">Bars: accuracy with its 95% Wilson interval (a model of several training seeds: their '
        "mean, with its two-level bootstrap interval); dashed red line: chance.</p>"
    )
    parts.append(
        details(
            "The numbers: each accuracy [95% Wilson interval] and its difference to the model as trained "
            "on the same examples [paired bootstrap 95% interval]; over several training seeds their means "
            "[two-level bootstrap]",
            numbers_table(frame),
        )
    )
    return "".join(parts)
