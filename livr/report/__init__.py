"""`livr report`: one self-contained HTML page of an experiment's results, each section only
when the experiment produces it.

Read from the results database (`livr collect`), through the tables `livr tables` writes, plus,
for pictures, the test data and the trained LIVR checkpoints:

1. Table 1 (and 2) compact, in the paper's layout, and the other tables the experiment produced
   (results.py).
2. Ours vs the paper: LIVR - SFT per task as a chart, ours with its paired bootstrap interval
   beside the paper's, and the numbers in a compact table (results.py); with several training
   seeds a forest plot (each seed, pooled, the paper's) and each cell's seeds as dots.
3. The mechanism test of the paper's Sec. 4.3.1: a small chart per task of each model evaluated as
   trained, under the Stage-1 mask, without latents, beside SFT and chance (mechanism.py); its
   answer->latent attention and the t-SNE of its hidden states (`livr analyze`; analysis.py); every
   trained cell at its best-val and last weights (analysis.py). Training curves (results.py).
4. Latent-to-image attention maps (attention.py; eager attention).
5. Failures: examples where LIVR and SFT disagree or LIVR is wrong (failures.py).

Every image is a PNG embedded as a data URI, so the page (page.html, filled in here) is one file
that can be copied or mailed as is.
"""

from __future__ import annotations

import argparse
import datetime
import string
from importlib import resources

from livr import config as livr_config
from livr.io import write_text
from livr.model.backbones import REGISTRY
from livr.report.analysis import analysis_section, selection_section
from livr.report.attention import attention_section
from livr.report.failures import failures_section
from livr.report.html import details, esc, frame_html, section, warning
from livr.report.mechanism import mechanism_section
from livr.report.results import (
    cells_overview,
    datasets_table,
    paired_deltas,
    seed_deltas,
    seeds_section,
    tables_section,
    training_curves,
    vs_paper_section,
    written_tables,
)
from livr.results.db import connect_read_only

PAGE = string.Template(resources.files("livr.report").joinpath("page.html").read_text())


def configure(parser: argparse.ArgumentParser) -> None:
    livr_config.add_params_arguments(parser)
    parser.add_argument("--db", default="results/livr.duckdb", help="results database (default: %(default)s)")
    parser.add_argument("--out", default="results/report.html", help="the HTML page to write (default: %(default)s)")
    parser.add_argument("--max-examples", type=int, default=12, help="failures listed per cell (default: %(default)s)")
    parser.add_argument(
        "--attention-examples",
        type=int,
        default=3,
        help="test examples with attention maps per LIVR cell; 0 skips the maps (default: %(default)s)",
    )
    parser.add_argument(
        "--attention-layers",
        type=int,
        nargs="+",
        metavar="L",
        help="decoder layers to average (negative counts from the end; default: all)",
    )
    parser.add_argument("--device", help="device for the attention maps (default: cuda when available, else cpu)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")


def main(args: argparse.Namespace) -> int:
    params = livr_config.load_params(args.params)
    exp = livr_config.selected(params, args.experiment)
    livr_config.experiment(params, exp)  # a clear error for an unknown name
    summary = build_report(
        params,
        exp,
        args.db,
        args.out,
        max_examples=args.max_examples,
        attention_examples=args.attention_examples,
        attention_layers=args.attention_layers,
        device=args.device,
        threads=args.threads,
    )
    print(
        f"wrote {args.out}: {summary['images']} images, {summary['attention_maps']} attention maps, "
        f"{summary['failures_listed']} failures listed"
        + (f", {len(summary['warnings'])} warning(s)" if summary["warnings"] else "")
    )
    for w in summary["warnings"]:
        print(f"warning: {w}")
    return 0


def paper_backbone_map(con, experiment: str) -> dict[str, str]:
    """Our backbone -> the paper backbone it is compared with (only those the paper table has)."""
    ours = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT backbone FROM runs WHERE experiment = ? ORDER BY 1", [experiment]
        ).fetchall()
    ]
    known = {r[0] for r in con.execute("SELECT DISTINCT backbone FROM paper").fetchall()}
    return {b: REGISTRY[b].paper_backbone for b in ours if b in REGISTRY and REGISTRY[b].paper_backbone in known}


