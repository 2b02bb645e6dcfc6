"""The Snakemake and DVC front ends: validation, the jobs each experiment expands to, rerun
triggers, and that both front ends cover the same cells. A stub `livr` (tests/workflow_helpers.py)
stands in for the real commands, so these run in seconds; tests/workflow/test_pipeline_ci.py runs the
real thing."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import importlib.util
import re
import sys

import pytest
import yaml
from workflow_helpers import REPO, copy_repo, dry_run_jobs, run, set_experiment, snakemake_dry_run, stub_livr, tool

from livr import config as lc
from livr.data.schema import TASKS
from livr.settings import EvalConfig, TrainConfig
from livr.workflow import dvc_cells
from livr.workflow import jobs as livr_jobs

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
    "unknown backbone": (
        lambda p: p["experiments"]["ci"].update(backbones=["gpt-9"]),
        ["experiments.ci.backbones", "'gpt-9'", "tiny-qwen2.5-vl", "qwen3-vl-4b"],
    ),
    "unknown task": (
        lambda p: p["experiments"]["ci"].update(tasks=["sudoku"]),
        ["experiments.ci.tasks", "'sudoku'", "counting", "visual_similarity"],
    ),
    "unknown method": (
        lambda p: p["experiments"]["ci"].update(methods=["magic"]),
        ["experiments.ci.methods", "'magic'", "zero_shot", "livr"],
    ),
    "unknown training set": (
        lambda p: p["experiments"]["table3"].update(train_sets=["sat64k"]),
        ["experiments.table3.train_sets", "'sat64k'", "sat32k", "viscot", "mirage_vsp"],
    ),
    "unknown benchmark": (
        lambda p: p["experiments"]["table3"].update(eval_sets=["blink7"]),
        ["experiments.table3.eval_sets", "'blink7'", "blink3", "mmvp", "mirage_vsp_test"],
    ),
    "training set without benchmarks": (
        lambda p: p["experiments"]["table3"].pop("eval_sets"),
        ["experiments.table3", "'train_sets' and 'eval_sets' go together"],
    ),
    "negative lr": (lambda p: p["training"].update(lr=-0.1), ["training.lr", "-0.1"]),
    "zero epochs": (lambda p: p["training"].update(sft_epochs=0), ["training.sft_epochs"]),
    "K < 1": (lambda p: p["methods"]["livr"].update(num_latents=0), ["methods.livr", "num_latents"]),
    "stage split adds up to nothing": (
        lambda p: p["experiments"]["ci"]["training"].update(livr_stage_epochs=[0, 0]),
        ["experiments.ci", "livr_stage_epochs", "[0, 0]"],
    ),
    "duplicate seed": (
        lambda p: p["experiments"]["ci"].update(seeds=[42, 43, 42]),
        ["experiments.ci.seeds", "seed(s) 42 listed twice"],
    ),
    "non-integer seed": (
        lambda p: p["experiments"]["ci"].update(seeds=[42, "7"]),
        ["experiments.ci.seeds", "'7' is not a seed", "distinct integers"],
    ),
    "fractional seed": (lambda p: p["experiments"]["ci"].update(seeds=[1.5]), ["experiments.ci.seeds", "1.5"]),
    "no seed": (lambda p: p["experiments"]["ci"].update(seeds=[]), ["experiments.ci.seeds"]),
    "training seed": (
        lambda p: p["training"].update(seed=42),
        ["training.seed", "experiments.<name>.seeds"],
    ),
    "stage split with three stages": (
        lambda p: p["training"].update(livr_stage_epochs=[1, 2, 3]),
        ["training.livr_stage_epochs", "too long"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_params_name_key_and_valid_values(case):
    mutate, expected = BAD[case]
    with pytest.raises(lc.ConfigError) as err:
        lc.validate_params(_with(mutate))
    for text in expected:
        assert text in str(err.value), f"{case}: {text!r} not in {err.value}"


@pytest.mark.parametrize(
    "case", ["unknown backbone", "negative lr", "K < 1", "stage split adds up to nothing", "duplicate seed"]
)
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
    proc = run(
        [tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=ci", "synthetic={seed: 5}"],
        repo,
        check=False,
    )
    assert proc.returncode != 0
    assert "--config may only set 'experiment'" in proc.stdout + proc.stderr


# ---- the jobs of every experiment -------------------------------------------------------


def expected_jobs(params, exp):
    """Every cell, run, unselected cell and analysis file of `exp`: a trained method (and a test-time variant
    of one, `checkpoint_of`) at each of the experiment's seeds (default [42]), the base model once."""
    L = livr_jobs.layout(params)
    seeds = params["experiments"][exp].get("seeds", [42])

    def seeds_of(method):
        spec = params["methods"][method]
        return seeds if spec["train"] != "none" or spec.get("checkpoint_of") else [None]

    names = {(c.backbone, c.train_set, c.method, c.task) for c in lc.cells(params, exp)}  # each seed's the same
    cells = {L.cell_file(exp, b, ts, m, s, t) for b, ts, m, t in names for s in seeds_of(m)}
    trained = [
        (b, ts, m, s)
        for b in params["experiments"][exp]["backbones"]
        for ts in lc.train_sets(params, exp)
        for m in lc.trained_methods(params, exp)
        if lc.trains_on(params, exp, m, ts)  # LVR / Mirage: only where their targets' field is
        for s in seeds
    ]
    runs = {L.checkpoint_dir(exp, *t) for t in trained}
    # every cell evaluated from a checkpoint, again with the unselected one; every model with latents analysed
    # (unless the experiment opts out of either, as the demo does for time)
    settings = params["experiments"][exp]
    unselected = {
        L.unselected_cell_file(exp, b, ts, m, s, t)
        for b, ts, m, t in names
        for s in seeds_of(m)
        if lc.checkpoint_method(params, m) and settings.get("evaluate_unselected", True)
    }
    analyses = {
        L.analysis_file(exp, b, ts, m, s)
        for b, ts, m, s in trained
        if settings.get("analyze", True)
        and params["methods"][m]["train"] == "livr"
        and set(lc.train_sets(params, exp)[ts]) <= set(TASKS)
        and {
            **params["training"],
            **params["experiments"][exp].get("training", {}),
            **lc.training_overrides(params, m),
        }["use_latents"]
    }
    return cells, runs, unselected, analyses


