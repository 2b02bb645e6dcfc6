# Shared by every rules file: the selected experiment, its cells (from livr.config via
# workflow/scripts/livr_jobs.py, which the DVC stage generator uses too), wildcard constraints
# built from the names params.yaml and the backbone registry allow, and input functions.
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))
import livr_jobs as jobs  # noqa: E402
from livr.data.schema import TASKS  # noqa: E402
from livr.data.sources import SOURCES as ALL_SOURCES  # noqa: E402
from livr.model.backbones import REGISTRY  # noqa: E402

EXP = config["experiment"]
DATA = config["paths"]["data"]
MODELS = config["paths"]["models"]
RUNS = config["paths"]["runs"]
RESULTS = config["paths"]["results"]

_reserved = jobs.RESERVED_RESULT_DIRS & set(config["experiments"])
if _reserved:
    sys.exit(f"error: {PARAMS_FILE}: experiments: {', '.join(sorted(_reserved))} is reserved "
             f"(a directory under {RESULTS}/); pick another experiment name")


def _one_of(names):
    """A wildcard regex that matches exactly one of `names`."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


wildcard_constraints:
    exp=_one_of(config["experiments"]),
    backbone=_one_of(REGISTRY),
    train_set=_one_of(list(TASKS) + list(config.get("mixtures", {}))),
    method=_one_of(config["methods"]),
    task=_one_of(TASKS),
    source=_one_of(ALL_SOURCES),
    suite="synthetic|paper",


def threads_of(wildcards):
    return jobs.job_threads(config, wildcards.exp)


def gpus_of(wildcards):
    """One GPU per train/evaluate job of a real backbone; tiny backbones run on CPU."""
    return 0 if jobs.is_tiny(wildcards.backbone) else 1


def train_inputs(wildcards):
    return jobs.train_inputs(config, wildcards.exp, wildcards.backbone, wildcards.train_set, wildcards.method)


def eval_inputs(wildcards):
    return jobs.eval_inputs(config, wildcards.exp, wildcards.backbone, wildcards.train_set,
                            wildcards.method, wildcards.task)


def cell_files(exp):
    return [jobs.cell_file(config, exp, c.backbone, c.train_set, c.method, c.task)
            for c in jobs.eval_jobs(config, exp)]


def train_benchmarks(exp):
    return [f"benchmarks/{exp}/train/{b}/{ts}/{m}.tsv" for b, ts, m in jobs.train_jobs(config, exp)]


def eval_benchmarks(exp):
    return [f"benchmarks/{exp}/evaluate/{c.backbone}/{c.train_set}/{c.method}/{c.task}.tsv"
            for c in jobs.eval_jobs(config, exp)]


def train_metrics_files(exp):
    return [jobs.train_metrics(config, exp, b, ts, m) for b, ts, m in jobs.train_jobs(config, exp)]


def checkpoints_of(exp):
    return [jobs.checkpoint_dir(config, exp, b, ts, m) for b, ts, m in jobs.train_jobs(config, exp)]
