"""`livr report`: one self-contained HTML page of an experiment's results.

Sections, all read from the results database (`livr collect`) plus, for pictures, the test data
and the trained LIVR checkpoints:

1. Tables: Table 1/2 and the vs-paper tables exactly as `livr tables` writes them (its own SQL,
   run into a temporary folder and read back), a per-cell overview (n, accuracy, unparsable),
   and training curves (validation accuracy and training loss per stage, from `train_metrics`).
2. LIVR - SFT per task, ours beside the paper's, for each backbone (and mixture); the paper
   column is the paper backbone the registry maps ours to (backbones.REGISTRY[b].paper_backbone).
3. Latent-to-image attention maps for the first few test examples of each LIVR cell
   (livr/attention_maps.py: eager attention, mean over heads, the chosen layers and latents).
4. Failures: for each LIVR cell, the examples where LIVR and SFT disagree or LIVR is wrong, with
   question, image thumbnails, gold, and both models' raw and parsed outputs.

Every image (charts, attention maps, thumbnails) is a PNG embedded as a base64 data URI, so the
page is one file that can be copied or mailed as is; images are downsized (thumbnails 128 px,
maps 224 px per image) to keep it small.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import html
import io
import tempfile
from pathlib import Path

import pandas as pd

from livr import config as livr_config
from livr.data.schema import read_split
from livr.io import write_text
from livr.model.backbones import REGISTRY
from livr.results.db import connect_read_only
from livr.results.tables import write_tables

LIVR, BASELINE = "livr", "sft"
THUMB = 128
CATEGORIES = {  # failure category -> (label, sort order)
    "livr_wrong_sft_right": ("LIVR wrong, SFT right", 0),
    "livr_right_sft_wrong": ("LIVR right, SFT wrong", 1),
    "both_wrong": ("both wrong", 2),
    "livr_wrong_no_sft": ("LIVR wrong (no SFT cell)", 3),
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--params", default="params.yaml", help="the params file (default: %(default)s)")
    parser.add_argument("--experiment", help="experiment (default: the params file's `experiment:`)")
    parser.add_argument("--db", default="results/livr.duckdb", help="results database (default: %(default)s)")
    parser.add_argument("--out", default="results/report.html", help="the HTML page to write (default: %(default)s)")
    parser.add_argument("--models-dir", help="tiny backbones (default: params paths.models)")
    parser.add_argument("--runs-dir", help="training runs; LIVR checkpoints are RUNS/<exp>/<backbone>/<train_set>/livr/final "
                        "(default: params paths.runs)")
    parser.add_argument("--max-examples", type=int, default=12, help="failures listed per cell (default: %(default)s)")
    parser.add_argument("--attention-examples", type=int, default=3,
                        help="test examples with attention maps per LIVR cell; 0 skips the maps (default: %(default)s)")
    parser.add_argument("--attention-layers", type=int, nargs="+", metavar="L",
                        help="decoder layers to average (negative counts from the end; default: all)")
    parser.add_argument("--device", help="device for the attention maps (default: cuda when available, else cpu)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")


def main(args: argparse.Namespace) -> int:
    params = livr_config.load_params(args.params)
    exp = args.experiment or params["experiment"]
    livr_config.experiment(params, exp)  # a clear error for an unknown name
    summary = build_report(
        params, exp, args.db, args.out,
        models_dir=args.models_dir or params["paths"]["models"],
        runs_dir=args.runs_dir or params["paths"]["runs"],
        max_examples=args.max_examples, attention_examples=args.attention_examples,
        attention_layers=args.attention_layers, device=args.device, threads=args.threads,
    )
    print(f"wrote {args.out}: {summary['images']} images, {summary['attention_maps']} attention maps, "
          f"{summary['failures_listed']} failures listed" + (f", {len(summary['warnings'])} warning(s)" if summary["warnings"] else ""))
    for w in summary["warnings"]:
        print(f"warning: {w}")
    return 0


# ---------------------------------------------------------------- helpers

def png_uri(image) -> str:
    """A PIL image or a matplotlib figure as a PNG data URI."""
    buf = io.BytesIO()
    if hasattr(image, "savefig"):
        import matplotlib.pyplot as plt

        image.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(image)
    else:
        image.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def img_tag(uri: str, cls: str, alt: str, **data) -> str:
    attrs = "".join(f' data-{k}="{html.escape(str(v))}"' for k, v in data.items())
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="{uri}"{attrs}>'


def esc(x) -> str:
    return "" if x is None else html.escape(str(x))


def frame_html(frame: pd.DataFrame) -> str:
    if frame.empty:
        return '<p class="note">(no rows)</p>'
    return frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.2f}", classes="data", border=0)


def paper_backbone_map(con, experiment: str) -> dict[str, str]:
    """Our backbone -> the paper backbone it is compared with (only those the paper table has)."""
    ours = [r[0] for r in con.execute("SELECT DISTINCT backbone FROM runs WHERE experiment = ? ORDER BY 1", [experiment]).fetchall()]
    known = {r[0] for r in con.execute("SELECT DISTINCT backbone FROM paper").fetchall()}
    return {b: REGISTRY[b].paper_backbone for b in ours if b in REGISTRY and REGISTRY[b].paper_backbone in known}


class Images:
    """Thumbnails of test images, each encoded once."""

    def __init__(self):
        self.cache: dict[Path, str] = {}

    def thumb(self, path: Path) -> str:
        if path not in self.cache:
            from PIL import Image

            with Image.open(path) as im:
                im = im.convert("RGB")
                im.thumbnail((THUMB, THUMB))
                self.cache[path] = png_uri(im)
        return self.cache[path]


def test_records(params: dict, experiment: str, task: str) -> tuple[Path, dict]:
    """(task dir, id -> Record of its test split); an empty dict when the data is not there."""
    d = livr_config.data_dir(params, experiment, task)
    if not (d / "test.jsonl").is_file():
        return d, {}
    return d, {r.id: r for r in read_split(d, "test", check_images=False)}


# ---------------------------------------------------------------- 1. tables and curves

def tables_section(db, experiment: str, mapping: dict[str, str]) -> tuple[str, dict[str, pd.DataFrame]]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_tables(db, experiment, tmp, mapping)
        frames = {p.stem: pd.read_csv(p) for p in paths}
    parts = []
    titles = {"table1": "Table 1: single-task training", "table1_vs_paper": "Table 1 vs the paper",
              "table2": "Table 2: multi-task training", "table2_vs_paper": "Table 2 vs the paper"}
    for name, frame in frames.items():
        parts.append(f'<h3 id="{name}">{esc(titles.get(name, name))} <span class="note">({name}.csv)</span></h3>')
        parts.append(frame_html(frame))
    return "".join(parts), frames


def cells_overview(con, experiment: str) -> pd.DataFrame:
    return con.execute(
        "SELECT backbone, train_set, method, task, n, n_correct, n_unparsed, round(accuracy, 2) AS accuracy "
        "FROM metrics WHERE experiment = ? ORDER BY backbone, train_set, method, task", [experiment]
    ).fetchdf()


def training_curves(con, experiment: str) -> list[tuple[str, str, object]]:
    """(backbone, train_set, figure): validation accuracy and training loss against epochs, with
    each LIVR stage's epochs laid after the previous stage's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = con.execute(
        "SELECT backbone, train_set, method, stage, epoch, loss, "
        "TRY_CAST(raw->>'eval_accuracy' AS DOUBLE) AS val_acc, path, line "
        "FROM train_metrics WHERE experiment = ? ORDER BY backbone, train_set, method, path, line", [experiment]
    ).fetchdf()
    figures = []
    for (backbone, train_set), group in rows.groupby(["backbone", "train_set"], sort=True):
        fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(8, 2.6))
        for method, m in group.groupby("method", sort=True):
            offset, x = 0.0, []
            bounds = []
            for stage, s in m.groupby("stage", sort=False):
                x += list(s["epoch"].fillna(0) + offset)
                offset += float(s["epoch"].max()) if s["epoch"].notna().any() else 0.0
                bounds.append((stage, offset))
            m = m.assign(x=x)
            acc = m.dropna(subset=["val_acc"])
            loss = m.dropna(subset=["loss"])
            line, = ax_acc.plot(acc["x"], acc["val_acc"], marker="o", ms=3, label=method)
            ax_loss.plot(loss["x"], loss["loss"], color=line.get_color(), label=method)
            for stage, end in bounds[:-1]:
                for ax in (ax_acc, ax_loss):
                    ax.axvline(end, color=line.get_color(), ls=":", lw=1)
        ax_acc.set(title="val accuracy (%)", xlabel="epoch (stages in sequence)")
        ax_loss.set(title="train loss", xlabel="epoch (stages in sequence)")
        ax_acc.legend(fontsize=7)
        fig.suptitle(f"{backbone} / {train_set}", fontsize=10)
        fig.tight_layout()
        figures.append((backbone, train_set, fig))
    return figures


