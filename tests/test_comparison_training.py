"""The comparison path on a tiny backbone: training on each record's meta["target"], full fine-tuning
of the language model only (`full_lm`, the paper's Mirage recipe), and a benchmark cell evaluated
with its own scorer into files `livr collect` accepts."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from livr import config as livr_config
from livr.data import benchmarks as bm
from livr.data.schema import Record, read_split
from livr.data.standins import build_standin
from livr.evaluate import evaluate_cell
from livr.model.backbones import get_backbone
from livr.model.inputs import IGNORE, encode, latent_token_strings, load_images
from livr.model.loading import load_backbone, load_trained
from livr.results.db import build_database
from livr.settings import EvalConfig, TrainConfig, replace
from livr.train import apply_finetune_mode, is_language_model_weight, train_cell

BACKBONE = "tiny-qwen2.5-vl"


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    root = tmp_path_factory.mktemp("standins")
    return {
        name: build_standin(name, root / name, n_train=8, n_val=4, n_test=6, seed=0)
        for name in ("sat32k", "blink3", "mmvp", "mirage_vsp")
    }


def test_training_labels_are_the_records_target(standins, tiny_models_dir):
    """sat32k trains on the option's text (ViGoRL's scorer rejects a bare letter); a record without
    meta["target"] trains on its answer."""
    _, processor = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    spec = get_backbone(BACKBONE)
    for name in ("sat32k", "mirage_vsp"):
        rec = read_split(standins[name], "train")[0]
        assert rec.meta["target"] in rec.choices if name == "sat32k" else rec.meta["target"].startswith("\\boxed{")
        enc = encode(rec, load_images(rec, standins[name]), processor, spec, latent_token_strings(2))
        labelled = processor.tokenizer.decode([t for t in enc.labels if t != IGNORE])
        assert labelled == rec.meta["target"] + spec.end_of_turn
        assert enc.gold == rec.meta["target"]
    plain = Record(
        id="r",
        task="jigsaw",
        split="train",
        images=["x.png"],
        question="Q?",
        choices=["a", "b"],
        answer="B",
        source="t",
    )
    enc = encode(plain, [Image.new("RGB", (112, 112))], processor, spec, [])
    assert processor.tokenizer.decode([t for t in enc.labels if t != IGNORE]) == "B" + spec.end_of_turn


def test_full_lm_trains_the_language_model_and_freezes_vision(standins, tiny_models_dir, tmp_path):
    params = livr_config.load_params("params.yaml")
    cfg = TrainConfig.resolve(params, "ci", BACKBONE, "sat32k", "livr", 42)
    assert cfg.data_dirs == ("data/built/synthetic/ci/comparison/sat32k",)
    cfg = replace(
        cfg,
        data_dirs=[str(standins["sat32k"])],
        finetune="full_lm",
        lr=1e-2,
        batch_size=4,
        grad_accum=1,
        sft_epochs=2,
        livr_stage_epochs=[1, 1],
        num_latents=2,
        keep_encoded=True,
        dataloader_workers=0,
    )
    meta = train_cell(cfg, tmp_path / "run", tiny_models_dir)
    assert meta["finetune"] == "full_lm" and [s["stage"] for s in meta["stages"]] == ["stage1", "stage2"]
    base, _ = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    trained, _, meta = load_trained(
        BACKBONE, tmp_path / "run" / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
    )
    b = dict(base.named_parameters())
    t = dict(trained.named_parameters())
    vision = [n for n in b if not is_language_model_weight(n)]
    lm = [n for n in b if is_language_model_weight(n) and "layers" in n and n.endswith("proj.weight")]
    assert vision and all(n.startswith("model.visual.") for n in vision)
    assert all(torch.equal(t[n], b[n]) for n in vision), "vision tower and projector must stay frozen"
    assert lm and all(not torch.equal(t[n], b[n]) for n in lm), "every LM projection must train"
    emb = "model.language_model.embed_tokens.weight"
    vocab = b[emb].shape[0]
    assert not torch.equal(t[emb][:vocab], b[emb]), "full LM fine-tuning trains the embedding table"
    assert t[emb].shape[0] == vocab + 2 and len(meta["latent_ids"]) == 2


def test_full_lm_mode_marks_only_language_model_weights_trainable(tiny_models_dir):
    for backbone in ("tiny-qwen3-vl", "tiny-llava-ov-1.5"):
        model, _ = load_backbone(backbone, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
        params = livr_config.load_params("params.yaml")
        cfg = replace(TrainConfig.resolve(params, "ci", BACKBONE, "sat32k", "sft", 42), finetune="full_lm")
        apply_finetune_mode(model, cfg, [])
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        assert trainable and all(
            ".language_model." in f".{n}" or n.startswith("lm_head.") for n in trainable
        )  # untied head: LM too
        assert any("vision" in n or "visual" in n for n, p in model.named_parameters() if not p.requires_grad)


@pytest.mark.parametrize("name", ["blink3", "mmvp"])
def test_benchmark_cell_is_scored_by_its_own_rule_and_collects(standins, tiny_models_dir, tmp_path, name):
    params = livr_config.load_params("params.yaml")
    cfg = EvalConfig.resolve(params, "ci", BACKBONE, "sat32k", "zero_shot", name)
    assert cfg.data_dir == f"data/built/synthetic/ci/comparison/{name}"
    cfg = replace(cfg, data_dir=str(standins[name]))
    out = tmp_path / "cells" / f"{name}.jsonl"
    summary = evaluate_cell(cfg, None, out, tiny_models_dir)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    records = read_split(standins[name], "test")
    scored = bm.score(name, records, [r["raw_output"] for r in rows])
    assert [r["correct"] for r in rows] == [s["correct"] for s in scored]
    assert {r["parse_method"] for r in rows} <= {bm.BENCHMARKS[name].scorer, "unparsable"}
    assert [r["subtask"] for r in rows] == [s["subtask"] for s in scored]
    assert [r["gold"] for r in rows] == [rec.meta["target"] for rec in records]
    assert summary["aggregate"] == bm.BENCHMARKS[name].aggregate
    expected = bm.summarize(name, scored)
    assert summary["benchmark_accuracy"] == pytest.approx(expected["accuracy"], abs=1e-4)
    counts = build_database(tmp_path / "db.duckdb", [out])
    assert counts["predictions"] == len(records) == 6
