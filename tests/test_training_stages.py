"""What the two stages hand over, what each run keeps and what it writes beside it, and the
training recipes of the controls, on the tiny Qwen2.5-VL (tied embeddings, like Qwen2.5-VL-3B)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from test_training import BACKBONE
from test_training import cfg_for as train_cfg_for

import livr.checkpoints as ckpt
import livr.train as lt
from livr import config as livr_config
from livr.evaluate import evaluate_cell
from livr.model.latents import add_latent_tokens
from livr.model.loading import load_backbone, load_trained, read_checkpoint_meta
from livr.results.db import build_database
from livr.settings import EvalConfig, TrainConfig, replace

TASK = "relative_reflectance"


def cfg_for(method, task_dir, **overrides):
    """test_training's small LoRA cell, without LoRA dropout (runs compared tensor for tensor)."""
    return train_cfg_for(method, task_dir, **{"lora_dropout": 0.0, **overrides})


def test_lora_with_gradient_checkpointing_trains_the_same_weights(task_dir, tiny_models_dir, tmp_path):
    """Recomputing activations in the backward pass changes nothing that trains: LoRA weights and
    latent rows of both stages match a run without checkpointing."""
    runs = {}
    for gc in (False, True):
        lt.train_cell(cfg_for("livr", task_dir, gradient_checkpointing=gc), tmp_path / str(gc), tiny_models_dir)
        runs[gc] = {s: load_file(tmp_path / str(gc) / s / ckpt.TRAINABLE) for s in ("stage1", "stage2")}
    for stage in ("stage1", "stage2"):
        a, b = runs[False][stage], runs[True][stage]
        assert a.keys() == b.keys() and any("trainable_tokens" in k for k in a) and any("lora_A" in k for k in a)
        for k in a:
            torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-6, msg=f"{stage} {k}")


def test_stage_2_starts_from_stage_1_and_restarts_its_schedule(task_dir, tiny_models_dir, tmp_path, monkeypatch):
    entry = {}
    run_stage = lt.run_stage

    def recording(model, cfg, stage, data, out_dir, device):
        entry[stage.name] = {k: v.clone() for k, v in ckpt.trainable_state(model).items()}
        return run_stage(model, cfg, stage, data, out_dir, device)

    monkeypatch.setattr(lt, "run_stage", recording)
    lt.train_cell(cfg_for("livr", task_dir), tmp_path / "run", tiny_models_dir)
    stage1 = load_file(tmp_path / "run" / "stage1" / ckpt.TRAINABLE)
    assert entry["stage2"].keys() == stage1.keys()
    latent_keys = [k for k in stage1 if "trainable_tokens" in k]
    assert latent_keys, "the latent rows are among the handed-over tensors"
    for k in stage1:
        assert torch.equal(entry["stage2"][k], stage1[k]), f"stage 2 did not start from stage 1's {k}"
    assert any(not torch.equal(entry["stage1"][k], stage1[k]) for k in latent_keys), "stage 1 trained the latents"
    # the schedule: warm-up + cosine restarted, so equal-length stages log the same learning rates
    lrs = {
        s: [
            r["learning_rate"]
            for r in map(json.loads, (tmp_path / "run" / s / "metrics.jsonl").read_text().splitlines())
            if "learning_rate" in r
        ]
        for s in ("stage1", "stage2")
    }
    assert lrs["stage1"] and lrs["stage1"] == lrs["stage2"]
    assert max(lrs["stage2"]) > lrs["stage1"][-1], "stage 2 warms up again instead of continuing stage 1's decay"


