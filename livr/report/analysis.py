"""Report sections from `livr analyze` and the second evaluation of every trained cell:

- the answer->latent attention share of each analysed model beside the paper's (Sec. 4.3.1);
- a t-SNE scatter of final-layer hidden states of latent, image and text tokens per model (App. C);
- checkpoint selection: every trained cell at its best-validation and its last-step weights, with
  LIVR - SFT at each (livr/results/selection.sql), so a conclusion can be checked against selection.
"""

from __future__ import annotations

import pandas as pd

from livr.data.schema import TASKS
from livr.report.html import frame_html, img_tag, png_uri, pyplot
from livr.results.tables import attention_shares_frame

KIND_COLOURS = {"image": "#1f77b4", "text": "#999999", "latent": "#d62728"}  # latents drawn last, on top
MARKERS = "o^sDvP*Xh<>"


def tsne_figures(con, experiment: str) -> list[str]:
    """One scatter per analysed model: colour = token kind, marker = task."""
    points = con.execute(
        "SELECT backbone, train_set, method, task, kind, x, y FROM tsne_points WHERE experiment = ? "
        "ORDER BY backbone, train_set, method",
        [experiment],
    ).fetchdf()
    if points.empty:
        return []
    plt = pyplot()
    tags = []
    for (backbone, train_set, method), g in points.groupby(["backbone", "train_set", "method"], sort=True):
        tasks = [t for t in TASKS if t in set(g["task"])]
        fig, ax = plt.subplots(figsize=(4.8, 4.2))
        for kind, colour in KIND_COLOURS.items():
            for i, task in enumerate(tasks):
                sel = g[(g["kind"] == kind) & (g["task"] == task)]
                if not sel.empty:
                    label = kind if len(tasks) == 1 else f"{kind}, {task}"
                    ax.scatter(
                        sel["x"],
                        sel["y"],
                        s=6,
                        c=colour,
                        marker=MARKERS[i % len(MARKERS)],
                        alpha=0.6,
                        label=label,
                        linewidths=0,
                    )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{backbone} / {train_set} / {method}", fontsize=9)
        ax.legend(fontsize=6, markerscale=2, loc="best")
        fig.tight_layout()
        key = f"{backbone}/{train_set}/{method}"
        tags.append(img_tag(png_uri(fig), "tsne", f"t-SNE {key}", key=key))
    return tags


def analysis_section(con, experiment: str, mapping: dict[str, str]) -> str:
    """The attention shares beside the paper's and the t-SNE scatters; '' without analysed models."""
    shares = attention_shares_frame(con, experiment, mapping)
    if shares.empty:
        return ""
    figures = tsne_figures(con, experiment)
    return (
        "<p>Mean attention probability mass the answer tokens (gold answer teacher-forced, standard mask, all "
        "decoder layers and heads) put on the latent tokens and on the image tokens; <i>predictor</i>: the same from "
        "the position that predicts the first answer token. The paper reports 0.076 for LIVR and 0.028 for the "
        f"latents-only model (Localization, Qwen3-VL-4B).</p>{frame_html(shares.round(4), digits=4)}"
        '<p class="note">t-SNE of final-layer hidden states (paper Appendix C): every latent token and a sample of '
        "image and prompt-text tokens of the first test examples of each task, one embedding per model.</p>"
        f'<div class="grid">{"".join(figures)}</div>'
    )


def selection_section(selection: pd.DataFrame) -> str:
    """The cells of selection.csv (as `livr tables` wrote it) evaluated at both weights; '' when none was."""
    both = selection.dropna(subset=["best_val", "last"], how="any")
    if both.empty:
        return ""
    return (
        "<p>Each trained cell evaluated with its best-validation and its last-step checkpoint (<i>kept</i>: the one "
        "its run kept, params <code>select</code>), and its difference to Direct SFT at the same weights (paired "
        "bootstrap 95% interval). A conclusion that holds with one checkpoint and not the other hangs on checkpoint "
        "selection. <code>livr tables --weights best_val|last</code> writes every table at either; selection.csv also "
        f"lists the cells evaluated at one of them only ({len(selection) - len(both)} here).</p>{frame_html(both)}"
    )
