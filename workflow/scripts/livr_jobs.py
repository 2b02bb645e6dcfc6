"""The jobs of one experiment and their paths, shared by the Snakemake rules and the DVC stages.

Both front ends call the same `livr` CLI on the paths defined here; the cells and their resolved
settings come from livr.config, so the two cannot drift apart on what an experiment contains.
"""

from __future__ import annotations

import ast
import importlib.util
import json

from livr import config as lc
from livr.data.tasks import BUILDERS
from livr.model.backbones import REGISTRY

# Used only while a task builder module does not exist yet (tests/test_workflow.py checks that
# this equals each builder's SOURCES once it does). The builders' own SOURCES win.
FALLBACK_TASK_SOURCES = {
    "counting": ["pixmo_count"],
    "jigsaw": ["coco2017", "blink"],
    "localization": ["coco2017", "blink"],
    "visual_correspondence": ["hpatches"],
    "art_style": ["artbench10", "blink"],
    "semantic_correspondence": ["spair71k", "blink"],
    "functional_correspondence": ["funkpoint"],
    "relative_reflectance": ["mid", "blink"],
    "visual_similarity": ["nights", "blink"],
}

# Directory names under results/ that are not experiments.
RESERVED_RESULT_DIRS = {"cells", "figures"}


def builder_sources(task: str) -> list[str] | None:
    """The `SOURCES` of livr.data.tasks.<task>, read without importing the module (no heavy
    imports at parse time); None when the module does not exist yet."""
    spec = importlib.util.find_spec(BUILDERS[task])
    if spec is None or not spec.origin:
        return None
    tree = ast.parse(open(spec.origin).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SOURCES" for t in node.targets):
            try:
                return list(ast.literal_eval(node.value))
            except ValueError:
                break
    module = importlib.import_module(BUILDERS[task])  # SOURCES is not a literal: import it
    return list(module.SOURCES)


def task_sources(task: str) -> list[str]:
    found = builder_sources(task)
    return found if found is not None else list(FALLBACK_TASK_SOURCES[task])


# ---- paths (relative to the repository root; roots from params.yaml `paths:`) ----

def model_dir(params: dict, backbone: str) -> str:
    if REGISTRY[backbone].pretrained:  # shipped in the package (livr/model/pretrained/), never built by a job
        return f"livr/model/pretrained/{backbone}"
    return f"{params['paths']['models']}/{backbone}"


def raw_manifest(params: dict, source: str) -> str:
    return f"{params['paths']['data']}/raw/{source}/manifest.json"


def task_dir(params: dict, exp: str, task: str) -> str:
    return str(lc.data_dir(params, exp, task))


def run_dir(params: dict, exp: str, backbone: str, train_set: str, method: str) -> str:
    return f"{params['paths']['runs']}/{exp}/{backbone}/{train_set}/{method}"


def checkpoint_dir(params: dict, exp: str, backbone: str, train_set: str, method: str) -> str:
    return run_dir(params, exp, backbone, train_set, method) + "/final"


def train_metrics(params: dict, exp: str, backbone: str, train_set: str, method: str) -> str:
    """Written by `livr train` beside final/ (before it), so present whenever final/ is."""
    return run_dir(params, exp, backbone, train_set, method) + "/metrics.jsonl"


def cell_file(params: dict, exp: str, backbone: str, train_set: str, method: str, task: str) -> str:
    return f"{params['paths']['results']}/cells/{exp}/{backbone}/{train_set}/{method}/{task}.jsonl"


def experiment_results(params: dict, exp: str) -> str:
    return f"{params['paths']['results']}/{exp}"


TABLES = ["table1.csv", "table1_vs_paper.csv", "table2.csv", "table2_vs_paper.csv"]


# ---- the jobs of one experiment ----

def is_tiny(backbone: str) -> bool:
    return REGISTRY[backbone].tiny


def backbones(params: dict, exp: str) -> list[str]:
    return list(lc.experiment(params, exp)["backbones"])


def tiny_backbones(params: dict, exp: str) -> list[str]:
    """Tiny backbones a job builds (livr build-tiny); pretrained ones ship with the package."""
    return [b for b in backbones(params, exp) if is_tiny(b) and not REGISTRY[b].pretrained]


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


def train_inputs(params: dict, exp: str, backbone: str, train_set: str, method: str) -> list[str]:
    deps = [task_dir(params, exp, t) for t in lc.train_sets(params, exp)[train_set]]
    if is_tiny(backbone):
        deps.append(model_dir(params, backbone))
    return deps


def eval_inputs(params: dict, exp: str, backbone: str, train_set: str, method: str, task: str) -> list[str]:
    deps = [task_dir(params, exp, task)]
    src = lc.checkpoint_method(params, method)
    if src is not None:
        deps.append(checkpoint_dir(params, exp, backbone, train_set, src))
    if is_tiny(backbone):
        deps.append(model_dir(params, backbone))
    return deps


def settings_json(obj: dict) -> str:
    """Canonical JSON of a job's resolved settings (the rerun trigger of both front ends)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def train_settings(params: dict, exp: str, backbone: str, train_set: str, method: str) -> str:
    return settings_json(lc.train_config(params, exp, backbone, train_set, method))


def eval_settings(params: dict, exp: str, backbone: str, train_set: str, method: str, task: str) -> str:
    return settings_json(lc.eval_config(params, exp, backbone, train_set, method, task))


def job_threads(params: dict, exp: str) -> int:
    return int({**params["training"], **lc.experiment(params, exp).get("training", {})}["threads"])


def paper_backbone_args(params: dict, exp: str) -> list[str]:
    return [f"{b}={REGISTRY[b].paper_backbone}" for b in backbones(params, exp) if REGISTRY[b].paper_backbone]


def paper_data_settings(params: dict, task: str) -> dict:
    pd = params.get("paper_data", {}) or {}
    return {"seed": pd.get("seed"), "task": pd.get(task, {})}