def evaluate_rules(exp):
    """The rules of the evaluation jobs: `evaluate` (a trained checkpoint, per seed), `evaluate_base` (the
    untrained model, once), and `evaluate_<method>` for a trained method whose test-time variants are decoded
    in its job."""
    return {"evaluate", "evaluate_base"} | {f"evaluate_{g[0]}" for g in livr_jobs.merged_eval_groups(PARAMS, exp)}


def test_evaluation_jobs_group_a_checkpoint_s_variants():
    """The demo's LIVR model: its own cell and its two Sec. 4.3.1 variants in one job per test task."""
    assert livr_jobs.eval_groups(PARAMS, "demo") == [
        ("zero_shot",),
        ("sft",),
        ("livr", "livr_eval_no_latents", "livr_eval_stage1_mask"),
    ]
    assert livr_jobs.merged_eval_groups(PARAMS, "ci") == []
    assert [g for g in livr_jobs.merged_eval_groups(PARAMS, "ablations")] == [
        ("livr", "livr_eval_no_latents", "livr_eval_stage1_mask", "livr_eval_stage1_mask_no_latents"),
        (
            "livr_split_0_10",
            "livr_split_0_10_eval_no_latents",
            "livr_split_0_10_eval_stage1_mask",
            "livr_split_0_10_eval_stage1_mask_no_latents",
        ),
    ]
    for exp in EXPERIMENTS:
        cells = [c for j in livr_jobs.evaluate_jobs(PARAMS, exp) for c in j.cells()]
        assert len(cells) == len(set(cells)) and set(cells) == set(lc.cells(PARAMS, exp)), exp
        for j in livr_jobs.evaluate_jobs(PARAMS, exp):
            assert len({lc.checkpoint_method(PARAMS, m) for m in j.methods}) == 1, j


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_snakemake_dry_run_lists_every_cell(repo, exp):
    jobs = snakemake_dry_run(repo, exp)
    cells, runs, unselected, analyses = expected_jobs(PARAMS, exp)
    # one job per model and test task: a trained model's test-time variants (`checkpoint_of`) are decoded in its job
    evaluate = [o for r, o in jobs if r in evaluate_rules(exp)]
    predictions = [p for o in evaluate for p in o if p.endswith(".jsonl")]
    assert sorted(predictions) == sorted(cells), "every cell's predictions written by exactly one job"
    variants = {m for g in livr_jobs.merged_eval_groups(PARAMS, exp) for m in g[1:]}
    assert len(lc.cells(PARAMS, exp)) == len(cells)
    assert (
        len(evaluate)
        == len(livr_jobs.evaluate_jobs(PARAMS, exp))
        == len(cells) - sum(c.method in variants for c in lc.cells(PARAMS, exp))
    )
    assert {o[0] for r, o in jobs if r == "train"} == runs
    assert {o[1] for r, o in jobs if r == "train"} == {r.replace("/final", "/unselected") for r in runs}
    assert {o[0] for r, o in jobs if r == "evaluate_unselected"} == unselected
    assert {o[0] for r, o in jobs if r == "analyze"} == analyses
    assert ("publish" in {r for r, _ in jobs}) and any("results/table1.csv" in o for _, o in jobs)
    suite = PARAMS["experiments"][exp]["suite"]
    for kind, rule in (
        ("task", "synth" if suite == "synthetic" else "build_task"),
        ("comparison", "synth_comparison" if suite == "synthetic" else "build_comparison"),
    ):
        assert {o[0] for r, o in jobs if r == rule} == {
            livr_jobs.task_dir(PARAMS, exp, t) for t in livr_jobs.datasets(PARAMS, exp, kind)
        }, rule
    if suite == "paper":
        assert {o[0] for r, o in jobs if r == "download"} == {
            livr_jobs.layout(PARAMS).raw_manifest(s) for s in livr_jobs.sources(PARAMS, exp)
        }
    # every path of an experiment's cells carries its name
    assert all(
        f"/{exp}/" in o[0]
        for r, o in jobs
        if r in ("train", "evaluate", "evaluate_unselected", "analyze", "collect", "tables")
    )