# ---------------------------------------------------------------- 2. deltas

def delta_rows(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """LIVR - SFT per (table, backbone, train set, task), ours and the paper's (from the vs-paper CSVs)."""
    out = []
    for table in ("table1", "table2"):
        f = frames.get(f"{table}_vs_paper")
        if f is None or f.empty:
            continue
        f = f[f["method"] == LIVR].copy()
        if "train_set" not in f:
            f["train_set"] = ""
        f["table"] = table
        out.append(f[["table", "backbone", "train_set", "paper_backbone", "task", "ours_delta_vs_sft", "paper_delta_vs_sft"]])
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def delta_charts(deltas: pd.DataFrame) -> list[tuple[str, object]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    charts = []
    if deltas.empty:
        return charts
    for (table, backbone, train_set, paper_bb), g in deltas.groupby(["table", "backbone", "train_set", "paper_backbone"], sort=False):
        g = g.dropna(subset=["ours_delta_vs_sft"])
        if g.empty:
            continue
        x = np.arange(len(g))
        fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(g) + 1.5), 3.0))
        ax.bar(x - 0.2, g["ours_delta_vs_sft"], 0.4, label=f"ours: {backbone}", color="#1f77b4")
        ax.bar(x + 0.2, g["paper_delta_vs_sft"].fillna(0), 0.4, label=f"paper: {paper_bb}", color="#aaaaaa")
        for xi, v in zip(x, g["paper_delta_vs_sft"]):
            if pd.isna(v):
                ax.text(xi + 0.2, 0, "n/a", ha="center", va="bottom", fontsize=7)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, [t.replace("_", "\n") for t in g["task"]], fontsize=7)
        ax.set_ylabel("LIVR - SFT (points)")
        where = f"{backbone}" + (f" trained on {train_set}" if train_set else "")
        ax.set_title(f"{table}: {where}", fontsize=9)
        for xi, v in zip(x, g["ours_delta_vs_sft"]):
            ax.annotate(f"{v:+.1f}", (xi - 0.2, v), ha="center", va="bottom" if v >= 0 else "top", fontsize=7)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, frameon=False)
        fig.tight_layout()
        charts.append((f"{table}/{backbone}/{train_set}", fig))
    return charts