@pytest.mark.parametrize("select", ["best_val", "final"])
def test_the_kept_and_the_other_checkpoint_are_both_written_and_evaluated(task_dir, tiny_models_dir, tmp_path, select):
    """final/ holds the weights `select` keeps, unselected/ the other candidate; evaluating both puts
    the cell in the database twice, labelled by weights."""
    cfg = cfg_for(
        "livr", task_dir, finetune="full", lr=2e-3, livr_stage_epochs=[1, 2], evals_per_epoch=2, select=select
    )
    run = tmp_path / "run"
    meta = lt.train_cell(cfg, run, tiny_models_dir)
    kept, other = ("best_val", "last") if select == "best_val" else ("last", "best_val")
    assert meta["weights"] == kept
    done = json.loads((run / "stage2" / "done.json").read_text())
    assert done["kept_weights"] == kept and done["best_val_step"] is not None
    files = {w: load_file(run / "stage2" / f) for w, f in ckpt.WEIGHT_FILES.items()}
    kept_file = load_file(run / "stage2" / ckpt.TRAINABLE)
    assert all(torch.equal(kept_file[k], files[kept][k]) for k in kept_file)
    emb = "model.language_model.embed_tokens.weight"
    cells = []
    for name, weights, selected in (("final", kept, True), ("unselected", other, False)):
        assert {k: read_checkpoint_meta(run / name)[k] for k in ("weights", "selected")} == {
            "weights": weights,
            "selected": selected,
        }
        model, _, _ = load_trained(BACKBONE, run / name, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
        assert torch.equal(model.get_input_embeddings().weight, files[weights][emb]), name
        params = livr_config.load_params("params.yaml")
        ecfg = replace(
            EvalConfig.resolve(params, "ci", BACKBONE, TASK, "livr", TASK, unselected=not selected, seed=42),
            data_dir=str(task_dir),
            dtype="float32",
        )
        assert ecfg.checkpoint.endswith(f"/livr/seed42/{name}")
        out = tmp_path / "cells" / ("t.jsonl" if selected else "t.unselected.jsonl")
        summary = evaluate_cell(ecfg, run / name, out, tiny_models_dir)
        assert (summary["weights"], summary["selected"], summary["checkpoint_method"]) == (weights, selected, "livr")
        cells.append(out)
    import duckdb

    db = tmp_path / "livr.duckdb"
    build_database(db, cells)
    con = duckdb.connect(str(db), read_only=True)
    got = con.execute("SELECT weights, selected, n FROM metrics ORDER BY selected DESC").fetchall()
    assert got == [(kept, True, 8), (other, False, 8)]


def test_prompt_tuning_trains_only_the_soft_prompt_rows(task_dir, tiny_models_dir, tmp_path):
    params = livr_config.load_params("params.yaml")
    cfg = replace(
        TrainConfig.resolve(params, "ci", BACKBONE, TASK, "prompt_tuning", 42),
        data_dirs=[str(task_dir)],
        batch_size=4,
        grad_accum=1,
        lr=5e-2,
        livr_stage_epochs=[0, 1],
    )
    assert (cfg.finetune, cfg.latent_position, [s.name for s in cfg.stages()]) == ("prompt", "start", ["stage2"])
    meta = lt.train_cell(cfg, tmp_path / "run", tiny_models_dir)
    assert meta["latents"] == [f"<|latent_{i}|>" for i in range(4)] and meta["latent_position"] == "start"
    base, _ = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    init, init_proc = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    ids = add_latent_tokens(init, init_proc, 4, cfg.seed)
    trained, _, _ = load_trained(
        BACKBONE, tmp_path / "run" / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
    )
    b, t = dict(base.named_parameters()), dict(trained.named_parameters())
    emb = "model.language_model.embed_tokens.weight"
    vocab = b[emb].shape[0]
    assert not torch.allclose(t[emb][ids], init.get_input_embeddings().weight[ids]), "the soft prompt trained"
    assert torch.equal(t[emb][:vocab], b[emb]), "the rest of the table is frozen"
    assert all(torch.equal(t[n], b[n]) for n in b if n != emb), "every other weight is frozen (no LoRA, no vision)"


def test_shared_latent_trains_one_row_used_k_times(task_dir, tiny_models_dir, tmp_path):
    cfg = cfg_for("livr", task_dir, shared_latent=True)
    meta = lt.train_cell(cfg, tmp_path / "run", tiny_models_dir)
    assert meta["latents"] == ["<|latent_0|>"] * 4 and len(meta["latent_ids"]) == 1
    trained = load_file(tmp_path / "run" / "stage2" / ckpt.TRAINABLE)
    (rows,) = [v for k, v in trained.items() if "trainable_tokens" in k]
    assert rows.shape[0] == 1