SECTIONS = {  # placeholder in page.html -> (nav label, heading, note above the section's body)
    "tables": (
        "Tables",
        "Results",
        "Accuracy in percent, recomputed from the predictions, as <code>livr tables</code> "
        "writes it; hover a cell for its n and 95% Wilson interval. LIVR − SFT carries its paired bootstrap 95% "
        "interval, green or red where that excludes 0.",
    ),
    "vs_paper": (
        "Ours vs the paper",
        "LIVR − SFT per task, ours and the paper's",
        "Blue: our LIVR minus our Direct SFT (accuracy points) with its 95% paired bootstrap interval; grey: the "
        "same difference in the paper for the mapped paper backbone. With several training seeds the blue point "
        "is the mean over seeds, its interval a two-level bootstrap (seeds resampled, then test examples), and "
        "each seed's own difference is drawn in light blue. A difference whose interval contains 0 is "
        "not supported by these data.",
    ),
    "seeds": (
        "Seeds",
        "Each cell over its training seeds",
        "Each dot: one training seed's accuracy; each bar: their mean with its 95% two-level bootstrap interval "
        "(seeds resampled with replacement, then test examples). Shown when a cell has several seeds.",
    ),
    "mechanism": ("Mechanism", "Does the answer go through the latents? (paper Sec. 4.3.1)", ""),
    "analysis": (
        "Attention share, t-SNE",
        "Attention to the latents and t-SNE of hidden states (paper Sec. 4.3.1, Appendix C)",
        "",
    ),
    "selection": ("Checkpoint selection", "Does a conclusion hang on checkpoint selection?", ""),
    "curves": (
        "Training curves",
        "Training curves",
        "Validation accuracy (teacher-forced exact match, under the mask of the stage being trained) and "
        "training loss from each run's metrics.jsonl; LIVR's stage 2 is drawn after stage 1 (dotted line: stage "
        "boundary).",
    ),
    "attention": (
        "Attention maps",
        "Latent-to-image attention",
        "Each figure: the test images (top) and, below, the attention the LIVR latent tokens pay to each "
        "visual token (mean over heads, $layers and the K latents; standard inference mask), upsampled onto "
        'the image. Colour scale per example, min (dark) to max (bright) over all its images; "peak/mean" '
        "says how concentrated it is (1.00 = uniform).",
    ),
    "failures": (
        "Failures",
        "Failures and disagreements",
        "Per LIVR cell: examples where LIVR is wrong or LIVR and SFT disagree (LIVR-wrong-SFT-right first), "
        "at most $max_examples per cell (--max-examples).",
    ),
}
GRIDS = ("curves",)  # bodies that are a row of figures


def compose(bodies: dict[str, str], **values) -> tuple[dict[str, str], str]:
    """Each non-empty body as a numbered <section> under its placeholder ('' for the others), and the nav."""
    sections, nav = {}, []
    for sid, (link, title, intro) in SECTIONS.items():
        body = bodies.get(sid, "")
        if not body:
            sections[sid] = ""
            continue
        nav.append(f'<a href="#{sid}">{link}</a>')
        intro = f'<p class="note">{string.Template(intro).substitute(values)}</p>' if intro else ""
        body = f'<div class="grid">{body}</div>' if sid in GRIDS else body
        sections[sid] = section(sid, f"{len(nav)}. {title}", intro + body)
    return sections, " · ".join(nav)


def build_report(
    params: dict,
    experiment: str,
    db,
    out,
    max_examples: int = 12,
    attention_examples: int = 3,
    attention_layers: list[int] | None = None,
    device: str | None = None,
    threads: int | None = None,
) -> dict:
    """Render the page to `out` (atomically); a summary of what it holds."""
    warnings: list[str] = []
    con = connect_read_only(db)
    try:
        mapping = paper_backbone_map(con, experiment)
        frames = written_tables(db, experiment, mapping)
        cells = details(
            "Every cell at every evaluated weights: n, correct, unparsable, accuracy [95% interval]",
            frame_html(cells_overview(con, experiment)),
        )
        vs_sft = paired_deltas(con, experiment, "sft")
        datasets = datasets_table(frames["datasets"])
        bodies = {
            "tables": tables_section(frames)
            + cells
            + (
                details("Every method minus Direct SFT, per cell (paired bootstrap)", frame_html(vs_sft))
                if not vs_sft.empty
                else ""
            )
            + (details("Examples per split, ours / the paper's", datasets) if datasets else ""),
            "vs_paper": vs_paper_section(frames, seed_deltas(con, experiment)),
            "seeds": seeds_section(con, experiment),
            "mechanism": mechanism_section(con, experiment),
            "analysis": analysis_section(con, experiment, mapping),
            "selection": selection_section(frames["selection"]),
            "curves": training_curves(con, experiment),
        }
        bodies["attention"], n_maps = attention_section(
            con, params, experiment, attention_examples, attention_layers, device, threads, warnings
        )
        bodies["failures"], listed = failures_section(con, params, experiment, max_examples)
    finally:
        con.close()
    layers = "all decoder layers" if not attention_layers else f"decoder layers {esc(attention_layers)}"
    sections, nav = compose(bodies, layers=layers, max_examples=max_examples)
    page = PAGE.substitute(
        experiment=esc(experiment),
        db=esc(db),
        generated=datetime.datetime.now().isoformat(timespec="seconds"),
        mapping=esc(", ".join(f"{k} → {v}" for k, v in mapping.items()) or "none"),
        warnings="".join(warning(f"warning: {w}") for w in warnings),
        nav=nav,
        **sections,
    )
    write_text(out, page)
    return {
        "images": page.count("<img "),
        "attention_maps": n_maps,
        "failures_listed": len(listed),
        "listed_ids": listed,
        "warnings": warnings,
    }