# ---------------------------------------------------------------- 3. attention maps

def livr_cells(con, experiment: str) -> pd.DataFrame:
    return con.execute(
        "SELECT backbone, train_set, task FROM runs WHERE experiment = ? AND method = ? ORDER BY backbone, train_set, task",
        [experiment, LIVR]).fetchdf()


def predictions_of(con, experiment: str, backbone: str, train_set: str, task: str) -> dict[tuple[str, str], dict]:
    """(method, id) -> prediction row, for LIVR and SFT."""
    frame = con.execute(
        "SELECT method, id, raw_output, parsed, correct, gold FROM predictions WHERE experiment = ? AND backbone = ? "
        "AND train_set = ? AND task = ? AND method IN (?, ?)", [experiment, backbone, train_set, task, LIVR, BASELINE]).fetchdf()
    frame = frame.astype(object).where(frame.notna(), None)
    return {(r["method"], r["id"]): r for r in frame.to_dict("records")}


def attention_section(con, params, experiment, runs_dir, models_dir, n_examples, layers, device, threads, warnings) -> tuple[str, int]:
    if n_examples <= 0:
        return '<p class="note">Attention maps were not requested (--attention-examples 0).</p>', 0
    import torch

    from livr.attention_maps import example_figure, latent_image_attention
    from livr.model.backbones import get_backbone
    from livr.model.inputs import load_images
    from livr.model.loading import load_trained, resolve_dtype

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if threads:
        torch.set_num_threads(threads)
    cells = livr_cells(con, experiment)
    if cells.empty:
        return '<p class="note">No LIVR cells in this experiment.</p>', 0
    parts, n_maps = [], 0
    for (backbone, train_set), group in cells.groupby(["backbone", "train_set"], sort=True):
        checkpoint = Path(runs_dir) / experiment / backbone / train_set / LIVR / "final"
        parts.append(f"<h3>{esc(backbone)} / trained on {esc(train_set)}</h3>")
        if not checkpoint.is_dir():
            msg = f"{checkpoint}: LIVR checkpoint not found; no attention maps for {backbone}/{train_set}"
            warnings.append(msg)
            parts.append(f'<p class="warn">{esc(msg)}</p>')
            continue
        cfg = livr_config.train_config(params, experiment, backbone, train_set, LIVR)
        dtype = resolve_dtype(cfg["dtype"], device)
        model, processor, meta = load_trained(backbone, checkpoint, models_dir, cfg["backbone_settings"], dtype, "eager", device)
        spec = get_backbone(backbone)
        for task in group["task"]:
            task_dir, records = test_records(params, experiment, task)
            if not records:
                msg = f"{task_dir}: test data not found; no attention maps for {backbone}/{train_set} on {task}"
                warnings.append(msg)
                parts.append(f'<p class="warn">{esc(msg)}</p>')
                continue
            preds = predictions_of(con, experiment, backbone, train_set, task)
            chosen = [r for r in records.values() if (LIVR, r.id) in preds][:n_examples]
            parts.append(f'<h4>test task: {esc(task)}</h4><div class="grid">')
            for rec in chosen:
                images = load_images(rec, task_dir)
                att = latent_image_attention(model, processor, spec, meta, rec, images, layers)
                uri = png_uri(example_figure(images, att.grids))
                peak = max(float(g.max()) for g in att.grids)
                mean = sum(float(g.sum()) for g in att.grids) / sum(g.size for g in att.grids)
                livr_p, sft_p = preds.get((LIVR, rec.id)), preds.get((BASELINE, rec.id))
                caption = (
                    f"<b>{esc(rec.id)}</b><br>gold {esc(rec.answer)} · LIVR {parsed_html(livr_p['parsed'], livr_p['correct'])}"
                    + (f" · SFT {parsed_html(sft_p['parsed'], sft_p['correct'])}" if sft_p else "")
                    + f"<br>{att.n_latents} latents put {100 * att.image_share:.1f}% of their attention on the image"
                    f" tokens; peak/mean token {peak / mean:.2f}"
                )
                parts.append(f'<figure class="attn-fig">{img_tag(uri, "attn", f"latent attention {rec.id}", id=rec.id, backbone=backbone, task=task)}'
                             f"<figcaption>{caption}</figcaption></figure>")
                n_maps += 1
            parts.append("</div>")
        del model
    return "".join(parts), n_maps


