"""Report section: the paper's test of the mechanism (Sec. 4.3.1). A trained model with latents
(LIVR, and the latents-only control `livr_split_0_10`) is evaluated as trained, without its latents,
under the Stage-1 bottleneck mask at test time, and under that mask without latents: its test-time
variants (methods with `checkpoint_of`, e.g. `livr_eval_no_latents`), each beside chance, SFT and
the model as trained, with the paired difference to the latter (the kept weights of each run)."""

from __future__ import annotations

import pandas as pd

from livr.report.html import frame_html

EXPLANATION = (
    "Under the Stage-1 mask the answer can see the image only through the latents, so accuracy "
    "there above chance (interval lower bound above the chance line) means the latents carry "
    "task-relevant visual information; with the latents dropped as well, the answer sees no image at all. "
    "Without latents the model answers from the prompt alone "
    "and the image it sees directly: a drop from the model as trained means it relies on its latents."
)

# Every cell of a trained model that has test-time variants, the variants, and Direct SFT.
MECHANISM_SQL = """
WITH variant_cells AS (
    SELECT DISTINCT backbone, train_set, task, checkpoint_method AS model
    FROM runs
    WHERE experiment = $experiment AND selected AND checkpoint_method IS NOT NULL AND checkpoint_method <> method
),
evaluated AS (
    SELECT v.backbone, v.train_set, v.task, v.model, r.method,
           coalesce(CAST(r.settings->>'eval_latents' AS BOOLEAN), true) AS latents,
           coalesce(r.settings->>'eval_mask', 'standard') AS mask
    FROM variant_cells v
    JOIN runs r ON r.experiment = $experiment AND r.backbone = v.backbone AND r.train_set = v.train_set
     AND r.task = v.task AND r.selected AND (r.checkpoint_method = v.model OR r.method = 'sft')
)
SELECT e.backbone, e.train_set, e.task, e.model, e.method, e.latents, e.mask, m.n, m.accuracy, m.ci_low, m.ci_high,
       t.chance, d.delta AS minus_model, d.ci_low AS minus_model_ci_low, d.ci_high AS minus_model_ci_high
FROM evaluated e
JOIN metrics m ON m.experiment = $experiment AND m.backbone = e.backbone AND m.train_set = e.train_set
 AND m.task = e.task AND m.method = e.method AND m.selected
JOIN tasks t ON t.task = e.task
LEFT JOIN paired_deltas d
  ON d.experiment = $experiment AND d.backbone = e.backbone AND d.train_set = e.train_set AND d.task = e.task
 AND d.method = e.method AND d.baseline = e.model AND d.weights = 'selected'
"""


def describe(method: str, model: str, latents: bool, mask: str) -> str:
    if method == "sft" and model != "sft":
        return "Direct SFT (reference)"
    how = {(True, "standard"): "as trained (latents, standard mask)", (False, "standard"): "without latents",
           (True, "bottleneck"): "under the Stage-1 mask", (False, "bottleneck"): "under the Stage-1 mask, without latents"}
    return how[(bool(latents), mask)]


def mechanism_table(con, experiment: str) -> pd.DataFrame:
    """One row per (backbone, train set, task, model, evaluation) of models that have test-time variants."""
    frame = con.execute(MECHANISM_SQL, {"experiment": experiment}).fetchdf()
    if frame.empty:
        return frame
    frame["evaluated"] = [describe(r.method, r.model, r.latents, r.mask) for r in frame.itertuples()]
    frame["above_chance"] = frame["ci_low"] > frame["chance"]
    frame["order"] = [(r.method == "sft" and r.model != "sft", not r.latents, r.mask == "bottleneck")
                      for r in frame.itertuples()]
    frame = frame.sort_values(["backbone", "train_set", "task", "model", "order"]).drop(columns=["order", "latents", "mask"])
    columns = ["backbone", "train_set", "task", "model", "evaluated", "method", "n", "accuracy", "ci_low", "ci_high",
               "chance", "above_chance", "minus_model", "minus_model_ci_low", "minus_model_ci_high"]
    return frame[columns].round(2)


def mechanism_section(con, experiment: str) -> str:
    frame = mechanism_table(con, experiment)
    if frame.empty:
        return ('<p class="note">This experiment evaluates no test-time variant of a trained model (add methods with '
                "checkpoint_of, e.g. livr_eval_no_latents and livr_eval_stage1_mask).</p>")
    return (f'<p>{EXPLANATION}</p><p class="note">minus_model: accuracy minus the model as trained, on the same '
            f"examples, with its paired bootstrap 95% interval.</p>{frame_html(frame)}")