def _at_seeds(exp, seeds):
    params = copy.deepcopy(PARAMS)
    params["experiments"][exp]["seeds"] = seeds
    lc.validate_params(params)
    return params


def test_trained_cells_expand_per_seed_untrained_ones_run_once():
    """demo_seeds: every trained run and every cell of a trained checkpoint (its test-time variants
    too, at their model's seed) once per seed; zero-shot once; the seed in every path and setting."""
    params, seeds = _at_seeds("demo", [7, 8, 9]), [7, 8, 9]
    one = livr_jobs.train_jobs(PARAMS, "demo")
    assert all(s == 42 for *_, s in one), "the default seed is the paper's"
    runs = livr_jobs.train_jobs(params, "demo")
    assert runs == [(b, ts, m, s) for b, ts, m, _ in one for s in seeds]
    cells = lc.cells(params, "demo")
    base = lc.cells(PARAMS, "demo")
    assert [c for c in cells if c.method == "zero_shot"] == [c for c in base if c.method == "zero_shot"]
    assert all(c.seed is None for c in cells if c.method == "zero_shot")
    trained = [c for c in base if c.method != "zero_shot"]
    seeded = [c for c in cells if c.method != "zero_shot"]
    assert len(seeded) == 3 * len(trained)
    assert set(seeded) == {dataclasses.replace(c, seed=s) for c in trained for s in seeds}
    L = livr_jobs.layout(params)
    for job in livr_jobs.evaluate_jobs(params, "demo"):
        if job.method == "livr":  # the variants decode the LIVR checkpoint of the job's own seed
            assert job.methods == ("livr", "livr_eval_no_latents", "livr_eval_stage1_mask") and job.seed in seeds
            for c in job.cells():
                ev = EvalConfig.resolve(params, "demo", c.backbone, c.train_set, c.method, c.task, seed=c.seed)
                assert ev.seed == job.seed
                assert ev.checkpoint == L.checkpoint_dir("demo", c.backbone, c.train_set, "livr", job.seed)
                assert ev.checkpoint.endswith(f"/livr/seed{job.seed}/final")
        else:
            assert job.seed is None if job.method == "zero_shot" else job.seed in seeds
    cfgs = {s: TrainConfig.resolve(params, "demo", *one[0][:3], s) for s in seeds}
    assert [cfgs[s].seed for s in seeds] == seeds
    assert len({livr_jobs.train_settings(params, "demo", *one[0][:3], s) for s in seeds}) == 3, "a rerun trigger each"
    # a job's seed must be one of the experiment's; with several, it must be given
    with pytest.raises(lc.ConfigError, match=r"--seed 42 is not in experiment 'demo'; valid seeds .*: 7, 8, 9"):
        TrainConfig.resolve(params, "demo", *one[0][:3], 42)
    with pytest.raises(lc.ConfigError, match="trains seeds 7, 8, 9; give --seed"):
        TrainConfig.resolve(params, "demo", *one[0][:3])
    with pytest.raises(lc.ConfigError, match="untrained base model, which has no seed"):
        EvalConfig.resolve(params, "demo", one[0][0], "counting", "zero_shot", "counting", seed=7)