# ---------------------------------------------------------------- 4. failures

FAILURES_SQL = """
SELECT l.backbone, l.train_set, l.task, l.id, l.gold,
       l.raw_output AS livr_raw, l.parsed AS livr_parsed, l.correct AS livr_correct,
       s.raw_output AS sft_raw, s.parsed AS sft_parsed, s.correct AS sft_correct,
       CASE WHEN s.id IS NULL THEN 'livr_wrong_no_sft'
            WHEN NOT l.correct AND s.correct THEN 'livr_wrong_sft_right'
            WHEN l.correct AND NOT s.correct THEN 'livr_right_sft_wrong'
            ELSE 'both_wrong' END AS category
FROM predictions l
LEFT JOIN predictions s
  ON s.experiment = l.experiment AND s.backbone = l.backbone AND s.train_set = l.train_set
 AND s.task = l.task AND s.id = l.id AND s.method = $baseline
WHERE l.experiment = $experiment AND l.method = $livr
  AND (NOT l.correct OR (s.id IS NOT NULL AND s.correct <> l.correct))
ORDER BY l.backbone, l.train_set, l.task, l.id
"""


def failure_rows(con, experiment: str) -> pd.DataFrame:
    """Every example where LIVR is wrong or LIVR and SFT disagree, with its category."""
    frame = con.execute(FAILURES_SQL, {"experiment": experiment, "livr": LIVR, "baseline": BASELINE}).fetchdf()
    frame = frame.astype(object).where(frame.notna(), None)  # NULL stays None (unparsable), not NaN
    if not frame.empty:
        frame["order"] = frame["category"].map(lambda c: CATEGORIES[c][1])
        frame = frame.sort_values(["backbone", "train_set", "task", "order", "id"], kind="stable").drop(columns="order")
    return frame


