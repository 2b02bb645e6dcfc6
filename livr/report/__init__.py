"""`livr report`: one self-contained HTML page of an experiment's results.

Sections, all read from the results database (`livr collect`) plus, for pictures, the test data
and the trained LIVR checkpoints:

1. Tables exactly as `livr tables` writes them, every cell with n and its interval, every method
   against SFT (results.py).
2. LIVR - SFT per task with its paired bootstrap interval, beside the paper's difference for the
   paper backbone the registry maps ours to (results.py).
3. The mechanism test of the paper's Sec. 4.3.1: each trained model with latents as trained, without
   latents, under the Stage-1 mask at test time and under it without latents, against chance
   (mechanism.py); its answer->latent attention and the t-SNE of its hidden states (`livr analyze`;
   analysis.py); every trained cell at its best-val and last weights (analysis.py). Training curves
   (results.py).
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
from livr.report.html import esc, frame_html, warning
from livr.report.mechanism import mechanism_section
from livr.report.results import cells_overview, delta_charts, delta_rows, paired_deltas, tables_section, training_curves
from livr.results.db import connect_read_only

PAGE = string.Template(resources.files("livr.report").joinpath("page.html").read_text())


def configure(parser: argparse.ArgumentParser) -> None:
    livr_config.add_params_arguments(parser)
    parser.add_argument("--db", default="results/livr.duckdb", help="results database (default: %(default)s)")
    parser.add_argument("--out", default="results/report.html", help="the HTML page to write (default: %(default)s)")
    parser.add_argument("--max-examples", type=int, default=12, help="failures listed per cell (default: %(default)s)")
    parser.add_argument("--attention-examples", type=int, default=3,
                        help="test examples with attention maps per LIVR cell; 0 skips the maps (default: %(default)s)")
    parser.add_argument("--attention-layers", type=int, nargs="+", metavar="L",
                        help="decoder layers to average (negative counts from the end; default: all)")
    parser.add_argument("--device", help="device for the attention maps (default: cuda when available, else cpu)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")


def main(args: argparse.Namespace) -> int:
    params = livr_config.load_params(args.params)
    exp = livr_config.selected(params, args.experiment)
    livr_config.experiment(params, exp)  # a clear error for an unknown name
    summary = build_report(
        params, exp, args.db, args.out, max_examples=args.max_examples, attention_examples=args.attention_examples,
        attention_layers=args.attention_layers, device=args.device, threads=args.threads,
    )
    print(f"wrote {args.out}: {summary['images']} images, {summary['attention_maps']} attention maps, "
          f"{summary['failures_listed']} failures listed" + (f", {len(summary['warnings'])} warning(s)" if summary["warnings"] else ""))
    for w in summary["warnings"]:
        print(f"warning: {w}")
    return 0


def paper_backbone_map(con, experiment: str) -> dict[str, str]:
    """Our backbone -> the paper backbone it is compared with (only those the paper table has)."""
    ours = [r[0] for r in con.execute("SELECT DISTINCT backbone FROM runs WHERE experiment = ? ORDER BY 1", [experiment]).fetchall()]
    known = {r[0] for r in con.execute("SELECT DISTINCT backbone FROM paper").fetchall()}
    return {b: REGISTRY[b].paper_backbone for b in ours if b in REGISTRY and REGISTRY[b].paper_backbone in known}


def build_report(params: dict, experiment: str, db, out, max_examples: int = 12, attention_examples: int = 3,
                 attention_layers: list[int] | None = None, device: str | None = None, threads: int | None = None) -> dict:
    """Render the page to `out` (atomically); a summary of what it holds."""
    warnings: list[str] = []
    con = connect_read_only(db)
    try:
        mapping = paper_backbone_map(con, experiment)
        sections = {
            "tables": tables_section(db, experiment, mapping),
            "overview": frame_html(cells_overview(con, experiment)),
            "vs_sft": frame_html(paired_deltas(con, experiment, "sft")),
            "delta_charts": delta_charts(delta_rows(con, experiment, mapping), mapping),
            "mechanism": mechanism_section(con, experiment),
            "analysis": analysis_section(con, experiment, mapping),
            "selection": selection_section(con, experiment),
            "curves": training_curves(con, experiment),
        }
        sections["attention"], n_maps = attention_section(con, params, experiment, attention_examples, attention_layers,
                                                          device, threads, warnings)
        sections["failures"], listed = failures_section(con, params, experiment, max_examples)
    finally:
        con.close()
    page = PAGE.substitute(
        experiment=esc(experiment), db=esc(db), generated=datetime.datetime.now().isoformat(timespec="seconds"),
        mapping=esc(", ".join(f"{k} → {v}" for k, v in mapping.items()) or "none"),
        warnings="".join(warning(f"warning: {w}") for w in warnings),
        layers="all decoder layers" if not attention_layers else f"decoder layers {esc(attention_layers)}",
        max_examples=max_examples, **sections,
    )
    write_text(out, page)
    return {
        "images": page.count("<img "),
        "attention_maps": n_maps,
        "failures_listed": len(listed),
        "listed_ids": listed,
        "warnings": warnings,
    }
