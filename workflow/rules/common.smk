# Shared by every rules file: the selected experiment, its jobs (livr/workflow/jobs.py, which the
# DVC stage generator uses too), the path layout (livr/layout.py), wildcard constraints built
# from the names params.yaml and the backbone registry allow, and the input functions.
import re
import sys
from pathlib import Path

from livr import config as livr_config
from livr.data.benchmarks import BENCHMARKS, TRAINING_SETS
from livr.data.schema import TASKS
from livr.data.sources import SOURCES as ALL_SOURCES
from livr.layout import RESERVED_RESULT_DIRS, job_parts
from livr.model.backbones import REGISTRY
from livr.ops import warm_jobs
from livr.workflow import jobs

EXP = config["experiment"]
L = jobs.layout(config)  # every path of the workflow: L.run_dir("{exp}", ...) is a rule's pattern

_reserved = RESERVED_RESULT_DIRS & set(config["experiments"])
if _reserved:
    sys.exit(
        f"error: {PARAMS_FILE}: experiments: {', '.join(sorted(_reserved))} is reserved "
        f"(a directory under {L.results}/); pick another experiment name"
    )


def _one_of(names):
    """A wildcard regex that matches exactly one of `names`."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


wildcard_constraints:
    exp=_one_of(config["experiments"]),
    backbone=_one_of(REGISTRY),
    train_set=_one_of(list(TASKS) + list(config.get("mixtures", {})) + list(TRAINING_SETS)),
    method=_one_of(config["methods"]),
    task=_one_of(list(TASKS) + list(BENCHMARKS)),
    name=_one_of(list(TRAINING_SETS) + list(BENCHMARKS)),
    source=_one_of(ALL_SOURCES),
    seed=r"\d+",
    suite="synthetic|paper",


def per_job(plan, **fixed):
    """An input, params or resources function: `plan(config, **the job's wildcards, **fixed)`, for the
    planner functions of livr/workflow/jobs.py, whose parameters are named as the rule's wildcards."""
    return lambda wildcards: plan(config, **dict(wildcards.items()), **fixed)


def nine_task_names():
    """The tasks with synthetic generators and paper builders (not the comparison benchmarks)."""
    return _one_of(TASKS)


def tiny_backbone_names():
    return _one_of([b for b, spec in REGISTRY.items() if spec.tiny and not spec.pretrained])


def pretrained_backbone_names():
    return _one_of([b for b, spec in REGISTRY.items() if spec.pretrained])


def rebuild_command(backbone, out):
    from livr.model.pretrained import rebuild_command as command

    return command(backbone, out)


def threads_of(wildcards):
    return jobs.job_threads(config, wildcards.exp)


def gpus_of(wildcards):
    """One GPU per train/evaluate job of a real backbone; tiny backbones run on CPU."""
    return 0 if jobs.is_tiny(wildcards.backbone) else 1


def doctor_gate(wildcards):
    """The preflight stamp for a job of a real backbone (ancient: rerunning the preflight reruns no
    GPU job); nothing for tiny (CPU) backbones."""
    return [ancient(s) for s in jobs.preflight_inputs(config, wildcards.exp, wildcards.backbone)]


def single_eval_methods(trained):
    """The methods whose cells the `evaluate` jobs write one by one (a merged group's go to `evaluate_<method>`):
    those of a trained checkpoint (`evaluate`, per seed) or of the base model (`evaluate_base`)."""
    merged = {m for g in jobs.merged_eval_groups(config, EXP) for m in g}
    return [
        m
        for m in config["methods"]
        if m not in merged and (livr_config.checkpoint_method(config, m) is not None) == trained
    ]


def group_cell_files(methods, path_of):
    """The files of a merged evaluation job: one per method, in the job's order."""
    return [path_of("{exp}", "{backbone}", "{train_set}", m, "{seed}", "{task}") for m in methods]


def group_out_args(methods):
    """The first predictions file, then `--variant METHOD=FILE` for each further method."""
    return lambda w, output: " ".join(
        [output.predictions[0]] + [f"--variant {m}={p}" for m, p in zip(methods[1:], output.predictions[1:])]
    )


def run_dir_of(wildcards):
    return L.run_dir(wildcards.exp, wildcards.backbone, wildcards.train_set, wildcards.method, wildcards.seed)


def synth_settings(wildcards):
    return livr_config.synthetic_config(config, wildcards.exp)


def source_settings(wildcards):
    return jobs.settings_json((config.get("sources") or {}).get(wildcards.source, {}))


def task_raw_manifests(wildcards):
    return [L.raw_manifest(s) for s in jobs.task_sources(wildcards.task)]


def build_settings(wildcards):
    return jobs.settings_json(jobs.paper_data_settings(config, wildcards.task))


def comparison_raw_manifests(wildcards):
    return [L.raw_manifest(s) for s in jobs.task_sources(wildcards.name)]


def comparison_build_settings(wildcards):
    return jobs.settings_json(jobs.paper_data_settings(config, wildcards.name))


def cell_files(exp):
    return [L.cell_file(exp, c.backbone, c.train_set, c.method, c.seed, c.task) for c in jobs.eval_jobs(config, exp)]


def unselected_cell_files(exp):
    return [
        L.unselected_cell_file(exp, c.backbone, c.train_set, c.method, c.seed, c.task)
        for c in jobs.unselected_eval_jobs(config, exp)
    ]


def analysis_files(exp):
    return [L.analysis_file(exp, *job) for job in jobs.analysis_jobs(config, exp)]


def train_timings(exp):
    return [L.timing(exp, "train", *job_parts(*job)) for job in jobs.train_jobs(config, exp)]


def eval_timings(exp):
    return [
        L.timing(exp, "evaluate", *job_parts(j.backbone, j.train_set, j.method, j.seed, j.task))
        for j in jobs.evaluate_jobs(config, exp)
    ] + [
        L.timing(exp, "evaluate_unselected", *job_parts(c.backbone, c.train_set, c.method, c.seed, c.task))
        for c in jobs.unselected_eval_jobs(config, exp)
    ]


def analysis_timings(exp):
    return [L.timing(exp, "analyze", *job_parts(*job)) for job in jobs.analysis_jobs(config, exp)]


def train_metrics_files(exp):
    return [L.train_metrics(exp, *job) for job in jobs.train_jobs(config, exp)]


def checkpoints_of(exp):
    return [L.checkpoint_dir(exp, *job) for job in jobs.train_jobs(config, exp)]


def livr_checkpoints(exp):
    """The trained LIVR checkpoints the report draws latent attention maps from (every seed's)."""
    return [L.checkpoint_dir(exp, *job) for job in jobs.train_jobs(config, exp) if job[2] == "livr"]


def report_data(exp):
    return [jobs.task_dir(config, exp, t) for t in livr_config.datasets_of(config, exp)]


def report_models(exp):
    return [L.model_dir(b) for b in jobs.tiny_backbones(config, exp)]


def report_gpus(exp):
    return int(any(not jobs.is_tiny(b) for b in jobs.backbones(config, exp)))
