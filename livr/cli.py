"""`livr` command line. Subcommands are imported only when used, so `livr --help` is instant."""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import signal
import sys

# name -> (module, one-line help). Each module defines configure(parser) and main(args).
COMMANDS = {
    "data": (
        "livr.data.cli",
        "build datasets: synthetic demo tasks, public-source downloads and task builders, inspection",
    ),
    "build-tiny": ("livr.model.tiny", "build a tiny random-weight backbone (offline) into a directory"),
    "pretrain-tiny": (
        "livr.pretrain",
        "pretrain a tiny backbone on the generic procedural corpus (offline) into a directory",
    ),
    "train": ("livr.train", "train one cell: sft (LoRA/full) or livr (stage 1 bottleneck, then stage 2)"),
    "evaluate": ("livr.evaluate", "greedy-decode one test split and write the per-example predictions file"),
    "collect": ("livr.results.collect", "build results/livr.duckdb from every per-cell file (one process, atomic)"),
    "tables": ("livr.results.tables", "write the paper's tables as CSV from the results database"),
    "sql": ("livr.results.sql", "run an SQL query over the results database"),
    "cells": ("livr.config", "list an experiment's cells (backbone x train set x method x seed x task)"),
    "bench": (
        "livr.ops.bench",
        "performance: SFT vs LIVR step time, eval time and memory, side by side (PERFORMANCE.md)",
    ),
    "bench-data": (
        "livr.ops.bench_data",
        "performance of the training data path: peak host memory against data set size, step time",
    ),
    "analyze": (
        "livr.analyze",
        "the paper's analyses of a trained model with latents: answer->latent attention, t-SNE",
    ),
    "verify-bottleneck": ("livr.verify", "prove on one example that the stage-1 mask leaks no image information"),
    "report": ("livr.report", "render results/report.html: tables, deltas, latent attention maps, failures"),
    "doctor": (
        "livr.ops.doctor",
        "preflight of an experiment: weights, data sources, built datasets, GPUs, disk; the fix for each missing piece",
    ),
}
# Options that name what a command writes (a file or a directory), in every command: each is
# checked to be writable before the command starts its work.
OUTPUT_OPTIONS = ("out", "out_dir", "json", "stamp")
# OSErrors that say the machine or the user's path is wrong (no permission, read-only or full disk,
# a file where a directory must be), not the code: one line, as bad input is.
ENVIRONMENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.EISDIR}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livr",
        description="LIVR reproduction: data, training, evaluation and results. "
        "Run `livr COMMAND --help` for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            mod = importlib.import_module(module)
            mod.configure(p)
            p.set_defaults(_main=mod.main)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest swaps it per test)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def setup_logging() -> None:
    """livr's own log lines (INFO) on stderr, where Snakemake rules send their logs; third-party
    libraries stay at WARNING. Progress bars only on a TTY and without LIVR_PROGRESS=0."""
    from livr.io import progress_enabled

    root = logging.getLogger("livr")
    if not root.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s", "%H:%M:%S"))
        root.addHandler(handler)
        root.setLevel(os.environ.get("LIVR_LOG_LEVEL", "INFO").upper())
    if not progress_enabled():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when huggingface_hub is imported
        if "transformers" in sys.modules:  # imported already (a warm job): too late for the variable
            import transformers

            transformers.utils.logging.disable_progress_bar()
        if "huggingface_hub" in sys.modules:
            import huggingface_hub

            huggingface_hub.utils.disable_progress_bars()


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the console command (tests pass argv and keep Python's signal handling)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `livr cells | head` ends quietly, as other CLI tools do
        argv = sys.argv[1:]
        from livr.ops.warm_client import run_remote

        code = run_remote(argv)  # a job of a tiny-backbone Snakemake run: forked from its warm server
        if code is not None:
            return code
    setup_logging()
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 0 if args.command is None else 2
    from livr.errors import InputError
    from livr.io import check_writable

    try:
        for dest in OUTPUT_OPTIONS:
            if isinstance(getattr(args, dest, None), (str, os.PathLike)):  # not a flag of that name
                check_writable(getattr(args, dest))
        return args._main(args) or 0
    except InputError as e:  # bad input is one clear line; anything else is a bug and keeps its traceback
        print(f"livr {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.errno not in ENVIRONMENT_ERRNOS:
            raise
        print(
            f"livr {args.command}: error: {e.filename or ''}{': ' if e.filename else ''}{e.strerror}", file=sys.stderr
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
