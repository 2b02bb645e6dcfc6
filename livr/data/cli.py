"""`livr data`: synthetic tasks, public-source downloads, paper task builders, inspection.

  livr data synth    --task T --out DIR [--n-train N --n-val N --n-test N --seed S --image-size PX]
  livr data download --source S [--raw-dir data/raw] [--params params.yaml]
  livr data import   SOURCE --from PATH [--raw-dir data/raw] [--params params.yaml]
  livr data build    --task T [--raw-root data/raw] --out DIR [--params params.yaml] [--seed S]
  livr data inspect  --task-dir DIR [--out sheet.png] [--n 2]
  livr data build-comparison --name N [--raw-root data/raw] --out DIR [--params params.yaml] [--seed S]
  livr data synth-comparison --name N --out DIR [--n-train N --n-val N --n-test N --seed S --image-size PX]

`build` uses the builder's DEFAULTS updated with params.yaml `paper_data.<task>`; an unknown key
there is an error naming it and the valid keys. The seed defaults to `paper_data.seed` (else 42).
`download` passes params.yaml `sources.<source>` (when present) to the source as its cfg; an
unknown key there is an error naming the valid keys. `import` is the manual step of the sources no
script can download (FunKPoint; MID's MIDIntrinsics albedo): it copies PATH (a directory or a
zip/tar archive) into RAW_DIR/<source>/, checks it and writes its manifest (docs/DATA.md).
`build-comparison` builds a training set or benchmark of the comparison experiments
(livr/data/benchmarks/) with params.yaml `paper_data.<name>`; `synth-comparison` an offline
stand-in of one (livr/data/standins.py: train + val for a training set, test for a benchmark).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from livr.data.registry import TASK_SPECS, task_spec
from livr.data.sources import MANUAL_SOURCES, SOURCES
from livr.data.specs import resolve
from livr.errors import InputError

DEFAULT_SEED = 42


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    p = _subcommand(sub, "synth", "build one procedural (offline) task directory")
    p.add_argument("--task", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--n-train", type=int, default=1000)
    p.add_argument("--n-val", type=int, default=250)
    p.add_argument("--n-test", type=int, default=250)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--image-size", type=int, default=112)

    p = _subcommand(sub, "download", "download one public source into RAW_DIR/<source>/")
    p.add_argument("--source", required=True, help=f"one of: {', '.join(SOURCES)}")
    p.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    p.add_argument("--params", type=Path, default=None, help="params.yaml (uses its sources.<source> section)")

    p = _subcommand(
        sub, "import", "the manual step of a source no script can download: check PATH, copy it in, write its manifest"
    )
    p.add_argument("source", help=f"one of: {', '.join(MANUAL_SOURCES)}")
    p.add_argument("--from", dest="src", required=True, type=Path, help="a directory or a zip/tar archive")
    p.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    p.add_argument("--params", type=Path, default=None, help="params.yaml (uses its sources.<source> section)")

    p = _subcommand(sub, "build", "build one paper task from downloaded sources")
    p.add_argument("--task", required=True, help=f"one of: {', '.join(TASK_SPECS)}")
    p.add_argument("--raw-root", type=Path, default=Path("data/raw"))
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--params", type=Path, default=None, help="params.yaml (uses paper_data.<task>)")
    p.add_argument("--seed", type=int, default=None, help="default: params.yaml paper_data.seed, else 42")

    from livr.data.benchmarks import BENCHMARKS, TRAINING_SETS

    p = _subcommand(sub, "build-comparison", "build a comparison training set or benchmark (Tables 3-4, Mirage)")
    p.add_argument("--name", required=True, help=f"one of: {', '.join([*TRAINING_SETS, *BENCHMARKS])}")
    p.add_argument("--raw-root", type=Path, default=Path("data/raw"))
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--params", type=Path, default=None, help="params.yaml (uses paper_data.<name>)")
    p.add_argument("--seed", type=int, default=None, help="default: params.yaml paper_data.seed, else 42")

    p = _subcommand(sub, "synth-comparison", "build an offline stand-in of a comparison training set or benchmark")
    p.add_argument("--name", required=True, help=f"one of: {', '.join([*TRAINING_SETS, *BENCHMARKS])}")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--n-train", type=int, default=64)
    p.add_argument("--n-val", type=int, default=16)
    p.add_argument("--n-test", type=int, default=32)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--image-size", type=int, default=112)

    p = _subcommand(sub, "inspect", "counts, answer balance and a contact sheet of a task directory")
    p.add_argument("--task-dir", required=True, type=Path)
    p.add_argument("--out", type=Path, default=None, help="contact sheet PNG (default: TASK_DIR/inspect.png)")
    p.add_argument("--n", type=int, default=2, help="examples per split on the sheet")
    p.add_argument("--seed", type=int, default=0)


def _subcommand(sub, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose one line shows in `livr data --help` and atop `livr data NAME --help`."""
    return sub.add_parser(name, help=text, description=text)


