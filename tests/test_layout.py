"""livr/layout.py: the seed's place in paths, and the parsers that read it back."""

from __future__ import annotations

from livr.layout import Layout, job_parts, run_of_metrics, timing_job

L = Layout(runs="/scratch/runs", results="res")


def test_trained_paths_have_a_seed_level_base_model_cells_none():
    assert L.run_dir("e", "b", "t", "livr", 43) == "/scratch/runs/e/b/t/livr/seed43"
    assert L.checkpoint_dir("e", "b", "t", "livr", 43) == "/scratch/runs/e/b/t/livr/seed43/final"
    assert L.cell_file("e", "b", "t", "livr", 43, "t") == "res/cells/e/b/t/livr/seed43/t.jsonl"
    assert L.unselected_cell_summary("e", "b", "t", "sft", 7, "t") == "res/cells/e/b/t/sft/seed7/t.unselected.json"
    assert L.cell_file("e", "b", "t", "zero_shot", None, "t") == "res/cells/e/b/t/zero_shot/t.jsonl"
    assert L.analysis_file("e", "b", "t", "livr", 42) == "res/analysis/e/b/t/livr/seed42.json"
    # Snakemake patterns: the wildcard is the bare number
    assert L.run_dir("{exp}", "{b}", "{t}", "{m}", "{seed}").endswith("/{m}/seed{seed}")


def test_run_of_metrics_and_timing_job_read_the_seed_back():
    assert run_of_metrics(L.train_metrics("e", "b", "t", "livr", 43)) == {
        "experiment": "e",
        "backbone": "b",
        "train_set": "t",
        "method": "livr",
        "seed": 43,
    }
    assert set(run_of_metrics("somewhere/metrics.jsonl").values()) == {None}
    assert set(run_of_metrics("runs/e/b/t/livr/metrics.jsonl").values()) == {None}, "no seed level: not a run"
    job, ident = timing_job("x/" + Layout.timing("e", "evaluate", *job_parts("b", "t", "livr", 44, "t")))
    assert job == "e/evaluate/b/t/livr/seed44/t"
    assert ident == {
        "experiment": "e",
        "step": "evaluate",
        "backbone": "b",
        "train_set": "t",
        "method": "livr",
        "seed": 44,
        "task": "t",
    }
    _, base = timing_job(Layout.timing("e", "evaluate", *job_parts("b", "t", "zero_shot", None, "t")))
    assert (base["method"], base["seed"], base["task"]) == ("zero_shot", None, "t")
    _, train = timing_job(Layout.timing("e", "train", *job_parts("b", "t", "sft", 42)))
    assert (train["method"], train["seed"], train["task"]) == ("sft", 42, None)
    _, collect = timing_job(Layout.timing("e", "collect", "collect"))
    assert (collect["step"], collect["backbone"], collect["seed"]) == ("collect", "collect", None)
