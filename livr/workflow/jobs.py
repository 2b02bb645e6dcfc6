"""The jobs of one experiment, shared by the Snakemake rules and the DVC stages.

Both front ends call the same `livr` CLI on the paths of livr/layout.py; the cells come from
livr.config and their resolved settings from livr.settings, so the two cannot drift apart on what
an experiment contains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from livr import config as lc
from livr.data.registry import spec_of
from livr.data.schema import TASKS
from livr.layout import DATABASE, DOCTOR, METRICS, REPORT, VAL_CURVES, Layout  # noqa: F401 (names the rules use)
from livr.model.backbones import REGISTRY
from livr.ops import warm_jobs
from livr.ops.job_memory import job_images, job_mem_mb
from livr.settings import EvalConfig, TrainConfig, resolve_training


def task_sources(task: str) -> list[str]:
    """The public sources a paper task, comparison training set or benchmark is built from (its spec's)."""
    return list(spec_of(task).sources)


# ---- paths: livr/layout.py, with the roots of params.yaml `paths:`


def layout(params: dict) -> Layout:
    return Layout.of(params)


def model_input(params: dict, backbone: str) -> str:
    """The model directory a job of a tiny backbone reads: a `livr build-tiny` output, or the
    pretrained base shipped in the package (livr/model/pretrained/), which no job builds."""
    if REGISTRY[backbone].pretrained:
        return f"livr/model/pretrained/{backbone}"
    return layout(params).model_dir(backbone)


def task_dir(params: dict, exp: str, task: str) -> str:
    return lc.task_dir(params, exp, task)


TABLES = [
    "table1.csv",
    "table1_vs_paper.csv",
    "table2.csv",
    "table2_vs_paper.csv",
    "datasets.csv",
    "table3.csv",
    "table4.csv",
    "mirage_vsp.csv",
]
SELECTION = "selection.csv"  # every trained cell at its best-val and last weights (not published)


# ---- the jobs of one experiment ----


def is_tiny(backbone: str) -> bool:
    return REGISTRY[backbone].tiny


def backbones(params: dict, exp: str) -> list[str]:
    return list(lc.experiment(params, exp)["backbones"])


def starts_warm(params: dict, exp: str) -> bool:
    """A local run whose jobs fork from a warm server (livr/ops/warm_jobs.py): every backbone tiny
    (CPU jobs of seconds, where imports are a large share), unless LIVR_WARM_JOBS=0."""
    return warm_jobs.enabled() and all(is_tiny(b) for b in backbones(params, exp))


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
    for t in lc.datasets_of(params, exp):
        seen += [s for s in task_sources(t) if s not in seen]
    return seen


def datasets(params: dict, exp: str, kind: str) -> list[str]:
    """The experiment's datasets of one kind: "task" (the nine tasks' data) or "comparison"
    (training sets and benchmarks of livr/data/benchmarks), each built by its own rule."""
    return [d for d in lc.datasets_of(params, exp) if (lc.dataset_kind(d) == "task") == (kind == "task")]


def train_jobs(params: dict, exp: str) -> list[tuple[str, str, str, int]]:
    """(backbone, train_set, method, seed) of every training run: each trained method once per seed, on
    the train sets it trains on (lc.trains_on)."""
    return [
        (b, ts, m, s)
        for b in backbones(params, exp)
        for ts in lc.train_sets(params, exp)
        for m in lc.trained_methods(params, exp)
        if lc.trains_on(params, exp, m, ts)
        for s in lc.seeds(params, exp)
    ]


def eval_jobs(params: dict, exp: str) -> list[lc.Cell]:
    """Every evaluated cell, at each of its seeds (each has its predictions file, written by one
    `evaluate_jobs` job)."""
    return lc.cells(params, exp)


@dataclass(frozen=True)
class EvalJob:
    """One `livr evaluate` process: the cells of `methods` on one backbone, train set, training seed
    (None: the base model) and test task. The first method names the job (its log, benchmark and DVC
    item); the others are `--variant`s on its checkpoint."""

    backbone: str
    train_set: str
    methods: tuple[str, ...]
    task: str
    seed: int | None = None

    @property
    def method(self) -> str:
        return self.methods[0]

    def cells(self) -> list[lc.Cell]:
        return [lc.Cell(self.backbone, self.train_set, m, self.task, self.seed) for m in self.methods]


def eval_groups(params: dict, exp: str) -> list[tuple[str, ...]]:
    """The experiment's methods, grouped into what one evaluation job decodes: a trained method with
    the test-time variants on its checkpoint (`checkpoint_of`, paper Sec. 4.3.1), which load the same
    model and see the same images; every other method alone. In the experiment's order, a
    checkpoint's own method first."""
    groups: dict[object, list[str]] = {}
    for m in lc.experiment(params, exp)["methods"]:
        src = lc.checkpoint_method(params, m)
        groups.setdefault(src if src is not None else ("base model", m), []).append(m)
    return [tuple(sorted(g, key=lambda m: lc.checkpoint_method(params, m) != m)) for g in groups.values()]


def merged_eval_groups(params: dict, exp: str) -> list[tuple[str, ...]]:
    """The groups of several methods: each an evaluate rule of its own in Snakemake (its outputs
    name the methods)."""
    return [g for g in eval_groups(params, exp) if len(g) > 1]


def evaluate_jobs(params: dict, exp: str) -> list[EvalJob]:
    """The evaluation jobs: each of `eval_groups` per backbone, train set, seed and test task, so every
    cell of `eval_jobs` is written by exactly one job (a test-time variant at its model's seed)."""
    groups = {g[0]: g for g in eval_groups(params, exp)}
    return [
        EvalJob(c.backbone, c.train_set, groups[c.method], c.task, c.seed)
        for c in lc.cells(params, exp)
        if c.method in groups
    ]


def unselected_eval_jobs(params: dict, exp: str) -> list[lc.Cell]:
    """Cells of a trained checkpoint, evaluated again with the run's unselected one (unless the
    experiment sets `evaluate_unselected: false`)."""
    if not lc.experiment(params, exp).get("evaluate_unselected", True):
        return []
    return [c for c in lc.cells(params, exp) if lc.checkpoint_method(params, c.method) is not None]


def analysis_jobs(params: dict, exp: str) -> list[tuple[str, str, str, int]]:
    """(backbone, train_set, method, seed) of every trained model with latent tokens (`livr analyze`), on
    the nine tasks (the paper's analyses; comparison training sets have no test split of their own);
    none when the experiment sets `analyze: false`."""
    if not lc.experiment(params, exp).get("analyze", True):
        return []
    return [
        (b, ts, m, s)
        for b, ts, m, s in train_jobs(params, exp)
        if set(lc.train_sets(params, exp)[ts]) <= set(TASKS)
        and TrainConfig.resolve(params, exp, b, ts, m, s).uses_latents
    ]


def train_inputs(params: dict, exp: str, backbone: str, train_set: str, method: str, seed=None) -> list[str]:
    """What a training run reads (the same for every seed)."""
    deps = [task_dir(params, exp, t) for t in lc.train_data(params, exp, train_set)]
    if is_tiny(backbone):
        deps.append(model_input(params, backbone))
    return deps


def eval_inputs(
    params: dict,
    exp: str,
    backbone: str,
    train_set: str,
    method: str,
    task: str,
    seed=None,
    unselected: bool = False,
) -> list[str]:
    """What an evaluation reads: the test data, the checkpoint at `seed` (a trained one's), the backbone."""
    deps = [task_dir(params, exp, task)]
    src = lc.checkpoint_method(params, method)
    if src is not None:
        where = layout(params).unselected_checkpoint_dir if unselected else layout(params).checkpoint_dir
        deps.append(where(exp, backbone, train_set, src, seed))
    if is_tiny(backbone):
        deps.append(model_input(params, backbone))
    return deps


def train_mem_mb(params: dict, exp: str, backbone: str, train_set: str, method: str, seed) -> int:
    """A training job's memory request (livr/ops/job_memory.py: the documented estimate)."""
    cfg = TrainConfig.resolve(params, exp, backbone, train_set, method, seed)
    pixels = None if is_tiny(backbone) else lc.backbone_settings(params, backbone)["max_pixels"]
    return job_mem_mb(backbone, pixels, job_images(cfg.tasks), cfg.batch_size, cfg.dataloader_workers)


def eval_mem_mb(params: dict, exp: str, backbone: str, train_set: str, method: str, task: str, seed=None) -> int:
    """An evaluation job's memory request: one batch of its test examples, encoded in the job."""
    cfg = EvalConfig.resolve(params, exp, backbone, train_set, method, task, seed=seed)
    pixels = None if is_tiny(backbone) else lc.backbone_settings(params, backbone)["max_pixels"]
    return job_mem_mb(backbone, pixels, job_images([task]), cfg.batch_size, 0)


def needs_preflight(params: dict, exp: str) -> bool:
    """Experiments with real backbones run `livr doctor` before their first GPU job."""
    return any(not is_tiny(b) for b in backbones(params, exp))


def doctor_stamp(params: dict, exp: str) -> str:
    return layout(params).result_file(exp, DOCTOR)


def preflight_inputs(params: dict, exp: str, backbone: str) -> list[str]:
    """The preflight stamp a train/evaluate job of a real backbone waits for (none for tiny ones)."""
    return [] if is_tiny(backbone) else [doctor_stamp(params, exp)]


def doctor_settings(params: dict, exp: str) -> str:
    """What the preflight checks depend on (its params rerun trigger)."""
    return settings_json(
        {
            "experiment": params["experiments"][exp],
            "backbones": params.get("backbones", {}),
            "sources": params.get("sources", {}),
        }
    )


def analysis_inputs(params: dict, exp: str, backbone: str, train_set: str, method: str, seed) -> list[str]:
    """What `livr analyze` reads: the run's data and backbone, and its checkpoint (the preflight gate is added by
    the front ends, as for train and evaluate)."""
    return [
        *train_inputs(params, exp, backbone, train_set, method),
        layout(params).checkpoint_dir(exp, backbone, train_set, method, seed),
    ]


def settings_json(obj: dict) -> str:
    """Canonical JSON of a job's resolved settings (the rerun trigger of both front ends)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def train_settings(params: dict, exp: str, backbone: str, train_set: str, method: str, seed) -> str:
    return TrainConfig.resolve(params, exp, backbone, train_set, method, seed).as_json()


def eval_settings(
    params: dict,
    exp: str,
    backbone: str,
    train_set: str,
    method: str,
    task: str,
    seed=None,
    unselected: bool = False,
) -> str:
    return EvalConfig.resolve(params, exp, backbone, train_set, method, task, unselected, seed).as_json()


def group_eval_settings(
    params: dict, exp: str, backbone: str, train_set: str, methods: tuple[str, ...], task: str, seed
) -> str:
    """A merged evaluation job's rerun trigger: the resolved settings of each of its cells."""
    return settings_json(
        {m: json.loads(eval_settings(params, exp, backbone, train_set, m, task, seed)) for m in methods}
    )


def analysis_settings(params: dict, exp: str, backbone: str, train_set: str, method: str, seed) -> str:
    """The analysed run's settings and params.yaml `analysis:` (the analyze job's rerun trigger)."""
    return settings_json(
        {
            "train": json.loads(train_settings(params, exp, backbone, train_set, method, seed)),
            "analysis": params["analysis"],
        }
    )


def job_threads(params: dict, exp: str) -> int:
    return resolve_training(params, exp).threads


def paper_backbone_args(params: dict, exp: str) -> list[str]:
    return [f"{b}={REGISTRY[b].paper_backbone}" for b in backbones(params, exp) if REGISTRY[b].paper_backbone]


def paper_data_settings(params: dict, task: str) -> dict:
    pd = params.get("paper_data", {}) or {}
    return {"seed": pd.get("seed"), "task": pd.get(task, {})}
