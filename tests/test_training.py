"""Training changes what should train and nothing else; checkpoints reload to the same predictions."""

import json
import warnings

import pytest
import torch

from livr import config as livr_config
from livr.data.schema import read_split
from livr.decoding import greedy_decode
from livr.evaluate import evaluate_cell
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, latent_token_strings, load_images
from livr.model.latents import add_latent_tokens
from livr.model.loading import load_backbone, load_trained
from livr.settings import EvalConfig, Stage, TrainConfig, replace
from livr.train import apply_finetune_mode, save_checkpoint, train_cell

BACKBONE = "tiny-qwen2.5-vl"  # ties input and output embeddings, like Qwen2.5-VL-3B


def cfg_for(method, task_dir, **overrides):
    params = livr_config.load_params("params.yaml")
    cfg = TrainConfig.resolve(params, "ci", BACKBONE, "relative_reflectance", method, 42)
    return replace(
        cfg,
        **{
            "data_dirs": [str(task_dir)],
            "finetune": "lora",
            "lr": 5e-2,
            "batch_size": 4,
            "grad_accum": 1,
            "sft_epochs": 1,
            "livr_stage_epochs": [1, 1],
            "num_latents": 4,
            **overrides,
        },
    )


def params_of(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_stage_plans(task_dir):
    assert cfg_for("sft", task_dir, sft_epochs=10).stages() == [Stage("sft", 10, None, last=True)]
    assert cfg_for("livr", task_dir, livr_stage_epochs=[4, 6]).stages() == [
        Stage("stage1", 4, "default"),
        Stage("stage2", 6, None, last=True),
    ]
    assert cfg_for("livr", task_dir, livr_stage_epochs=[0, 10]).stages() == [Stage("stage2", 10, None, last=True)]


def test_livr_lora_trains_lora_and_latent_rows_only(task_dir, tiny_models_dir, tmp_path):
    cfg = cfg_for("livr", task_dir)
    meta = train_cell(cfg, tmp_path / "run", tiny_models_dir)
    assert [s["stage"] for s in meta["stages"]] == ["stage1", "stage2"]
    assert meta["stages"][0]["mask"] == "default" and meta["stages"][1]["mask"] == "standard"
    base, _ = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    vocab = base.get_input_embeddings().weight.shape[0]
    init, init_proc = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    init_rows = init.get_input_embeddings().weight[add_latent_tokens(init, init_proc, 4, cfg.seed)].detach()
    trained, processor, meta = load_trained(
        BACKBONE, tmp_path / "run" / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
    )
    b, t = params_of(base), params_of(trained)
    emb = "model.language_model.embed_tokens.weight"
    assert torch.equal(t[emb][:vocab], b[emb][:vocab]), "original embedding rows must stay frozen"
    assert not torch.allclose(t[emb][meta["latent_ids"]], init_rows), "latent rows must train"
    assert torch.equal(trained.get_output_embeddings().weight[:vocab], b[emb][:vocab]), (
        "tied output rows must stay frozen"
    )
    frozen = [n for n in b if n.startswith("model.visual.")]
    assert frozen and all(torch.equal(t[n], b[n]) for n in frozen), "vision tower and projector must stay frozen"
    lora_targets = [
        n for n in b if "language_model.layers" in n and any(k in n for k in ("q_proj.weight", "down_proj.weight"))
    ]
    assert lora_targets and all(not torch.equal(t[n], b[n]) for n in lora_targets), (
        "LoRA must change the LM projections"
    )
    norms = [n for n in b if "layernorm" in n or n.endswith("norm.weight")]
    assert all(torch.equal(t[n], b[n]) for n in norms)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert {json.loads(line)["stage"] for line in lines} == {"stage1", "stage2"}


def test_sft_trains_no_latent_rows(task_dir, tiny_models_dir, tmp_path):
    train_cell(cfg_for("sft", task_dir), tmp_path / "run", tiny_models_dir)
    trained, processor, meta = load_trained(
        BACKBONE, tmp_path / "run" / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
    )
    base, base_proc = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    assert meta["latent_ids"] == [] and len(processor.tokenizer) == len(base_proc.tokenizer)
    assert trained.get_input_embeddings().weight.shape == base.get_input_embeddings().weight.shape
    assert torch.equal(trained.get_input_embeddings().weight, base.get_input_embeddings().weight)


def test_lazy_encoding_and_workers_train_the_same_weights_as_encoding_once(task_dir, tiny_models_dir, tmp_path):
    """Examples encoded on use (here in a DataLoader worker) are the tensors encoded once and kept:
    the trained weights are equal bit for bit, so switching the data path changes no result."""
    from safetensors.torch import load_file

    runs = {}
    for name, workers, keep in (("kept", 0, True), ("lazy_worker", 1, False)):
        cfg = cfg_for("livr", task_dir, dataloader_workers=workers, keep_encoded=keep)
        train_cell(cfg, tmp_path / name, tiny_models_dir)
        runs[name] = {s: load_file(tmp_path / name / s / "trainable.safetensors") for s in ("stage1", "stage2")}
    for stage in ("stage1", "stage2"):
        a, b = runs["kept"][stage], runs["lazy_worker"][stage]
        assert a.keys() == b.keys() and a
        assert all(torch.equal(a[k], b[k]) for k in a), stage


@pytest.mark.parametrize("finetune", ["lora", "full"])
def test_saved_checkpoint_reloads_to_the_same_predictions(task_dir, tiny_models_dir, tmp_path, finetune):
    spec = get_backbone(BACKBONE)
    model, processor = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    latents = latent_token_strings(4)
    ids = add_latent_tokens(model, processor, 4, seed=0)
    cfg = cfg_for("livr", task_dir, finetune=finetune)
    with warnings.catch_warnings():  # wrapping with peft warns about nothing (it did, on every run: issue 23)
        warnings.simplefilter("error", FutureWarning)
        model = apply_finetune_mode(model, cfg, ids)
    torch.manual_seed(0)
    with torch.no_grad():  # stand-in for training: move every trainable tensor
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.05)
    model.eval()
    records = read_split(task_dir, "test")
    encoded = [encode(r, load_images(r, task_dir), processor, spec, latents, with_answer=False) for r in records]
    batch, roles = Collator(
        model.get_base_model() if finetune == "lora" else model, processor.tokenizer.pad_token_id, spec, None, "left"
    ).collate(encoded)
    batch.pop("labels")
    before = greedy_decode(model, batch, roles, None, 6, [processor.tokenizer.eos_token_id], ids)
    meta = {
        "backbone": BACKBONE,
        "method": "livr",
        "train": "livr",
        "finetune": finetune,
        "latents": latents,
        "latent_ids": ids,
        "latent_position": "after_prompt",
        "mask": "default",
        "stages": [],
    }
    save_checkpoint(model, processor, meta, tmp_path / "final")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        reloaded, processor2, _ = load_trained(
            BACKBONE, tmp_path / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
        )
    after = greedy_decode(reloaded, batch, roles, None, 6, [processor.tokenizer.eos_token_id], ids)
    assert before == after
    assert any(len(x) > 0 for x in before)


