"""Where every file of the workflow lives: the one definition of the run and result layout.

Snakemake rules, DVC stages (through livr/workflow/jobs.py), the `livr` commands and the
results database all take their paths from here, so the two front ends cannot drift apart. The
roots come from params.yaml `paths:`; logs and job timings sit under fixed roots.

    models/<backbone>/                                         tiny backbones built offline
    data/raw/<source>/manifest.json                            downloads (manifest written last)
    data/built/paper/<task>/  data/built/synthetic/<exp>/<task>/   built datasets
    data/built/comparison/<name>/  data/built/synthetic/<exp>/comparison/<name>/   comparison training
                                                               sets and benchmarks, their offline stand-ins
    runs/<exp>/<backbone>/<train_set>/<method>/seed<S>/{final/,unselected/,metrics.jsonl,config.json,<stage>/}
    results/cells/<exp>/<backbone>/<train_set>/<method>[/seed<S>]/<task>{,.unselected}.jsonl (+ .json sidecar)
    results/analysis/<exp>/<backbone>/<train_set>/<method>/seed<S>.json   attention shares, t-SNE points
    results/<exp>/{livr.duckdb,<table>.csv,metrics/,val_curves/,report.html,doctor.json}
    logs/<exp>/<step>/<job>.log   timings/<exp>/<step>/<job>.tsv   (shared data steps: <exp> = shared)

<S> is the training seed (params.yaml `experiments.<exp>.seeds`): every trained run, and every cell
of a trained checkpoint (its test-time variants included), has a seed<S> level; the untrained base
model's cells (seed None) have none. A job's parts are those of its path (`job_parts`).

Every method returns a string and passes its arguments through unchanged, so Snakemake patterns
come from the same functions: `layout.run_dir("{exp}", "{backbone}", "{train_set}", "{method}", "{seed}")`
(the wildcard `seed` is the bare number).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

LOGS = "logs"
TIMINGS = "timings"  # job timings: the TSV Snakemake's `benchmark:` directive writes per job
SHARED = "shared"  # the <exp> part of log/timing paths of steps shared by every experiment
DATABASE = "livr.duckdb"
METRICS = "metrics"  # per-experiment DVC metrics: one JSON per cell and per paired difference
VAL_CURVES = "val_curves"  # per-experiment DVC plots: one CSV of validation accuracy per backbone and train set
REPORT = "report.html"
DOCTOR = "doctor.json"  # the preflight's stamp, written only when nothing an experiment needs is missing
SEED_DIR = re.compile(r"seed(\d+)")  # the seed level of a path: seed<S>
RESERVED_RESULT_DIRS = frozenset(
    {"cells", "figures", "analysis", "bench"}
)  # directories under results/ that are not experiments


def seed_dir(seed: int | str) -> str:
    return f"seed{seed}"


def seed_parts(seed: int | str | None) -> list[str]:
    """The seed level of a path: none for the untrained base model."""
    return [] if seed is None else [seed_dir(seed)]


def job_parts(backbone: str, train_set: str, method: str, seed: int | str | None, *task: str) -> list[str]:
    """The parts naming a training, evaluation or analysis job (its log, timing and DVC item)."""
    return [backbone, train_set, method, *seed_parts(seed), *task]


@dataclasses.dataclass(frozen=True)
class Layout:
    data: str = "data"
    models: str = "models"
    runs: str = "runs"
    results: str = "results"

    @classmethod
    def of(cls, params: dict) -> Layout:
        return cls(**params["paths"])

    # ---- inputs: models and data
    def model_dir(self, backbone: str) -> str:
        return f"{self.models}/{backbone}"

    def pretrained_rebuild(self, backbone: str) -> str:
        """Where a requested rebuild of a shipped pretrained tiny base goes (compare, then copy it
        over livr/model/pretrained/<backbone> to use it)."""
        return f"{self.models}/pretrained/{backbone}"

    def raw_root(self) -> str:
        return f"{self.data}/raw"

    def raw_manifest(self, source: str) -> str:
        return f"{self.data}/raw/{source}/manifest.json"

    def task_dir(self, suite: str, exp: str, task: str) -> str:
        """One build for every paper experiment; synthetic sizes differ per experiment."""
        return f"{self.data}/built/paper/{task}" if suite == "paper" else f"{self.data}/built/{suite}/{exp}/{task}"

    def comparison_dir(self, suite: str, exp: str, name: str) -> str:
        """A training set (train + val) or evaluation-only benchmark (test) of the comparison
        experiments (livr/data/benchmarks; their names are unique across both kinds). One build for
        every paper experiment; the synthetic suite's stand-ins are per experiment, as its tasks."""
        if suite == "paper":
            return f"{self.data}/built/comparison/{name}"
        return f"{self.data}/built/{suite}/{exp}/comparison/{name}"

    # ---- training runs
    def run_dir(self, exp: str, backbone: str, train_set: str, method: str, seed: int | str) -> str:
        return f"{self.runs}/{exp}/{backbone}/{train_set}/{method}/{seed_dir(seed)}"

    def checkpoint_dir(self, exp: str, backbone: str, train_set: str, method: str, seed: int | str) -> str:
        """The kept model, written last and atomically by `livr train`: the run's declared output."""
        return self.run_dir(exp, backbone, train_set, method, seed) + "/final"

    def unselected_checkpoint_dir(self, exp: str, backbone: str, train_set: str, method: str, seed: int | str) -> str:
        """The checkpoint the run's `select` rule did not keep (the last step's weights where it kept the
        best-val ones, and the reverse), written beside final/ so both can be evaluated."""
        return self.run_dir(exp, backbone, train_set, method, seed) + "/unselected"

    def train_metrics(self, exp: str, backbone: str, train_set: str, method: str, seed: int | str) -> str:
        """Written by `livr train` before final/, so present whenever final/ is."""
        return self.run_dir(exp, backbone, train_set, method, seed) + "/metrics.jsonl"

    # ---- evaluation cells and results (seed None: a cell of the untrained base model)
    def cell_dir(self, exp: str, backbone: str, train_set: str, method: str, seed: int | str | None) -> str:
        return "/".join([f"{self.results}/cells/{exp}", *job_parts(backbone, train_set, method, seed)])

    def cell_file(self, exp: str, backbone: str, train_set: str, method: str, seed, task: str) -> str:
        return f"{self.cell_dir(exp, backbone, train_set, method, seed)}/{task}.jsonl"

    def cell_summary(self, exp: str, backbone: str, train_set: str, method: str, seed, task: str) -> str:
        return f"{self.cell_dir(exp, backbone, train_set, method, seed)}/{task}.json"

    def unselected_cell_file(self, exp: str, backbone: str, train_set: str, method: str, seed, task: str) -> str:
        """The same cell evaluated with the run's unselected checkpoint."""
        return f"{self.cell_dir(exp, backbone, train_set, method, seed)}/{task}.unselected.jsonl"

    def unselected_cell_summary(self, exp: str, backbone: str, train_set: str, method: str, seed, task: str) -> str:
        return f"{self.cell_dir(exp, backbone, train_set, method, seed)}/{task}.unselected.json"

    def analysis_file(self, exp: str, backbone: str, train_set: str, method: str, seed: int | str) -> str:
        """`livr analyze` of one trained model with latents: attention shares and t-SNE points."""
        return f"{self.results}/analysis/{exp}/{backbone}/{train_set}/{method}/{seed_dir(seed)}.json"

    def experiment_dir(self, exp: str) -> str:
        return f"{self.results}/{exp}"

    def database(self, exp: str) -> str:
        return f"{self.results}/{exp}/{DATABASE}"

    def result_file(self, exp: str, name: str) -> str:
        return f"{self.results}/{exp}/{name}"

    def published(self, name: str) -> str:
        """The selected experiment's copy at the top of results/."""
        return f"{self.results}/{name}"

    # ---- logs and timings of a job: <step>/<job parts...>
    @staticmethod
    def log(exp: str, step: str, *job: str) -> str:
        return "/".join([LOGS, exp, step, *job]) + ".log"

    @staticmethod
    def timing(exp: str, step: str, *job: str) -> str:
        return "/".join([TIMINGS, exp, step, *job]) + ".tsv"


