"""The Snakemake and DVC front ends: validation, the jobs each experiment expands to, rerun
triggers, and that both front ends cover the same cells. A stub `livr` (tests/workflow_helpers.py)
stands in for the real commands, so these run in seconds; tests/test_pipeline_ci.py runs the
real thing."""

from __future__ import annotations

import copy
import importlib.util
import re
import sys

import pytest
import yaml

from livr import config as lc
from workflow_helpers import (
    REPO, copy_repo, run, set_experiment, snakemake_dry_run, stub_livr, tool,
)

sys.path.insert(0, str(REPO / "workflow" / "scripts"))
import dvc_cells  # noqa: E402
import livr_jobs  # noqa: E402

PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
EXPERIMENTS = list(PARAMS["experiments"])


@pytest.fixture
def repo(tmp_path):
    return copy_repo(tmp_path / "repo")


# ---- validation -------------------------------------------------------------------------

def _with(mutate):
    params = copy.deepcopy(PARAMS)
    mutate(params)
    return params


BAD = {
    "unknown experiment": (lambda p: p.update(experiment="nope"), ["experiment", "'nope'", "ci", "table1"]),
    "unknown backbone": (lambda p: p["experiments"]["ci"].update(backbones=["gpt-9"]),
                         ["experiments.ci.backbones", "'gpt-9'", "tiny-qwen2.5-vl", "qwen3-vl-4b"]),
    "unknown task": (lambda p: p["experiments"]["ci"].update(tasks=["sudoku"]),
                     ["experiments.ci.tasks", "'sudoku'", "counting", "visual_similarity"]),
    "unknown method": (lambda p: p["experiments"]["ci"].update(methods=["magic"]),
                       ["experiments.ci.methods", "'magic'", "zero_shot", "livr"]),
    "negative lr": (lambda p: p["training"].update(lr=-0.1), ["training.lr", "-0.1"]),
    "zero epochs": (lambda p: p["training"].update(sft_epochs=0), ["training.sft_epochs"]),
    "K < 1": (lambda p: p["methods"]["livr"].update(num_latents=0), ["methods.livr", "num_latents"]),
    "stage split adds up to nothing": (lambda p: p["experiments"]["ci"]["training"].update(livr_stage_epochs=[0, 0]),
                                       ["experiments.ci", "livr_stage_epochs", "[0, 0]"]),
    "stage split with three stages": (lambda p: p["training"].update(livr_stage_epochs=[1, 2, 3]),
                                      ["training.livr_stage_epochs", "too long"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_params_name_key_and_valid_values(case):
    mutate, expected = BAD[case]
    with pytest.raises(lc.ConfigError) as err:
        lc.validate_params(_with(mutate))
    for text in expected:
        assert text in str(err.value), f"{case}: {text!r} not in {err.value}"


@pytest.mark.parametrize("case", ["unknown backbone", "negative lr", "K < 1", "stage split adds up to nothing"])
def test_snakemake_dry_run_fails_cleanly_on_invalid_params(repo, case):
    mutate, expected = BAD[case]
    (repo / "params.yaml").write_text(yaml.safe_dump(_with(mutate), sort_keys=False))
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=ci"], repo, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Traceback" not in out
    for text in expected:
        assert text in out, f"{case}: {text!r} not in {out}"


def test_snakemake_rejects_unknown_experiment_on_command_line(repo):
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=nope"], repo, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out
    assert "unknown name 'nope'; valid experiments: " in out and "ci" in out


def test_snakemake_rejects_config_overrides_the_jobs_would_not_see(repo):
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=ci", "synthetic={seed: 5}"],
               repo, check=False)
    assert proc.returncode != 0
    assert "--config may only set 'experiment'" in proc.stdout + proc.stderr


# ---- the jobs of every experiment -------------------------------------------------------

def expected_jobs(params, exp):
    cells = {livr_jobs.cell_file(params, exp, c.backbone, c.train_set, c.method, c.task) for c in lc.cells(params, exp)}
    runs = {livr_jobs.checkpoint_dir(params, exp, b, ts, m)
            for b in params["experiments"][exp]["backbones"]
            for ts in lc.train_sets(params, exp) for m in lc.trained_methods(params, exp)}
    return cells, runs


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_snakemake_dry_run_lists_every_cell(repo, exp):
    jobs = snakemake_dry_run(repo, exp)
    cells, runs = expected_jobs(PARAMS, exp)
    assert {o[0] for r, o in jobs if r == "evaluate"} == cells
    assert {o[0] for r, o in jobs if r == "train"} == runs
    assert len([1 for r, _ in jobs if r == "evaluate"]) == len(cells)
    assert ("publish" in {r for r, _ in jobs}) and any("results/table1.csv" in o for _, o in jobs)
    suite = PARAMS["experiments"][exp]["suite"]
    data_rule = "synth" if suite == "synthetic" else "build_task"
    assert {o[0] for r, o in jobs if r == data_rule} == {livr_jobs.task_dir(PARAMS, exp, t) for t in lc.tasks_of(PARAMS, exp)}
    if suite == "paper":
        assert {o[0] for r, o in jobs if r == "download"} == {
            livr_jobs.raw_manifest(PARAMS, s) for s in livr_jobs.sources(PARAMS, exp)}
    # every path of an experiment's cells carries its name
    assert all(f"/{exp}/" in o[0] for r, o in jobs if r in ("train", "evaluate", "collect", "tables"))


def test_paper_counts():
    """Table 1: 3 backbones x 9 tasks x 3 methods; Table 2: 6 tasks of one mixture x 3 methods."""
    assert len(lc.cells(PARAMS, "table1")) == 81
    assert len(lc.cells(PARAMS, "table2")) == 18
    assert len(livr_jobs.train_jobs(PARAMS, "table2")) == 2


def test_gpu_resource_only_for_real_backbones(repo):
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=table1"], repo)
    blocks = re.findall(r"^rule (train|evaluate):\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
    assert blocks and all("gpu=1" in body for _, body in blocks)
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=ci"], repo)
    blocks = re.findall(r"^rule (train|evaluate):\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
    assert blocks and not any("gpu=1" in body for _, body in blocks)


def test_task_sources_fallback_matches_builders():
    """The fallback mapping is only used while a builder module is missing; it must agree with
    every builder that exists."""
    for task, fallback in livr_jobs.FALLBACK_TASK_SOURCES.items():
        found = livr_jobs.builder_sources(task)
        if found is not None:
            assert found == fallback, f"livr.data.tasks.{task}.SOURCES = {found}, fallback says {fallback}"
    from livr.data.sources import SOURCES
    for task in livr_jobs.FALLBACK_TASK_SOURCES:
        assert set(livr_jobs.task_sources(task)) <= set(SOURCES), task


def test_slurm_profile_dry_run(repo):
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[slurm]')")
    proc = run([tool("snakemake"), "-n", "--cores", "16", "--workflow-profile", "workflow/profiles/slurm",
                "results/table1.csv", "--config", "experiment=table1"], repo)
    train = re.search(r"^rule train:\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S).group(1)
    assert "gpu=1" in train and "slurm_partition=" in train and "cpus_per_task=8" in train


# ---- rerun triggers (stub livr) ---------------------------------------------------------

def test_editing_one_method_reruns_only_its_jobs(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    stub = stub_livr(tmp_path / "bin")
    run([tool("snakemake"), "--cores", "2", "results/table1.csv", "--config", "experiment=ci"], repo, path_first=stub)
    assert (repo / "results" / "table1.csv").is_file()
    assert snakemake_dry_run(repo, "ci", path_first=stub) == []
    params = (repo / "params.yaml").read_text()
    assert "  sft: {train: sft}\n" in params
    (repo / "params.yaml").write_text(params.replace("  sft: {train: sft}\n", "  sft: {train: sft, lr: 7.7e-4}\n"))
    jobs = snakemake_dry_run(repo, "ci", path_first=stub)
    trained = {o[0] for r, o in jobs if r == "train"}
    evaluated = {o[0] for r, o in jobs if r == "evaluate"}
    assert trained == {f"runs/ci/tiny-qwen2.5-vl/{t}/sft/final" for t in ("relative_reflectance", "counting")}
    assert evaluated == {f"results/cells/ci/tiny-qwen2.5-vl/{t}/sft/{t}.jsonl" for t in ("relative_reflectance", "counting")}
    assert {r for r, _ in jobs} == {"train", "evaluate", "collect", "tables", "publish"}
    # an edit that changes no cell's resolved settings reruns nothing
    (repo / "params.yaml").write_text(params.replace("# The one config", "# The only config"))
    assert snakemake_dry_run(repo, "ci", path_first=stub) == []


# ---- DVC ----------------------------------------------------------------------------------

def test_committed_dvc_cells_in_sync_with_params():
    assert dvc_cells.main(["--params", str(REPO / "params.yaml"), "--out", str(REPO / dvc_cells.DEFAULT_OUT),
                           "--check"]) == 0, "run: python workflow/scripts/dvc_cells.py"


def test_dvc_templating_cannot_index_by_experiment(tmp_path):
    """Why workflow/dvc/cells.yaml exists: DVC cannot resolve experiments[${experiment}]."""
    copy_repo(tmp_path, git=True)
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  s:\n    foreach: ${experiments[${experiment}].tasks}\n    do:\n      cmd: echo ${item}\n")
    proc = run([tool("dvc"), "stage", "list"], tmp_path, check=False)
    assert proc.returncode != 0


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_dvc_and_snakemake_cover_the_same_jobs(repo, exp):
    set_experiment(repo / "params.yaml", exp)
    run([sys.executable, "workflow/scripts/dvc_cells.py"], repo)
    run(["git", "init", "-q"], repo)  # dvc wants the git repository it was initialised in
    from dvc.repo import Repo

    stages: dict[str, set] = {}
    with Repo(str(repo)) as dvc_repo:   # dvc.yaml resolved by DVC itself
        for stage in dvc_repo.index.stages:
            stages.setdefault(stage.name.split("@")[0], set()).update(o.def_path for o in stage.outs)
    jobs = snakemake_dry_run(repo, exp)
    for rule in ("train", "evaluate", "build_tiny", "synth", "download", "build_task", "collect", "tables", "publish"):
        snake = {o for r, outs in jobs if r == rule for o in outs}
        assert stages.get(rule, set()) == snake, rule


def test_dvc_stage_fails_clearly_when_cells_file_is_for_another_experiment(tmp_path):
    repo = copy_repo(tmp_path / "repo", git=True)
    stub = stub_livr(tmp_path / "bin")
    set_experiment(repo / "params.yaml", "ci")   # cells.yaml still lists the demo experiment
    proc = run([tool("dvc"), "repro", "synth@counting"], repo, path_first=stub, check=False)  # a stage of both
    assert proc.returncode != 0
    assert "Regenerate it first: python workflow/scripts/dvc_cells.py --experiment ci" in proc.stdout + proc.stderr


def test_dvc_repro_then_up_to_date(tmp_path):
    repo = copy_repo(tmp_path / "repo", git=True)
    stub = stub_livr(tmp_path / "bin")
    set_experiment(repo / "params.yaml", "ci")
    run([sys.executable, "workflow/scripts/dvc_cells.py"], repo)
    run([tool("dvc"), "repro"], repo, path_first=stub)
    assert (repo / "results" / "table1.csv").is_file()
    status = run([tool("dvc"), "status"], repo, path_first=stub)
    assert "up to date" in status.stdout, status.stdout
    # a method's parameter reruns that method's stages only
    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("  sft: {train: sft}\n", "  sft: {train: sft, lr: 7.7e-4}\n"))
    status = run([tool("dvc"), "status", "--json"], repo, path_first=stub)
    changed = set(yaml.safe_load(status.stdout))
    assert {s.split("@")[0] for s in changed} == {"train", "evaluate"}
    assert all("__sft" in s for s in changed), changed