def test_demo_seeds_is_the_demo_at_three_seeds_and_its_5_epoch_schedule():
    demo, seeds = PARAMS["experiments"]["demo"], PARAMS["experiments"]["demo_seeds"]
    assert "seeds" not in demo and lc.seeds(PARAMS, "demo") == [42]
    assert seeds["seeds"] == [42, 43, 44]
    assert {k: v for k, v in seeds.items() if k not in ("seeds", "training")} == {
        k: v for k, v in demo.items() if k != "training"
    }
    # the schedule the README's seed study ran at; everything else in training is the demo's
    schedule = {"sft_epochs": 5, "livr_stage_epochs": [2, 3]}
    assert seeds["training"] == {**demo["training"], **schedule} and demo["training"]["sft_epochs"] == 4
    assert lc.seeds(PARAMS, "ci") == [42, 43]


def test_dvc_job_lists_carry_the_seed():
    params = _at_seeds("ci", [5, 6])
    cells = dvc_cells.dvc_cells(params, "ci")
    L = livr_jobs.layout(params)
    train = cells["train"]["tiny-qwen2.5-vl__counting__livr__seed6"]
    assert (train["seed"], train["run_dir"], train["out"]) == (
        6,
        L.run_dir("ci", "tiny-qwen2.5-vl", "counting", "livr", 6),
        "runs/ci/tiny-qwen2.5-vl/counting/livr/seed6/final",
    )
    assert len(cells["train"]) == 3 * 2 * 2 and len(cells["analyze"]) == 2 * 2
    ev = cells["evaluate"]["tiny-qwen2.5-vl__sat32k__sft__seed5__mmvp"]
    assert ev["cell_args"] == "--method sft --seed 5 --task mmvp"
    assert ev["out"] == "results/cells/ci/tiny-qwen2.5-vl/sat32k/sft/seed5/mmvp.jsonl"
    assert "runs/ci/tiny-qwen2.5-vl/sat32k/sft/seed5/final" in ev.values()
    zs = cells["evaluate"]["tiny-qwen2.5-vl__sat32k__zero_shot__mmvp"]
    assert zs["seed"] is None and zs["cell_args"] == "--method zero_shot --task mmvp"
    assert zs["out"] == "results/cells/ci/tiny-qwen2.5-vl/sat32k/zero_shot/mmvp.jsonl"
    assert len([k for k in cells["evaluate"] if "__zero_shot__" in k]) == 4
    un = cells["evaluate_unselected"]["tiny-qwen2.5-vl__counting__livr__seed6__counting"]
    assert un["out"] == "results/cells/ci/tiny-qwen2.5-vl/counting/livr/seed6/counting.unselected.jsonl"
    assert "runs/ci/tiny-qwen2.5-vl/counting/livr/seed6/unselected" in un.values()
    assert cells["report"]["train_metrics"].split() == [
        L.train_metrics("ci", *job) for job in livr_jobs.train_jobs(params, "ci")
    ]


def _table1_at_three_seeds(repo):
    params = _at_seeds("table1", [42, 43, 44])
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return params


