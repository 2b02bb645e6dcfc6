"""Write workflow/dvc/cells.yaml: the job lists of one experiment, for dvc.yaml's `foreach` stages
(run as workflow/scripts/dvc_cells.py).

DVC's templating cannot index a dict by another variable (`${experiments[${experiment}]}` does
not parse, and `vars:` entries cannot be interpolated), and a stage's `deps:` cannot be
interpolated from a list. So the lists dvc.yaml iterates over are generated here from params.yaml
through the same code the Snakemake rules use (livr.workflow.jobs -> livr.config), with
each job's dependencies spread over fixed slots (dep0, dep1, ...; unused slots repeat dep0,
which DVC accepts).

    python workflow/scripts/dvc_cells.py                      # the experiment params.yaml selects
    python workflow/scripts/dvc_cells.py --experiment table2  # before: dvc exp run -S experiment=table2
    python workflow/scripts/dvc_cells.py --check              # exit 1 if the file is out of date

The `guard` stage (workflow/scripts/dvc_guard.py), which every other stage depends on, stops
with a clear message before anything runs when the file lists another experiment than params.yaml
selects.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from livr import config as lc
from livr.data.sources import SOURCES as SOURCE_MODULES
from livr.layout import job_parts
from livr.model.backbones import REGISTRY
from livr.model.pretrained import rebuild_command
from livr.workflow import jobs

DEFAULT_OUT = "workflow/dvc/cells.yaml"
DVC_YAML = Path(__file__).resolve().parents[2] / "dvc.yaml"  # the repository's (an editable install)


def stage_slots(dvc_yaml: Path = DVC_YAML) -> dict[str, int]:
    """The dependency slots (`${item.depN}`) each foreach stage of dvc.yaml declares: a job with
    more dependencies is refused, never cut short."""
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    return {
        name: sum(str(d).startswith("${item.dep") for d in stage["do"].get("deps", []))
        for name, stage in stages.items()
        if "do" in stage
    }


def variant_slots(dvc_yaml: Path = DVC_YAML) -> int:
    """How many further methods (`--variant`s) one evaluate job may decode: the `${item.outN}`
    outputs dvc.yaml's evaluate stage declares."""
    outs = yaml.safe_load(dvc_yaml.read_text())["stages"]["evaluate"]["do"]["outs"]
    return sum(re.fullmatch(r"\$\{item\.out\d+\}", next(iter(o))) is not None for o in outs)


SLOTS = stage_slots()
VARIANT_SLOTS = variant_slots()


def _slots(kind: str, deps: list[str], where: str) -> dict:
    if not deps:
        raise ValueError(f"{where}: no dependencies")
    if len(deps) > SLOTS[kind]:
        raise ValueError(f"{where}: {len(deps)} dependencies, dvc.yaml has {SLOTS[kind]} slots for {kind}")
    padded = deps + [deps[0]] * (SLOTS[kind] - len(deps))
    return {f"dep{i}": d for i, d in enumerate(padded)}


def _variants(L, exp: str, job: jobs.EvalJob, where: str) -> dict:
    """A merged evaluation job's further methods (its `--variant`s): the command's output arguments,
    and their names, predictions and sidecars in the fixed slots of dvc.yaml's evaluate stage
    (variantN, outN, summaryN; unused slots repeat the job's own method and files)."""
    slots = VARIANT_SLOTS
    variants = [(m, (exp, job.backbone, job.train_set, m, job.seed, job.task)) for m in job.methods[1:]]
    if len(variants) > slots:
        raise ValueError(f"{where}: {len(variants)} test-time variants, dvc.yaml's evaluate stage has {slots} slots")
    own = (job.method, (exp, job.backbone, job.train_set, job.method, job.seed, job.task))
    padded = variants + [own] * (slots - len(variants))
    # the command's --out and --variant arguments (never empty: DVC reads an empty interpolation as a changed command)
    out = {"outs": " ".join([L.cell_file(*own[1]), *(f"--variant {m}={L.cell_file(*cell)}" for m, cell in variants)])}
    for i, (m, cell) in enumerate(padded, start=1):
        out |= {f"variant{i}": m, f"out{i}": L.cell_file(*cell), f"summary{i}": L.cell_summary(*cell)}
    return out