@pytest.mark.parametrize("backbone", [BACKBONE, "tiny-llava-ov-1.5"])
def test_greedy_decode_matches_hf_generate(task_dir, tiny_models_dir, backbone):
    spec = get_backbone(backbone)
    model, processor = load_backbone(backbone, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    records = read_split(task_dir, "test")[:3]
    encoded = [encode(r, load_images(r, task_dir), processor, spec, [], with_answer=False) for r in records]
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, None, "left").collate(encoded)
    batch.pop("labels")
    ours = greedy_decode(model, batch, roles, None, 5, [-1], [])
    hf_inputs = {k: v for k, v in batch.items() if k != "position_ids"}  # generate takes positions from the mask
    hf = model.generate(**hf_inputs, max_new_tokens=5, do_sample=False, eos_token_id=None, min_new_tokens=5)
    assert [row[batch["input_ids"].shape[1] :].tolist() for row in hf] == ours


def test_evaluate_writes_cell_files(task_dir, tiny_models_dir, tmp_path):
    params = livr_config.load_params("params.yaml")
    cfg = EvalConfig.resolve(params, "ci", BACKBONE, "relative_reflectance", "zero_shot", "relative_reflectance")
    cfg = replace(cfg, data_dir=str(task_dir), dtype="float32", attn_implementation="sdpa")
    summary = evaluate_cell(cfg, None, tmp_path / "cell.jsonl", tiny_models_dir)
    rows = [json.loads(line) for line in (tmp_path / "cell.jsonl").read_text().splitlines()]
    assert len(rows) == summary["n"] == 8
    assert summary["n_correct"] == sum(r["correct"] for r in rows)
    assert summary["n_unparsed"] == sum(r["parsed"] is None for r in rows)
    assert all(r["correct"] == (r["parsed"] == r["gold"]) for r in rows)
    assert json.loads((tmp_path / "cell.json").read_text())["accuracy"] == summary["accuracy"]