def test_table1_dry_run_at_three_seeds(repo):
    params = _table1_at_three_seeds(repo)
    proc = run([tool("snakemake"), "-n", "-p", "results/table1.csv", "--config", "experiment=table1"], repo)
    jobs = dry_run_jobs(proc.stdout)
    cells, runs, _, _ = expected_jobs(params, "table1")
    assert len(runs) == 3 * 9 * 2 * 3 and len(cells) == 3 * 9 * (1 + 2 * 3)
    assert {o[0] for r, o in jobs if r == "train"} == runs
    assert {o[0] for r, o in jobs if r in evaluate_rules("table1")} == cells
    assert len([o for r, o in jobs if r == "evaluate_base"]) == 3 * 9, "zero-shot once, not per seed"
    # the seed is a wildcard of the trained jobs, in their logs and timings, and passed to the CLI
    train = re.findall(r"^rule train:\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
    assert {re.search(r"seed=(\d+)", b).group(1) for b in train} == {"42", "43", "44"}
    assert all(re.search(r"log: logs/table1/train/.*/seed(\d+)\.log", b) for b in train)
    assert re.search(r"livr train .* --seed 4[234] ", proc.stdout)
    assert re.search(r"livr evaluate .* --seed 4[234] --task ", proc.stdout)


def test_table1_slurm_dry_run_at_three_seeds(repo):
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[slurm]')")
    params = _table1_at_three_seeds(repo)
    proc = run(
        [tool("snakemake"), "-n", "--cores", "16", "--workflow-profile", "workflow/profiles/slurm"]
        + ["results/table1.csv", "--config", "experiment=table1"],
        repo,
    )
    cells, runs, _, _ = expected_jobs(params, "table1")
    jobs = dry_run_jobs(proc.stdout)
    assert {o[0] for r, o in jobs if r == "train"} == runs
    assert {o[0] for r, o in jobs if r in evaluate_rules("table1")} == cells
    for body in re.findall(r"^rule (?:train|evaluate|evaluate_base):\n(.*?)(?=^\S|\Z)", proc.stdout, re.M | re.S):
        assert "gpu=1" in body and "slurm_partition=PLACEHOLDER_gpu" in body and "cpus_per_task=8" in body


def test_paper_counts():
    """Table 1: 3 backbones x 9 tasks x 3 methods; Table 2: 6 tasks of one mixture x 3 methods."""
    assert len(lc.cells(PARAMS, "table1")) == 81
    assert len(lc.cells(PARAMS, "table2")) == 18
    assert len(livr_jobs.train_jobs(PARAMS, "table2")) == 2


@pytest.mark.parametrize(
    "exp,backbones,train_set,eval_sets,compared,released",
    [
        ("table3", ["qwen2.5-vl-3b"], "sat32k", ["sat_val", "blink3", "robospatial_home"], (), ()),
        ("table4", ["qwen2.5-vl-7b"], "viscot", ["mmvp", "vstar", "blink5"], ("lvr",), ("lvr_7b_released",)),
        (
            "mirage_vsp",
            ["qwen2.5-vl-3b", "qwen2.5-vl-7b"],
            "mirage_vsp",
            ["mirage_vsp_test"],
            ("mirage",),
            ("vsp_direct_sft_released",),
        ),
    ],
)
def test_comparison_experiments_cells_settings_and_paths(exp, backbones, train_set, eval_sets, compared, released):
    """One training set per backbone and method (the compared method of that table too), evaluated on every
    benchmark of the experiment; a released checkpoint (7B) once, on the 7B only; the training data is the
    comparison set, the test data each benchmark (data/built/comparison/)."""
    from livr.settings import EvalConfig, TrainConfig

    trained = ("sft", "livr", *compared)
    on_7b = released if "qwen2.5-vl-7b" in backbones else ()
    assert lc.cells(PARAMS, exp) == [
        lc.Cell(b, train_set, m, e, None if m in ("zero_shot", *released) else 42)
        for b in backbones
        for m in ("zero_shot", *trained, *(on_7b if b == "qwen2.5-vl-7b" else ()))
        for e in eval_sets
    ]
    assert livr_jobs.train_jobs(PARAMS, exp) == [(b, train_set, m, 42) for b in backbones for m in trained]
    for b in backbones:
        cfg = TrainConfig.resolve(PARAMS, exp, b, train_set, "livr")
        assert cfg.tasks == (train_set,) and cfg.data_dirs == (f"data/built/comparison/{train_set}",)
        for e in eval_sets:
            ev = EvalConfig.resolve(PARAMS, exp, b, train_set, "livr", e)
            assert (
                ev.data_dir == f"data/built/comparison/{e}"
                and ev.checkpoint == f"runs/{exp}/{b}/{train_set}/livr/seed42/final"
            )
    assert livr_jobs.datasets(PARAMS, exp, "comparison") == [train_set, *eval_sets]
    assert livr_jobs.datasets(PARAMS, exp, "task") == []


def test_comparison_settings_follow_the_paper_where_it_speaks():
    from livr.settings import TrainConfig

    mirage = TrainConfig.resolve(PARAMS, "mirage_vsp", "qwen2.5-vl-7b", "mirage_vsp", "livr")
    assert (mirage.finetune, mirage.lr, mirage.weight_decay, mirage.livr_stage_epochs, mirage.num_latents) == (
        "full_lm",
        1e-5,
        0.01,
        (10, 10),
        4,
    )
    assert mirage.batch_size * mirage.grad_accum == 8 and [s.name for s in mirage.stages()] == ["stage1", "stage2"]
    # Tables 3 and 4: Appendix B's defaults (the paper is silent there)
    for exp, b, ts in (("table3", "qwen2.5-vl-3b", "sat32k"), ("table4", "qwen2.5-vl-7b", "viscot")):
        cfg = TrainConfig.resolve(PARAMS, exp, b, ts, "livr")
        assert (cfg.finetune, cfg.lr, cfg.sft_epochs, cfg.livr_stage_epochs, cfg.num_latents, cfg.select) == (
            "lora",
            1e-4,
            10,
            (4, 6),
            16,
            "best_val",
        )
    text = (REPO / "params.yaml").read_text()
    block = text[text.index("  table3:") :]
    assert (
        text[text.index("# The paper's comparison experiments") : text.index("  table3:")].count("NOT SPECIFIED") >= 1
    )
    assert "NOT SPECIFIED" in block[block.index("  mirage_vsp:") :]


def test_ci_runs_the_comparison_path_on_standins():
    """The CI experiment trains one comparison training set and tests it on two benchmarks with
    different scorers and aggregates, on stand-ins under the experiment's synthetic data."""
    from livr.data.benchmarks import BENCHMARKS

    (ts,) = PARAMS["experiments"]["ci"]["train_sets"]
    evals = lc.train_sets(PARAMS, "ci")[ts]
    assert len(evals) == 2 and len({BENCHMARKS[e].scorer for e in evals}) == 2
    assert len({BENCHMARKS[e].aggregate for e in evals}) == 2
    assert lc.task_dir(PARAMS, "ci", ts) == f"data/built/synthetic/ci/comparison/{ts}"


def test_gpu_resource_only_for_real_backbones(repo):
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=table1"], repo)
    blocks = re.findall(r"^rule (train|evaluate):\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
    assert blocks and all("gpu=1" in body for _, body in blocks)
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=ci"], repo)
    blocks = re.findall(r"^rule (train|evaluate):\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
    assert blocks and not any("gpu=1" in body for _, body in blocks)


def test_task_sources_are_the_builders_and_name_real_sources():
    from livr.data.registry import TASK_SPECS
    from livr.data.sources import SOURCES
    from livr.data.specs import resolve

    for task, spec in TASK_SPECS.items():
        builder_module = importlib.import_module(resolve(spec.builder).__module__)
        assert livr_jobs.task_sources(task) == list(builder_module.SOURCES)
        assert set(livr_jobs.task_sources(task)) <= set(SOURCES), task


@pytest.mark.parametrize(
    "exp,target",
    [
        ("table1", "results/table1.csv"),
        ("table3", "results/table3.csv"),
        ("table4", "results/table4.csv"),
        ("mirage_vsp", "results/mirage_vsp.csv"),
    ],
)
def test_slurm_profile_dry_run(repo, exp, target):
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[slurm]')")
    proc = run(
        [
            tool("snakemake"),
            "-n",
            "--cores",
            "16",
            "--workflow-profile",
            "workflow/profiles/slurm",
            target,
            "--config",
            f"experiment={exp}",
        ],
        repo,
    )
    train = re.search(r"^rule train:\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S).group(1)
    assert "gpu=1" in train and "slurm_partition=" in train and "cpus_per_task=8" in train
    # memory requests follow the documented per-job estimate (livr/ops/job_memory.py), not a fixed figure
    # (the unselected evaluations as the evaluations; an analysis as its training run); all on GPU nodes
    cells, runs, unselected, analyses = expected_jobs(PARAMS, exp)
    for rule, fn, expected in (
        ("train", livr_jobs.train_mem_mb, runs),
        ("(?:evaluate|evaluate_base)", livr_jobs.eval_mem_mb, cells),
        ("evaluate_unselected", livr_jobs.eval_mem_mb, unselected),
        ("analyze", livr_jobs.train_mem_mb, analyses),
    ):
        blocks = re.findall(rf"^rule {rule}:\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
        assert len(blocks) == len(expected), rule
        for body in blocks:
            wc = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"wildcards: (.*)", body).group(1)))
            want = fn(PARAMS, **wc)  # the planner's parameters are named as the wildcards
            assert re.search(rf"\bmem_mb={want}\b", body), (rule, wc, want)
            assert "gpu=1" in body and "slurm_partition=PLACEHOLDER_gpu" in body and "cpus_per_task=8" in body, rule
    jobs = dry_run_jobs(proc.stdout)
    assert {o[0] for r, o in jobs if r in evaluate_rules(exp)} == cells
    assert {o[0] for r, o in jobs if r == "train"} == runs
    if exp != "table1":  # the comparison data: downloaded, then built on a CPU node
        build = re.search(r"^rule build_comparison:\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S).group(1)
        assert "gpu=0" in build and "slurm_partition=PLACEHOLDER_cpu" in build
        assert {o[0] for r, o in jobs if r == "download"} == {
            livr_jobs.layout(PARAMS).raw_manifest(s) for s in livr_jobs.sources(PARAMS, exp)
        }


@pytest.mark.parametrize("exp", ["table3", "table4", "mirage_vsp"])
def test_comparison_targets_dry_run_locally(repo, exp):
    """Each comparison table is a target of its own, under the local profile."""
    proc = run([tool("snakemake"), "-n", f"results/{exp}.csv", "--config", f"experiment={exp}"], repo)
    jobs = dry_run_jobs(proc.stdout)
    cells, runs, _, _ = expected_jobs(PARAMS, exp)
    assert {o[0] for r, o in jobs if r in evaluate_rules(exp)} == cells
    assert {o[0] for r, o in jobs if r == "train"} == runs
    assert any(f"results/{exp}.csv" in o for r, o in jobs if r == "publish")
    assert all(
        "gpu=1" in body
        for _, body in re.findall(r"^rule (train|evaluate):\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
    )


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
    seeds = (42, 43)  # the ci experiment's: each seed's run of the method reruns
    tested = [(t, t) for t in ("relative_reflectance", "counting")] + [("sat32k", b) for b in ("blink3", "mmvp")]
    assert trained == {
        f"runs/ci/tiny-qwen2.5-vl/{t}/sft/seed{s}/final"
        for t in ("relative_reflectance", "counting", "sat32k")
        for s in seeds
    }
    assert evaluated == {
        f"results/cells/ci/tiny-qwen2.5-vl/{ts}/sft/seed{s}/{t}.jsonl" for ts, t in tested for s in seeds
    }
    assert {o[0] for r, o in jobs if r == "evaluate_unselected"} == {
        f"results/cells/ci/tiny-qwen2.5-vl/{ts}/sft/seed{s}/{t}.unselected.jsonl" for ts, t in tested for s in seeds
    }
    assert {r for r, _ in jobs} == {"train", "evaluate", "evaluate_unselected", "collect", "tables", "publish"}
    # an edit that changes no cell's resolved settings reruns nothing
    (repo / "params.yaml").write_text(params.replace("# The one config", "# The only config"))
    assert snakemake_dry_run(repo, "ci", path_first=stub) == []


# ---- DVC ----------------------------------------------------------------------------------


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_every_job_fits_the_dependency_slots_dvc_yaml_declares(exp):
    cells = dvc_cells.dvc_cells(PARAMS, exp)  # raises when a job has more dependencies than its stage's slots
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for stage, n in dvc_cells.SLOTS.items():
        declared = [d for d in dvc[stage]["do"].get("deps", []) if str(d).startswith("${item.dep")]
        assert declared == [f"${{item.dep{i}}}" for i in range(n)], stage
        jobs = cells[
            dvc[stage]["foreach"].removeprefix("${dvc_cells.").removesuffix("}")
        ]  # build_task: ${dvc_cells.build}
        for job in (jobs or {}).values():
            assert [k for k in job if k.startswith("dep")] == [f"dep{i}" for i in range(n)], (stage, job)
    with pytest.raises(ValueError, match="3 dependencies, dvc.yaml has 2 slots for build_comparison"):
        dvc_cells._slots("build_comparison", ["a", "b", "c"], "build x")


def test_committed_dvc_cells_in_sync_with_params():
    assert (
        dvc_cells.main(["--params", str(REPO / "params.yaml"), "--out", str(REPO / dvc_cells.DEFAULT_OUT), "--check"])
        == 0
    ), "run: python workflow/scripts/dvc_cells.py"


def test_dvc_templating_cannot_index_by_experiment(tmp_path):
    """Why workflow/dvc/cells.yaml exists: DVC cannot resolve experiments[${experiment}]."""
    copy_repo(tmp_path, git=True)
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  s:\n    foreach: ${experiments[${experiment}].tasks}\n    do:\n      cmd: echo ${item}\n"
    )
    proc = run([tool("dvc"), "stage", "list"], tmp_path, check=False)
    assert proc.returncode != 0


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_dvc_and_snakemake_cover_the_same_jobs(repo, exp):
    set_experiment(repo / "params.yaml", exp)
    run([sys.executable, "workflow/scripts/dvc_cells.py"], repo)
    run(["git", "init", "-q"], repo)  # dvc wants the git repository it was initialised in
    from dvc.repo import Repo

    stages: dict[str, set] = {}
    with Repo(str(repo)) as dvc_repo:  # dvc.yaml resolved by DVC itself
        for stage in dvc_repo.index.stages:
            stages.setdefault(stage.name.split("@")[0], set()).update(o.def_path for o in stage.outs)
    jobs = snakemake_dry_run(repo, exp)
    for rule in (
        "train",
        "evaluate",
        "evaluate_unselected",
        "analyze",
        "build_tiny",
        "synth",
        "download",
        "build_task",
        "synth_comparison",
        "build_comparison",
        "collect",
        "tables",
        "publish",
        "doctor",
    ):
        snake = {o for r, outs in jobs if r == rule or (rule == "evaluate" and r in evaluate_rules(exp)) for o in outs}
        assert stages.get(rule, set()) == snake, rule


def _demo_data_made_elsewhere(repo):
    """The demo's nine data directories, as a Snakemake run leaves them (dvc.lock has no record)."""
    made = {}
    for task in yaml.safe_load((repo / "params.yaml").read_text())["experiments"]["demo"]["tasks"]:
        d = repo / "data" / "built" / "synthetic" / "demo" / task
        d.mkdir(parents=True)
        (d / "train.jsonl").write_text(f"{task}\n")
        made[d / "train.jsonl"] = f"{task}\n"
    return made


def _guard_line(proc):
    lines = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("dvc.yaml: ")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    return lines[0]


def test_dvc_exp_run_with_a_stale_cells_file_deletes_nothing(tmp_path):
    """Issue 23: `dvc exp run -S experiment=ci` with cells.yaml still listing the demo's jobs, in a
    checkout where the demo's data exists: stopped by the guard before DVC touches any output, and
    params.yaml left byte for byte as it was (DVC's own rewrite of it undone)."""
    repo = copy_repo(tmp_path / "repo", git=True)
    stub = stub_livr(tmp_path / "bin")
    made = _demo_data_made_elsewhere(repo)
    params = (repo / "params.yaml").read_bytes()
    proc = run([tool("dvc"), "exp", "run", "-S", "experiment=ci"], repo, path_first=stub, check=False)
    assert proc.returncode != 0
    assert _guard_line(proc) == (
        "dvc.yaml: workflow/dvc/cells.yaml lists the jobs of experiment 'demo' but params.yaml selects 'ci'; nothing "
        "was run or deleted; params.yaml restored. Regenerate it first: python workflow/scripts/dvc_cells.py "
        "--experiment ci"
    )
    assert {p: p.read_text() for p in made if p.is_file()} == made
    assert (repo / "params.yaml").read_bytes() == params
    assert not (stub / "calls.log").exists(), "no livr command may run"
    assert run(["git", "status", "--porcelain", "--untracked-files=no"], repo).stdout == ""
    assert run(["git", "stash", "list"], repo).stdout == ""


def test_dvc_repro_with_a_stale_cells_file_deletes_nothing(tmp_path):
    repo = copy_repo(tmp_path / "repo", git=True)
    stub = stub_livr(tmp_path / "bin")
    made = _demo_data_made_elsewhere(repo)
    set_experiment(repo / "params.yaml", "ci")  # the user's own edit: kept as it is
    edited = (repo / "params.yaml").read_bytes()
    for target in ([], ["synth@counting"]):  # the whole pipeline, and a stage of both experiments
        proc = run([tool("dvc"), "repro", *target], repo, path_first=stub, check=False)
        assert proc.returncode != 0
        assert _guard_line(proc).endswith(
            "nothing was run or deleted. Regenerate it first: python workflow/scripts/dvc_cells.py --experiment ci"
        )
        assert {p: p.read_text() for p in made if p.is_file()} == made
        assert (repo / "params.yaml").read_bytes() == edited
        assert not (stub / "calls.log").exists()


def test_dvc_repro_then_up_to_date(tmp_path):
    repo = copy_repo(tmp_path / "repo", git=True)
    stub = stub_livr(tmp_path / "bin")
    set_experiment(repo / "params.yaml", "ci")
    # one of ci's seeds: each DVC stage costs seconds of DVC's own time, and DVC's job lists at several
    # seeds are checked against Snakemake's above (test_dvc_and_snakemake_cover_the_same_jobs)
    params = (repo / "params.yaml").read_text()
    assert params.count("seeds: [42, 43]") == 1
    (repo / "params.yaml").write_text(params.replace("seeds: [42, 43]", "seeds: [43]"))
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
    assert {s.split("@")[0] for s in changed} == {"train", "evaluate", "evaluate_unselected"}
    assert all("__sft" in s for s in changed), changed
    (repo / "params.yaml").write_text(params)
    # metrics and plots, as DVC users read them, with the stamps Snakemake leaves in directory outputs
    for d in ("val_curves", "metrics"):
        (repo / "results" / "ci" / d / ".snakemake_timestamp").touch()
    shown = run([tool("dvc"), "metrics", "show", "--json"], repo, path_first=stub)
    assert '"accuracy"' in shown.stdout and "results/ci/metrics/b/t/sft/t.json" in shown.stdout
    table = run([tool("dvc"), "metrics", "show"], repo, path_first=stub).stdout.splitlines()
    assert len(table) == 2 and table[0].split() == ["Path", "accuracy", "n"], table  # a row per metrics file
    plots = run([tool("dvc"), "plots", "show", "--json"], repo, path_first=stub)
    assert "results/ci/val_curves" in plots.stdout and '"livr"' in plots.stdout
    # the stages depend on the code they run: an edit of the evaluation code reruns every evaluation
    # (and what follows from them), and no training
    (repo / "livr" / "evaluate.py").write_text((repo / "livr" / "evaluate.py").read_text() + "\n# edited\n")
    changed = set(yaml.safe_load(run([tool("dvc"), "status", "--json"], repo, path_first=stub).stdout))
    assert {s.split("@")[0] for s in changed} == {"evaluate", "evaluate_unselected"}, changed