def _module_file(module: str) -> str:
    return module.replace(".", "/") + ".py"


def dvc_cells(params: dict, exp: str) -> dict:
    """The job lists of `exp`, keyed by DVC stage item name."""
    lc.experiment(params, exp)  # unknown experiment -> ConfigError naming the valid ones
    L = jobs.layout(params)
    tiny = {b: {"out": L.model_dir(b)} for b in jobs.tiny_backbones(params, exp)}
    synth, build, synth_comparison, build_comparison = {}, {}, {}, {}
    synthetic = jobs.suite(params, exp) == "synthetic"
    for t in jobs.datasets(params, exp, "task"):
        if synthetic:
            synth[t] = {"out": jobs.task_dir(params, exp, t), **lc.synthetic_config(params, exp)}
        else:
            deps = [L.raw_manifest(s) for s in jobs.task_sources(t)]
            build[t] = {"out": jobs.task_dir(params, exp, t), **_slots("build_task", deps, f"build {t}")}
    for t in jobs.datasets(params, exp, "comparison"):
        if synthetic:
            synth_comparison[t] = {"out": jobs.task_dir(params, exp, t), **lc.synthetic_config(params, exp)}
        else:
            deps = [L.raw_manifest(s) for s in jobs.task_sources(t)]
            build_comparison[t] = {
                "out": jobs.task_dir(params, exp, t),
                **_slots("build_comparison", deps, f"build {t}"),
            }
    download = {
        s: {"out": L.raw_manifest(s), "raw_dir": L.raw_root(), "code": _module_file(SOURCE_MODULES[s])}
        for s in jobs.sources(params, exp)
    }
    train = {}
    for b, ts, m, seed in jobs.train_jobs(params, exp):
        deps = jobs.train_inputs(params, exp, b, ts, m) + jobs.preflight_inputs(params, exp, b)
        train["__".join(job_parts(b, ts, m, seed))] = {
            "backbone": b,
            "train_set": ts,
            "method": m,
            "seed": seed,
            "run_dir": L.run_dir(exp, b, ts, m, seed),
            "threads": jobs.job_threads(params, exp),
            "out": L.checkpoint_dir(exp, b, ts, m, seed),
            "unselected": L.unselected_checkpoint_dir(exp, b, ts, m, seed),
            **_slots("train", deps, f"train {'/'.join(job_parts(b, ts, m, seed))}"),
        }

    def cell_job(c, stage: str, out: str, summary: str, deps: list[str]) -> dict:
        return {
            "backbone": c.backbone,
            "train_set": c.train_set,
            "method": c.method,
            "seed": c.seed,
            "task": c.task,
            # the command's cell options: a cell of the base model has no --seed
            "cell_args": " ".join(
                [f"--method {c.method}", *([] if c.seed is None else [f"--seed {c.seed}"]), f"--task {c.task}"]
            ),
            "out": out,
            "summary": summary,
            "threads": jobs.job_threads(params, exp),
            **_slots(stage, deps, f"{stage} {c}"),
        }

    evaluate, evaluate_unselected = {}, {}
    for j in jobs.evaluate_jobs(params, exp):
        cell = (exp, j.backbone, j.train_set, j.method, j.seed, j.task)
        evaluate["__".join(job_parts(*cell[1:]))] = {
            **cell_job(
                j,
                "evaluate",
                L.cell_file(*cell),
                L.cell_summary(*cell),
                jobs.eval_inputs(params, exp, j.backbone, j.train_set, j.method, j.task, seed=j.seed)
                + jobs.preflight_inputs(params, exp, j.backbone),
            ),
            **_variants(L, exp, j, f"evaluate {'/'.join(job_parts(*cell[1:]))}"),
        }
    for c in jobs.unselected_eval_jobs(params, exp):
        cell = (exp, c.backbone, c.train_set, c.method, c.seed, c.task)
        evaluate_unselected["__".join(job_parts(*cell[1:]))] = cell_job(
            c,
            "evaluate_unselected",
            L.unselected_cell_file(*cell),
            L.unselected_cell_summary(*cell),
            jobs.eval_inputs(params, exp, c.backbone, c.train_set, c.method, c.task, seed=c.seed, unselected=True),
        )
    analyze = {}
    for b, ts, m, seed in jobs.analysis_jobs(params, exp):
        deps = jobs.analysis_inputs(params, exp, b, ts, m, seed) + jobs.preflight_inputs(params, exp, b)
        analyze["__".join(job_parts(b, ts, m, seed))] = {
            "backbone": b,
            "train_set": ts,
            "method": m,
            "seed": seed,
            "out": L.analysis_file(exp, b, ts, m, seed),
            "threads": jobs.job_threads(params, exp),
            **_slots("analyze", deps, f"analyze {'/'.join(job_parts(b, ts, m, seed))}"),
        }
    cell_outs = [
        L.cell_file(exp, c.backbone, c.train_set, c.method, c.seed, c.task) for c in jobs.eval_jobs(params, exp)
    ] + [v["out"] for v in evaluate_unselected.values()]
    return {
        "experiment": exp,
        # the stamp of the guard stage, which every other stage depends on (runs first)
        "guard": f"{L.results}/.dvc_guard",
        "suite": jobs.suite(params, exp),
        "tiny": tiny,
        # the shipped pretrained tiny bases, rebuilt by a frozen stage only on request
        "pretrained": {
            b: {"out": jobs.model_input(params, b), "cmd": rebuild_command(b, jobs.model_input(params, b))}
            for b, spec in REGISTRY.items()
            if spec.pretrained
        },
        # the preflight, for experiments with real backbones (its stamp gates their GPU stages)
        "doctor": {exp: {"out": jobs.doctor_stamp(params, exp)}} if jobs.needs_preflight(params, exp) else {},
        "synth": synth,
        "download": download,
        "build": build,
        "synth_comparison": synth_comparison,
        "build_comparison": build_comparison,
        "train": train,
        "evaluate": evaluate,
        "evaluate_unselected": evaluate_unselected,
        "analyze": analyze,
        "report": {
            "cells_dir": f"{L.results}/cells/{exp}",
            "cells": " ".join(cell_outs),
            "analyses": " ".join(v["out"] for v in analyze.values()),
            "analyses_dir": f"{L.results}/analysis/{exp}",
            "train_metrics": " ".join(L.train_metrics(exp, *job) for job in jobs.train_jobs(params, exp)),
            "paper_backbones": " ".join(jobs.paper_backbone_args(params, exp)),
            "datasets": " ".join(jobs.task_dir(params, exp, t) for t in lc.datasets_of(params, exp)),
            "db": L.database(exp),
            "out_dir": L.experiment_dir(exp),
            "metrics": L.result_file(exp, jobs.METRICS),
            "selection": L.result_file(exp, jobs.SELECTION),
            "val_curves": L.result_file(exp, jobs.VAL_CURVES),
            "curve_methods": lc.trained_methods(params, exp),
            "published_db": L.published(jobs.DATABASE),
            "published_dir": L.results,
        },
    }


def render(params: dict, exp: str, params_path: str) -> str:
    header = (
        f"# GENERATED by workflow/scripts/dvc_cells.py from {params_path} (experiment: {exp}); do not edit.\n"
        "# dvc.yaml iterates over these lists; regenerate after editing params.yaml's experiments,\n"
        "# mixtures, methods or paths, and before `dvc exp run -S experiment=OTHER`.\n"
    )
    return header + yaml.safe_dump({"dvc_cells": dvc_cells(params, exp)}, sort_keys=False, width=200)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--experiment", help="default: the params file's `experiment:`")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="only check that --out is up to date")
    args = ap.parse_args(argv)
    try:
        params = lc.load_params(args.params)
        text = render(params, args.experiment or params["experiment"], Path(args.params).name)
    except (lc.ConfigError, ValueError) as e:
        print(f"dvc_cells: error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        if not out.is_file() or out.read_text() != text:
            print(
                f"dvc_cells: {out} is out of date with {args.params}; run: python workflow/scripts/dvc_cells.py"
                + (f" --experiment {args.experiment}" if args.experiment else ""),
                file=sys.stderr,
            )
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(f"wrote {out} ({args.experiment or params['experiment']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