def parsed_html(parsed, correct) -> str:
    text = esc(parsed) if parsed is not None else "(unparsable)"
    return f'<span class="{"ok" if correct else "bad"}">{text}</span>'


def failures_section(con, params, experiment: str, max_examples: int, images: Images) -> tuple[str, list[str]]:
    frame = failure_rows(con, experiment)
    acc = {(r[0], r[1], r[2], r[3]): r[4] for r in con.execute(
        "SELECT backbone, train_set, task, method, accuracy FROM metrics WHERE experiment = ? AND method IN (?, ?)",
        [experiment, LIVR, BASELINE]).fetchall()}
    if frame.empty:
        return '<p class="note">No failures: LIVR is right wherever it was evaluated and agrees with SFT.</p>', []
    parts, listed = [], []
    for (backbone, train_set, task), g in frame.groupby(["backbone", "train_set", "task"], sort=False):
        counts = g["category"].value_counts()
        summary = ", ".join(f"{CATEGORIES[c][0]}: {counts[c]}" for c in CATEGORIES if c in counts)
        shown = g.head(max_examples)
        task_dir, records = test_records(params, experiment, task)
        accs = " · ".join(f"{m.upper() if m == LIVR else 'SFT'} {acc[(backbone, train_set, task, m)]:.2f}%"
                          for m in (LIVR, BASELINE) if (backbone, train_set, task, m) in acc)
        parts.append(
            f'<details class="cell"{" open" if not parts else ""}><summary><b>{esc(backbone)}</b> / trained on '
            f"{esc(train_set)} / test {esc(task)} ({accs}): {summary} (showing {len(shown)} of {len(g)})</summary>"
        )
        if not records:
            parts.append(f'<p class="warn">{esc(task_dir)}: test data not found; questions and images omitted</p>')
        parts.append('<table class="fail"><tr><th>id / category</th><th>question</th><th>images</th><th>gold</th>'
                     "<th>LIVR: parsed / raw</th><th>SFT: parsed / raw</th></tr>")
        for r in shown.to_dict("records"):
            rec = records.get(r["id"])
            thumbs = "".join(img_tag(images.thumb(task_dir / p), "thumb", p) for p in rec.images) if rec else ""
            question = esc(rec.question) if rec else '<span class="note">(record not found)</span>'
            sft = (parsed_html(r["sft_parsed"], r["sft_correct"]) + f'<pre>{esc(r["sft_raw"])}</pre>'
                   if r["sft_raw"] is not None else '<span class="note">(no SFT cell)</span>')
            parts.append(
                f'<tr class="fail-row {r["category"]}" data-id="{esc(r["id"])}">'
                f'<td>{esc(r["id"])}<br><span class="cat">{esc(CATEGORIES[r["category"]][0])}</span></td>'
                f'<td><pre class="q">{question}</pre></td><td>{thumbs}</td><td><b>{esc(r["gold"])}</b></td>'
                f'<td>{parsed_html(r["livr_parsed"], r["livr_correct"])}<pre>{esc(r["livr_raw"])}</pre></td>'
                f"<td>{sft}</td></tr>"
            )
            listed.append(r["id"])
        parts.append("</table></details>")
    return "".join(parts), listed