RUN_KEYS = ("experiment", "backbone", "train_set", "method", "seed")
TIMING_KEYS = ("experiment", "step", "backbone", "train_set", "method", "seed", "task")


def seed_of(part: str) -> int | None:
    """The seed a path part names (seed<S>), else None."""
    m = SEED_DIR.fullmatch(part)
    return int(m.group(1)) if m else None


def run_of_metrics(path: str | Path) -> dict[str, str | int | None]:
    """The run a `metrics.jsonl` belongs to, read from its path (<exp>/<backbone>/<train_set>/<method>/seed<S>/
    above the file, whatever the runs root is); every key None if the path is not laid out so."""
    parts = Path(path).parts[-6:-1]
    if len(parts) != 5 or seed_of(parts[4]) is None:
        return dict.fromkeys(RUN_KEYS)
    return {**dict(zip(RUN_KEYS, parts[:4])), "seed": seed_of(parts[4])}


def timing_job(path: str | Path) -> tuple[str, dict[str, str | int | None]]:
    """(job, identity) of a job-timing file: the job is its path below timings/ without .tsv;
    the identity names (experiment, step, backbone, train_set, method, seed, task) as far as it goes
    (seed: the seed<S> part after the method, None where there is none)."""
    path = Path(path)
    parts = path.parts
    if TIMINGS not in parts[:-1]:
        return path.stem, dict.fromkeys(TIMING_KEYS)
    i = len(parts) - 1 - parts[::-1].index(TIMINGS)
    below = Path(*parts[i + 1 :])
    names = [*below.parts[:-1], below.stem]
    seed = seed_of(names[5]) if len(names) > 5 else None
    if len(names) > 5:
        names = [*names[:5], seed, *names[6:]] if seed is not None else [*names[:5], None, *names[5:]]
    return str(below.with_suffix("")), {k: (names[j] if j < len(names) else None) for j, k in enumerate(TIMING_KEYS)}