def _load_params(path: Path | None) -> dict:
    if path is None:
        return {}
    import yaml

    if not path.is_file():
        raise InputError(f"{path}: params file not found")
    with open(path) as f:
        return yaml.safe_load(f) or {}


def _module(kind: str, registry: dict, name: str):
    if name not in registry:
        raise InputError(f"unknown {kind} {name!r}; valid {kind}s: {', '.join(registry)}")
    return importlib.import_module(registry[name])


def _source_cfg(params_path: Path | None, source: str, mod) -> dict:
    """params.yaml sources.<source>, checked against the source's DEFAULTS keys."""
    from livr.data.sources._common import check_cfg

    cfg = (_load_params(params_path).get("sources") or {}).get(source) or {}
    check_cfg(mod.DEFAULTS, cfg, source)
    return cfg


def task_cfg(params: dict, task: str, defaults: dict) -> dict:
    """params.yaml paper_data.<task>, checked against the builder's DEFAULTS keys."""
    section = (params.get("paper_data") or {}).get(task) or {}
    if not isinstance(section, dict):
        raise InputError(f"params.yaml paper_data.{task} must be a mapping, got {type(section).__name__}")
    unknown = sorted(set(section) - set(defaults))
    if unknown:
        raise InputError(
            f"params.yaml paper_data.{task}: unknown key(s) {unknown}; valid keys: {', '.join(sorted(defaults))}"
        )
    return {**defaults, **section}


def _synth(args) -> None:
    from livr.data.synthetic import build_synthetic_task

    build_synthetic_task(
        args.task, args.out, args.n_train, args.n_val, args.n_test, args.seed, image_size=args.image_size
    )
    print(f"wrote {args.out}")


def _download(args) -> int:
    from livr.data.download import DownloadError

    mod = _module("source", SOURCES, args.source)
    try:
        out = mod.download(args.raw_dir / args.source, _source_cfg(args.params, args.source, mod))
    except DownloadError as e:  # the host, not the input: one line naming the URL, exit 1
        print(f"livr data download: failed: {e}", file=sys.stderr)
        return 1
    print(f"downloaded {args.source} into {out}")
    return 0


def _import(args) -> None:
    if args.source not in MANUAL_SOURCES:
        raise InputError(
            f"source {args.source!r} has no manual step (use `livr data download --source "
            f"{args.source}`); sources with one: {', '.join(MANUAL_SOURCES)}"
        )
    mod = _module("source", SOURCES, args.source)
    out = mod.import_manual(args.raw_dir / args.source, args.src, _source_cfg(args.params, args.source, mod))
    print(f"imported {args.source} from {args.src} into {out}")


def _seed(args, params) -> int:
    return args.seed if args.seed is not None else int((params.get("paper_data") or {}).get("seed", DEFAULT_SEED))


def _build(args) -> None:
    spec = task_spec(args.task)
    params = _load_params(args.params)
    resolve(spec.builder)(args.raw_root, args.out, task_cfg(params, args.task, spec.defaults()), _seed(args, params))
    print(f"built {args.task} into {args.out}")


def _build_comparison(args) -> None:
    from livr.data import benchmarks

    params = _load_params(args.params)
    cfg = (params.get("paper_data") or {}).get(args.name)
    if args.name not in {**benchmarks.TRAINING_SETS, **benchmarks.BENCHMARKS}:
        raise InputError(
            f"unknown comparison set {args.name!r}; valid training sets: "
            f"{', '.join(benchmarks.TRAINING_SETS)}; benchmarks: {', '.join(benchmarks.BENCHMARKS)}"
        )
    build = benchmarks.build_training_set if args.name in benchmarks.TRAINING_SETS else benchmarks.build_benchmark
    build(args.name, args.raw_root, args.out, cfg, _seed(args, params))
    print(f"built {args.name} into {args.out}")


def _synth_comparison(args) -> None:
    from livr.data.standins import build_standin

    build_standin(args.name, args.out, args.n_train, args.n_val, args.n_test, args.seed, image_size=args.image_size)
    print(f"wrote {args.out}")


def _inspect(args) -> None:
    from livr.data import inspect as insp
    from livr.io import check_writable

    out = args.out or (args.task_dir / "inspect.png")
    check_writable(out)
    print(insp.format_summary(args.task_dir, insp.summarize(args.task_dir)))
    insp.contact_sheet(args.task_dir, out, n_per_split=args.n, seed=args.seed)
    print(f"contact sheet: {out}")


SUBCOMMANDS = {
    "synth": _synth,
    "download": _download,
    "import": _import,
    "build": _build,
    "build-comparison": _build_comparison,
    "synth-comparison": _synth_comparison,
    "inspect": _inspect,
}


def main(args) -> int:
    return SUBCOMMANDS[args.data_command](args) or 0
