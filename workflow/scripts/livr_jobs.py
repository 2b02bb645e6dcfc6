"""The jobs of one experiment, shared by the Snakemake rules and the DVC stages.

Both front ends call the same `livr` CLI on the paths of livr/layout.py; the cells come from
livr.config and their resolved settings from livr.settings, so the two cannot drift apart on what
an experiment contains.
"""

from __future__ import annotations

import importlib
import json

from livr import config as lc
from livr.data.tasks import BUILDERS
from livr.layout import DATABASE, METRICS, REPORT, VAL_CURVES, Layout  # noqa: F401 (names the rules use)
from livr.model.backbones import REGISTRY
from livr.settings import EvalConfig, TrainConfig, resolve_training


def task_sources(task: str) -> list[str]:
    """The public sources a paper task is built from: its builder module's SOURCES (imported only
    for paper experiments, when their download and build jobs are planned)."""
    return list(importlib.import_module(BUILDERS[task]).SOURCES)


# ---- paths: livr/layout.py, with the roots of params.yaml `paths:`

def layout(params: dict) -> Layout:
    return Layout.of(params)


def task_dir(params: dict, exp: str, task: str) -> str:
    return lc.task_dir(params, exp, task)


TABLES = ["table1.csv", "table1_vs_paper.csv", "table2.csv", "table2_vs_paper.csv"]
SELECTION = "selection.csv"  # every trained cell at its best-val and last weights (not published)


# ---- the jobs of one experiment ----

def is_tiny(backbone: str) -> bool:
    return REGISTRY[backbone].tiny


def backbones(params: dict, exp: str) -> list[str]:
    return list(lc.experiment(params, exp)["backbones"])


def tiny_backbones(params: dict, exp: str) -> list[str]:
    return [b for b in backbones(params, exp) if is_tiny(b)]


def suite(params: dict, exp: str) -> str:
    return lc.experiment(params, exp)["suite"]


def sources(params: dict, exp: str) -> list[str]:
    """Public sources an experiment downloads (paper suite only)."""
    if suite(params, exp) != "paper":
        return []
    seen: list[str] = []
    for t in lc.tasks_of(params, exp):
        seen += [s for s in task_sources(t) if s not in seen]
    return seen


def train_jobs(params: dict, exp: str) -> list[tuple[str, str, str]]:
    """(backbone, train_set, method) of every training run."""
    return [
        (b, ts, m)
        for b in backbones(params, exp)
        for ts in lc.train_sets(params, exp)
        for m in lc.trained_methods(params, exp)
    ]


def eval_jobs(params: dict, exp: str) -> list[lc.Cell]:
    return lc.cells(params, exp)


def unselected_eval_jobs(params: dict, exp: str) -> list[lc.Cell]:
    """Cells of a trained checkpoint, evaluated again with the run's unselected one."""
    return [c for c in lc.cells(params, exp) if lc.checkpoint_method(params, c.method) is not None]


def analysis_jobs(params: dict, exp: str) -> list[tuple[str, str, str]]:
    """(backbone, train_set, method) of every trained model with latent tokens (`livr analyze`)."""
    return [(b, ts, m) for b, ts, m in train_jobs(params, exp) if TrainConfig.resolve(params, exp, b, ts, m).uses_latents]


def train_inputs(params: dict, exp: str, backbone: str, train_set: str, method: str) -> list[str]:
    deps = [task_dir(params, exp, t) for t in lc.train_sets(params, exp)[train_set]]
    if is_tiny(backbone):
        deps.append(layout(params).model_dir(backbone))
    return deps


def eval_inputs(params: dict, exp: str, backbone: str, train_set: str, method: str, task: str,
                unselected: bool = False) -> list[str]:
    deps = [task_dir(params, exp, task)]
    src = lc.checkpoint_method(params, method)
    if src is not None:
        where = layout(params).unselected_checkpoint_dir if unselected else layout(params).checkpoint_dir
        deps.append(where(exp, backbone, train_set, src))
    if is_tiny(backbone):
        deps.append(layout(params).model_dir(backbone))
    return deps


def analysis_inputs(params: dict, exp: str, backbone: str, train_set: str, method: str) -> list[str]:
    return [*train_inputs(params, exp, backbone, train_set, method), layout(params).checkpoint_dir(exp, backbone, train_set, method)]


def settings_json(obj: dict) -> str:
    """Canonical JSON of a job's resolved settings (the rerun trigger of both front ends)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def train_settings(params: dict, exp: str, backbone: str, train_set: str, method: str) -> str:
    return TrainConfig.resolve(params, exp, backbone, train_set, method).as_json()


def eval_settings(params: dict, exp: str, backbone: str, train_set: str, method: str, task: str,
                  unselected: bool = False) -> str:
    return EvalConfig.resolve(params, exp, backbone, train_set, method, task, unselected).as_json()


def analysis_settings(params: dict, exp: str, backbone: str, train_set: str, method: str) -> str:
    """The analysed run's settings and params.yaml `analysis:` (the analyze job's rerun trigger)."""
    return settings_json({"train": json.loads(train_settings(params, exp, backbone, train_set, method)),
                          "analysis": params["analysis"]})


def job_threads(params: dict, exp: str) -> int:
    return resolve_training(params, exp).threads


def paper_backbone_args(params: dict, exp: str) -> list[str]:
    return [f"{b}={REGISTRY[b].paper_backbone}" for b in backbones(params, exp) if REGISTRY[b].paper_backbone]


def paper_data_settings(params: dict, task: str) -> dict:
    pd = params.get("paper_data", {}) or {}
    return {"seed": pd.get("seed"), "task": pd.get(task, {})}