# ---------------------------------------------------------------- the page

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2em} .note{color:#777;font-size:.9em} .warn{color:#a40;font-weight:bold}
table.data{border-collapse:collapse;font-size:.85em;margin:.5em 0} table.data td,table.data th{border:1px solid #ddd;padding:2px 6px;text-align:right}
.grid{display:flex;flex-wrap:wrap;gap:1em} figure{margin:0;max-width:480px} figcaption{font-size:.8em}
table.fail{border-collapse:collapse;font-size:.8em;width:100%} table.fail td,table.fail th{border:1px solid #ddd;padding:3px;vertical-align:top}
pre{white-space:pre-wrap;margin:2px 0;font-size:.9em;max-width:360px} pre.q{max-width:420px}
img.thumb{margin:1px;border:1px solid #ccc} .ok{color:#070;font-weight:bold} .bad{color:#b00;font-weight:bold}
.cat{font-size:.85em;color:#555} details.cell{margin:.8em 0} summary{cursor:pointer}
"""


def build_report(params: dict, experiment: str, db, out, models_dir, runs_dir, max_examples: int = 12,
                 attention_examples: int = 3, attention_layers: list[int] | None = None,
                 device: str | None = None, threads: int | None = None) -> dict:
    """Render the page to `out` (atomically); a summary of what it holds."""
    warnings: list[str] = []
    con = connect_read_only(db)
    try:
        mapping = paper_backbone_map(con, experiment)
        tables_html, frames = tables_section(db, experiment, mapping)
        overview = cells_overview(con, experiment)
        charts = delta_charts(delta_rows(frames))
        curves = training_curves(con, experiment)
        attn_html, n_maps = attention_section(con, params, experiment, runs_dir, models_dir, attention_examples,
                                              attention_layers, device, threads, warnings)
        fail_html, listed = failures_section(con, params, experiment, max_examples, Images())
    finally:
        con.close()

    chart_html = "".join(img_tag(png_uri(fig), "chart", f"deltas {key}", key=key) for key, fig in charts) \
        or '<p class="note">No cell has both LIVR and SFT.</p>'
    curve_html = "".join(img_tag(png_uri(fig), "curve", f"training {b}/{ts}", key=f"{b}/{ts}") for b, ts, fig in curves) \
        or '<p class="note">No training metrics in the database (collect with --train-metrics).</p>'
    layers = "all decoder layers" if not attention_layers else f"decoder layers {attention_layers}"
    mapping_text = ", ".join(f"{k} → {v}" for k, v in mapping.items()) or "none"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>LIVR report: {esc(experiment)}</title><style>{STYLE}</style></head>
<body>
<h1>LIVR reproduction: experiment <code>{esc(experiment)}</code></h1>
<p class="note">From {esc(db)}, {datetime.datetime.now().isoformat(timespec="seconds")}.
Paper backbones compared: {esc(mapping_text)}.</p>
{"".join(f'<p class="warn">warning: {esc(w)}</p>' for w in warnings)}
<p><a href="#tables">Tables</a> · <a href="#deltas">LIVR − SFT</a> · <a href="#curves">Training curves</a> ·
<a href="#attention">Attention maps</a> · <a href="#failures">Failures</a></p>

<section id="tables"><h2>1. Tables</h2>
<p class="note">As <code>livr tables</code> writes them (same SQL): accuracy in percent, recomputed from the predictions.</p>
{tables_html}
<details><summary>Every cell: n, correct, unparsable, accuracy</summary>{frame_html(overview)}</details>
</section>

<section id="deltas"><h2>2. LIVR − SFT per task, ours and the paper's</h2>
<p class="note">Blue: our LIVR minus our Direct SFT (accuracy points); grey: the same difference in the paper for the
mapped paper backbone ("n/a": the paper has no number).</p>
<div class="grid">{chart_html}</div></section>

<section id="curves"><h2>Training curves</h2>
<p class="note">Validation accuracy (teacher-forced exact match, under the mask of the stage being trained) and
training loss from each run's metrics.jsonl; LIVR's stage 2 is drawn after stage 1 (dotted line: stage boundary).</p>
<div class="grid">{curve_html}</div></section>

<section id="attention"><h2>3. Latent-to-image attention</h2>
<p class="note">Each figure: the test images (top) and, below, the attention the LIVR latent tokens pay to each
visual token (mean over heads, {esc(layers)} and the K latents; standard inference mask), upsampled onto
the image. Colour scale per example, min (dark) to max (bright) over all its images; "peak/mean" says how concentrated
it is (1.00 = uniform).</p>
{attn_html}</section>

<section id="failures"><h2>4. Failures and disagreements</h2>
<p class="note">Per LIVR cell: examples where LIVR is wrong or LIVR and SFT disagree (LIVR-wrong-SFT-right first),
at most {max_examples} per cell (--max-examples).</p>
{fail_html}</section>
</body></html>
"""
    write_text(out, page)
    return {
        "images": page.count("<img "),
        "attention_maps": n_maps,
        "failures_listed": len(listed),
        "listed_ids": listed,
        "warnings": warnings,
    }
