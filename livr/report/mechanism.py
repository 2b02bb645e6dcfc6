"""Report section: the paper's test of the mechanism (Sec. 4.3.1). A trained LIVR model is
evaluated as trained, without its latents, and under the Stage-1 bottleneck mask at test time
(methods `livr_eval_no_latents`, `livr_eval_stage1_mask`), each beside chance and SFT."""

from __future__ import annotations

import pandas as pd

from livr.report.html import frame_html

VARIANTS = {
    "livr": "LIVR (standard mask, latents)",
    "livr_eval_no_latents": "LIVR without latents",
    "livr_eval_stage1_mask": "LIVR under the Stage-1 mask",
    "sft": "Direct SFT",
}
EXPLANATION = (
    "Under the Stage-1 mask the answer can see the image only through the latents, so accuracy "
    "there above chance (interval lower bound above the chance line) means the latents carry "
    "task-relevant visual information. Without latents the model answers from the prompt alone "
    "and the image it sees directly: a drop from LIVR means the trained model relies on its latents."
)

MECHANISM_SQL = """
SELECT m.backbone, m.train_set, m.task, m.method, m.n, m.accuracy, m.ci_low, m.ci_high, t.chance,
       d.delta AS minus_livr, d.ci_low AS minus_livr_ci_low, d.ci_high AS minus_livr_ci_high
FROM metrics m
JOIN tasks t USING (task)
LEFT JOIN paired_deltas d
  ON d.experiment = m.experiment AND d.backbone = m.backbone AND d.train_set = m.train_set
 AND d.task = m.task AND d.method = m.method AND d.baseline = 'livr'
WHERE m.experiment = ? AND m.method IN ('livr', 'livr_eval_no_latents', 'livr_eval_stage1_mask', 'sft')
ORDER BY m.backbone, m.train_set, m.task, m.method
"""


def mechanism_table(con, experiment: str) -> pd.DataFrame:
    """One row per (backbone, train set, task, variant) of cells that have both LIVR and a test-time variant."""
    frame = con.execute(MECHANISM_SQL, [experiment]).fetchdf()
    has_variant = frame[frame["method"].isin(["livr_eval_no_latents", "livr_eval_stage1_mask"])][
        ["backbone", "train_set", "task"]].drop_duplicates()
    frame = frame.merge(has_variant, on=["backbone", "train_set", "task"])
    frame["above_chance"] = frame["ci_low"] > frame["chance"]
    frame["order"] = frame["method"].map(list(VARIANTS).index)
    frame["method"] = frame["method"].map(VARIANTS)
    frame = frame.sort_values(["backbone", "train_set", "task", "order"]).drop(columns="order")
    return frame.round(2)


def mechanism_section(con, experiment: str) -> str:
    frame = mechanism_table(con, experiment)
    if frame.empty:
        return ('<p class="note">This experiment evaluates no test-time variant of LIVR (add methods '
                "livr_eval_no_latents and livr_eval_stage1_mask).</p>")
    return f'<p>{EXPLANATION}</p>{frame_html(frame)}'
