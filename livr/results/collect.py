"""`livr collect`: build the results database from every per-cell file, in one process."""

from __future__ import annotations

import argparse

from livr.errors import InputError
from livr.results.db import PAPER_CSV, build_database


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cells",
        nargs="*",
        default=[],
        metavar="JSONL",
        help="per-cell predictions files; each needs its sidecar .json beside it",
    )
    parser.add_argument(
        "--job-timings",
        nargs="*",
        default=[],
        metavar="TSV",
        help="job timings: the TSVs Snakemake's `benchmark:` directive writes per job "
        "(timings/<exp>/<step>/<backbone>/<train_set>/<method>[/seed<S>][/<task>].tsv)",
    )
    parser.add_argument(
        "--train-metrics",
        nargs="*",
        default=[],
        metavar="JSONL",
        help="metrics.jsonl files written by training runs (runs/<exp>/<backbone>/<train_set>/<method>/seed<S>/...)",
    )
    parser.add_argument(
        "--datasets",
        nargs="*",
        default=[],
        metavar="DIR",
        help="the built task directories the cells read (their manifest.json counts go to table datasets)",
    )
    parser.add_argument("--experiment", help="the experiment the --datasets belong to (required with --datasets)")
    parser.add_argument(
        "--analyses",
        nargs="*",
        default=[],
        metavar="JSON",
        help="`livr analyze` files (results/analysis/<exp>/<backbone>/<train_set>/<method>/seed<S>.json)",
    )
    parser.add_argument(
        "--paper", default=PAPER_CSV, help="the paper's numbers (default: the packaged paper_results.csv)"
    )
    parser.add_argument("--out", default="results/livr.duckdb", help="database to (re)build (default: %(default)s)")


def main(args: argparse.Namespace) -> int:
    if args.datasets and not args.experiment:
        raise InputError("--datasets needs --experiment (the experiment whose cells read them)")
    datasets = {args.experiment: args.datasets} if args.datasets else None
    counts = build_database(
        args.out, args.cells, args.job_timings, args.train_metrics, args.paper, datasets, args.analyses
    )
    print(f"wrote {args.out}: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    return 0
