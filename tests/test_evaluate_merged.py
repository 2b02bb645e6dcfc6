"""One evaluation job for a trained model's cells on one checkpoint (its own test task and the
Sec. 4.3.1 test-time variants): the model is loaded once and each image's vision features are
computed once, and every cell's predictions file is byte for byte what a job of its own writes."""

from __future__ import annotations

import json

import pytest
from test_training import cfg_for

import livr.evaluate as ev
import livr.train as lt
from livr import config as livr_config
from livr.settings import EvalConfig, replace

BACKBONE, TASK = "tiny-qwen2.5-vl", "relative_reflectance"
METHODS = ["livr", "livr_eval_no_latents", "livr_eval_stage1_mask"]
BUDGET_MB = 0.01  # a few images in memory, the rest through the disk cache: both paths are taken


@pytest.fixture(scope="module")
def trained(task_dir, tiny_models_dir, tmp_path_factory):
    run = tmp_path_factory.mktemp("merged") / "run"
    lt.train_cell(cfg_for("livr", task_dir, lora_dropout=0.0), run, tiny_models_dir)
    params = livr_config.load_params("params.yaml")
    cfgs = [
        replace(
            EvalConfig.resolve(params, "demo", BACKBONE, TASK, m, TASK),
            data_dir=str(task_dir),
            dtype="float32",
            batch_size=3,
            max_new_tokens=4,
        )
        for m in METHODS
    ]
    return run / "final", cfgs


@pytest.mark.parametrize("budget", [None, BUDGET_MB, float("inf")])
def test_one_job_writes_what_separate_jobs_write(trained, tiny_models_dir, tmp_path, budget):
    checkpoint, cfgs = trained
    assert {c.checkpoint_method for c in cfgs} == {"livr"}
    assert len({(c.eval_latents, c.eval_mask) for c in cfgs}) == len(cfgs), "three different passes"
    alone = [tmp_path / "alone" / f"{c.method}.jsonl" for c in cfgs]
    for c, out in zip(cfgs, alone):
        ev.evaluate_cell(c, checkpoint, out, tiny_models_dir)  # today's job: one cell, no feature cache
    together = [tmp_path / "together" / f"{c.method}.jsonl" for c in cfgs]
    summaries = ev.evaluate_cells(cfgs, checkpoint, together, tiny_models_dir, vision_cache_mb=budget)
    for c, a, t, s in zip(cfgs, alone, together, summaries):
        assert t.read_bytes() == a.read_bytes(), c.method
        side_a, side_t = (json.loads(p.with_suffix(".json").read_text()) for p in (a, t))
        assert {**side_t, "seconds": 0} == {**side_a, "seconds": 0} and s == side_t, c.method
    assert not list((tmp_path / "together").glob(".*vision_cache*")), "the disk cache is removed with the job"


def test_the_feature_cache_serves_the_later_passes(trained, tiny_models_dir, tmp_path, monkeypatch):
    checkpoint, cfgs = trained
    caches = []
    opened = ev.open_vision_cache

    def recording(*args):
        caches.append(opened(*args))
        return caches[-1]

    monkeypatch.setattr(ev, "open_vision_cache", recording)
    ev.evaluate_cells(
        cfgs, checkpoint, [tmp_path / f"{c.method}.jsonl" for c in cfgs], tiny_models_dir, vision_cache_mb=64
    )
    (cache,) = caches
    assert cache.misses > 0 and cache.hits == 2 * cache.misses, "each image computed in the first pass only"


def test_a_job_killed_in_a_later_pass_leaves_no_sidecar_of_that_cell(trained, tiny_models_dir, tmp_path, monkeypatch):
    checkpoint, cfgs = trained
    outs = [tmp_path / f"{c.method}.jsonl" for c in cfgs]
    for out in outs:  # a finished older run of the same cells
        out.write_text("old\n")
        out.with_suffix(".json").write_text('{"n": 99}')
    decode = ev.decode_cell

    def killed_in_second(cfg, *args):
        if cfg.method == METHODS[1]:
            raise KeyboardInterrupt  # stands in for a kill while the second cell decodes
        return decode(cfg, *args)

    monkeypatch.setattr(ev, "decode_cell", killed_in_second)
    with pytest.raises(KeyboardInterrupt):
        ev.evaluate_cells(cfgs, checkpoint, outs, tiny_models_dir, vision_cache_mb=64)
    assert json.loads(outs[0].with_suffix(".json").read_text())["method"] == METHODS[0], "the first cell finished"
    assert not outs[1].with_suffix(".json").exists() and not outs[2].with_suffix(".json").exists()
    assert not list(tmp_path.glob(".*vision_cache*"))
