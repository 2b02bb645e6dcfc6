"""LLaVA-OneVision-1.5 (RICE-ViT + Qwen3) on the installed transformers' own class.

The tiny build (`tiny-llava-ov-1.5`) is the real architecture at tiny size; the checks here are
the ones specific to it: the hub checkpoint's weight names load onto every weight (transformers'
renaming) and the loader refuses what does not fit,
images in one call are encoded independently (one class token each), masks, positions, LoRA
placement, and a training / reload / evaluation round on it.
"""

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from test_bottleneck import images, two_image_record

from livr import config as livr_config
from livr.data.schema import read_split
from livr.data.synthetic import build_synthetic_task
from livr.decoding import greedy_decode
from livr.errors import InputError
from livr.evaluate import evaluate_cell
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.families.llava_ov_1_5 import check_vocab_and_pad, load_pretrained, native_config_dict
from livr.model.inputs import Collator, encode, latent_token_strings, load_images
from livr.model.latents import add_latent_tokens
from livr.model.loading import backbone_source, load_backbone, load_trained
from livr.model.masks import ANSWER, LATENT, PAD, POST, attention_mask_4d
from livr.settings import EvalConfig, TrainConfig, replace
from livr.train import apply_finetune_mode, save_checkpoint, train_cell

NAME = "tiny-llava-ov-1.5"


@pytest.fixture(scope="module", params=["sdpa", "eager"])
def loaded(request, tiny_models_dir):
    model, processor = load_backbone(NAME, tiny_models_dir, {}, torch.float32, request.param, "cpu")
    add_latent_tokens(model, processor, 4, seed=0)
    return model.eval(), processor, get_backbone(NAME)


def short_record():
    return dataclasses.replace(two_image_record(), question="Which?", answer="A")


# ------------------------------------------------------------------ the class itself
def test_it_is_the_paper_architecture_not_a_stand_in(loaded):
    model, _, _ = loaded
    from transformers.models.llava_onevision1_5 import LlavaOnevision15ForConditionalGeneration

    assert type(model) is LlavaOnevision15ForConditionalGeneration  # transformers' own class, no project copy
    assert model.config.get_text_config().model_type == "qwen3"
    vis = model.model.visual
    assert type(vis).__name__ == "LlavaOnevision15VisionModel" and vis.cls_embeddings.class_embedding.numel() > 0
    assert type(vis.patch_embed.proj) is torch.nn.Conv2d  # 2D patches: temporal patch 1


def test_several_images_in_one_call_get_the_features_each_gets_alone(loaded):
    """One class token per image is prepended and stripped again: the second image's features are
    not shifted by the first's (the hub remote code's bug), also across a batch of two examples."""
    model, processor, spec = loaded
    wide = [images(2)[0].resize((224, 56)), images(3)[0]]
    encs = [
        encode(two_image_record(), imgs, processor, spec, []) for imgs in (images(0), wide)
    ]  # four images, a batch of two
    pv = torch.cat([e.vision["pixel_values"] for e in encs])
    grid = torch.cat([e.vision["image_grid_thw"] for e in encs])
    with torch.no_grad():
        together = model.get_image_features(pv, grid).pooler_output
        starts = torch.cat([torch.zeros(1, dtype=torch.long), grid.prod(-1).cumsum(0)])
        alone = [
            model.get_image_features(pv[starts[i] : starts[i + 1]], grid[i : i + 1]).pooler_output[0]
            for i in range(len(grid))
        ]
    assert len(together) == len(alone) == 4 and grid[2].tolist() != grid[3].tolist()  # two sizes
    for a, b in zip(together, alone):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    assert not torch.allclose(alone[0], alone[1])  # different images, different features


def batch_of_two(model, processor, spec, latents, padding_side, mask=None):
    encs = [
        encode(two_image_record(), images(0), processor, spec, latents),
        encode(short_record(), images(1), processor, spec, latents),
    ]
    assert len(encs[0].input_ids) != len(encs[1].input_ids)
    return encs, *Collator(model, processor.tokenizer.pad_token_id, spec, mask, padding_side).collate(encs)


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_2d_mask_and_the_equivalent_4d_mask_give_identical_logits(loaded, padding_side):
    model, processor, spec = loaded
    _, batch, roles = batch_of_two(model, processor, spec, latent_token_strings(2), padding_side)
    real = roles != PAD
    with torch.no_grad():
        two_d = model(**batch).logits
        four_d = model(**{**batch, "attention_mask": attention_mask_4d(roles, None, torch.float32)}).logits
    torch.testing.assert_close(four_d[real], two_d[real], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("mask", [None, "default"])
def test_positions_alone_equal_right_and_left_padded(loaded, mask):
    """The collator's position ids are what the model computes for each sequence alone (0..L-1,
    its default when given none), so a padded row's real tokens get the same logits as alone."""
    model, processor, spec = loaded
    for side in ("right", "left"):
        encs, batch, roles = batch_of_two(model, processor, spec, latent_token_strings(2), side, mask)
        with torch.no_grad():
            padded = model(**batch).logits
            for i, enc in enumerate(encs):
                one, _ = Collator(model, processor.tokenizer.pad_token_id, spec, mask).collate([enc])
                assert one["position_ids"].tolist() == [list(range(len(enc.input_ids)))]
                if mask is None:  # the model's own positions: none passed
                    one = {k: v for k, v in one.items() if k != "position_ids"}
                alone = model(**one).logits[0]
                row = roles[i] != PAD
                assert batch["position_ids"][i][row].tolist() == list(range(len(enc.input_ids)))
                torch.testing.assert_close(padded[i][row], alone, atol=1e-5, rtol=1e-4)


def test_stage1_mask_leaks_nothing(loaded):
    """Exact zero logit change and exact zero pixel gradient at every blocked position (sdpa and eager)."""
    model, processor, spec = loaded
    torch.manual_seed(0)
    for latents in ([], latent_token_strings(4)):
        enc = encode(two_image_record(), images(0), processor, spec, latents)
        batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, "default").collate([enc])
        roles = roles[0]
        pv = batch["pixel_values"]
        moved_pv = (pv + torch.randn_like(pv)).requires_grad_(True)
        with torch.no_grad():
            base = model(**batch).logits[0]
        moved = model(**{**batch, "pixel_values": moved_pv}).logits[0]
        blocked = (roles == POST) | (roles == ANSWER) if not latents else roles == POST
        assert torch.equal(base[blocked], moved[blocked].detach())
        (grad,) = torch.autograd.grad(moved[blocked].sum(), moved_pv)
        assert torch.count_nonzero(grad) == 0
        if latents:
            assert not torch.allclose(base[roles == LATENT], moved[roles == LATENT].detach())
            assert not torch.allclose(base[roles == ANSWER], moved[roles == ANSWER].detach())


def test_lora_targets_the_language_model_only(tiny_models_dir):
    model, processor = load_backbone(NAME, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    ids = add_latent_tokens(model, processor, 2, seed=0)
    params = livr_config.load_params("params.yaml")
    cfg = replace(TrainConfig.resolve(params, "ci", NAME, "counting", "livr", 42), finetune="lora")
    peft_model = apply_finetune_mode(model, cfg, ids)
    wrapped = sorted({n.rsplit(".lora_A", 1)[0] for n, _ in peft_model.named_parameters() if ".lora_A" in n})
    layers = model.config.get_text_config().num_hidden_layers
    assert len(wrapped) == layers * len(cfg.lora_targets)
    assert all(".model.language_model.layers." in n for n in wrapped)
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or "trainable_tokens" in n for n in trainable)
    assert not any(".visual." in n for n in trainable)


# ------------------------------------------------------------------ loading a hub checkpoint
def hub_name(key: str) -> str:
    """The published checkpoint's name of a weight, as the hub's remote code lays the model out
    (modeling_llavaonevision1_5.py: `model.` = the text model, `visual.` = RiceTransformerPretrainedModel
    with class_embedding, class_pos_emb and merger.ln_q / merger.mlp.0 / merger.mlp.2)."""
    for native, hub in (
        ("model.language_model.", "model."),
        ("model.visual.cls_embeddings.", "visual."),
        ("model.visual.merger.linear_fc1.", "visual.merger.mlp.0."),
        ("model.visual.merger.linear_fc2.", "visual.merger.mlp.2."),
        ("model.visual.merger.norm.", "visual.merger.ln_q."),
        ("model.visual.", "visual."),
    ):
        if key.startswith(native):
            return hub + key[len(native) :]
    return key


def hub_config(model) -> dict:
    """config.json in the remote-code layout: other model types, a stray top-level vocab_size, auto_map."""
    cfg = model.config.to_dict()
    text = {**cfg["text_config"], "model_type": "LLaVAOneVision1_5_text"}
    rope = text.pop("rope_parameters")
    return {
        **cfg,
        "model_type": "llavaonevision1_5",
        "architectures": ["LLaVAOneVision1_5_ForConditionalGeneration"],
        "auto_map": {"AutoConfig": "configuration_llavaonevision1_5.Llavaonevision1_5Config"},
        "vocab_size": text["vocab_size"] + 128,
        "text_config": {**text, "rope_theta": rope["rope_theta"]},
        "vision_config": {**cfg["vision_config"], "model_type": "rice_vit"},
    }


def write_hub_checkpoint(path, model, drop=(), extra=None, config=None):
    path.mkdir(parents=True)
    tensors = {hub_name(k): v.contiguous() for k, v in model.state_dict().items() if hub_name(k) not in drop}
    save_file({**tensors, **(extra or {})}, str(path / "model.safetensors"), metadata={"format": "pt"})
    (path / "config.json").write_text(json.dumps(config or hub_config(model)))


@pytest.fixture(scope="module")
def tiny(tiny_models_dir):
    model, processor = load_backbone(NAME, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    return model, processor


def test_hub_names_and_config_load_onto_every_weight(tiny, tmp_path):
    model, processor = tiny
    names = {hub_name(k) for k in model.state_dict()}
    assert {
        "model.layers.0.self_attn.q_proj.weight",
        "visual.class_embedding",
        "visual.merger.ln_q.weight",
        "visual.merger.mlp.0.weight",
        "visual.merger.mlp.2.weight",
        "lm_head.weight",
    } <= names
    write_hub_checkpoint(tmp_path / "hub", model)
    loaded = load_pretrained(
        str(tmp_path / "hub"), processor.tokenizer, processor.image_processor, torch.float32, "sdpa"
    )
    want, got = model.state_dict(), loaded.state_dict()
    assert want.keys() == got.keys() and all(torch.equal(want[k], got[k]) for k in want)
    assert (
        not hasattr(loaded.config, "vocab_size")
        and loaded.config.get_text_config().vocab_size == model.config.get_text_config().vocab_size
    )
    assert loaded.config.pad_token_id == processor.tokenizer.pad_token_id


def test_native_config_dict_refuses_other_models():
    with pytest.raises(InputError, match="model_type 'qwen3_vl'.*llavaonevision1_5"):
        native_config_dict({"model_type": "qwen3_vl", "text_config": {}, "vision_config": {}}, "x")
    with pytest.raises(InputError, match="lacks vision_config"):
        native_config_dict({"model_type": "llavaonevision1_5", "text_config": {}}, "x")


@pytest.mark.parametrize(
    "fault,message",
    [
        (
            "missing",
            r"1 weights the checkpoint does not provide.*model\.language_model\.layers\.1\.mlp\.down_proj\.weight",
        ),
        ("unexpected", r"1 checkpoint tensors no weight takes.*visual\.extra_head\.weight"),
        ("mismatched", r"weights of another shape.*lm_head\.weight"),
        ("tokenizer", r"the tokenizer has \d+ tokens but the model only \d+ embedding rows"),
        ("pad", r"text_config\.pad_token_id is 7 but the tokenizer pads with '<\|endoftext\|>'"),
        ("temporal", r"image processor cuts .*'temporal_patch_size': 2.*needs .*'temporal_patch_size': 1"),
    ],
)
def test_loading_fails_loudly(tiny, tmp_path, fault, message):
    model, processor = tiny
    cfg, kwargs = hub_config(model), {}
    tokenizer, image_processor = processor.tokenizer, processor.image_processor
    vocab = cfg["text_config"]["vocab_size"]
    if fault == "missing":
        kwargs["drop"] = ("model.layers.1.mlp.down_proj.weight",)
    elif fault == "unexpected":
        kwargs["extra"] = {"visual.extra_head.weight": torch.zeros(2, 2)}
    elif fault == "mismatched":
        kwargs["extra"] = {"lm_head.weight": torch.zeros(vocab + 3, cfg["text_config"]["hidden_size"])}
        kwargs["drop"] = ("lm_head.weight",)
    elif fault == "tokenizer":
        tokenizer = copy.deepcopy(tokenizer)
        tokenizer.add_tokens([f"<extra_{i}>" for i in range(vocab - len(tokenizer) + 1)])
    elif fault == "pad":
        cfg["text_config"]["pad_token_id"] = 7
    elif fault == "temporal":
        image_processor = copy.deepcopy(image_processor)
        image_processor.temporal_patch_size = 2
    write_hub_checkpoint(tmp_path / "hub", model, config=cfg, **kwargs)
    with pytest.raises(InputError, match=message):
        load_pretrained(str(tmp_path / "hub"), tokenizer, image_processor, torch.float32, "sdpa")


def test_vocabulary_sizes_must_agree(tiny):
    model, processor = copy.deepcopy(tiny[0]), tiny[1]
    check_vocab_and_pad("x", model, processor.tokenizer)
    rows, hidden = model.lm_head.weight.shape
    model.lm_head = torch.nn.Linear(hidden, rows + 8, bias=False)
    with pytest.raises(
        InputError, match=rf"embedding table {rows} rows, LM head {rows + 8} rows, text_config.vocab_size {rows}"
    ):
        check_vocab_and_pad("x", model, processor.tokenizer)


def test_no_backbone_runs_hub_code(tmp_path):
    for spec in REGISTRY.values():
        if not spec.tiny:
            assert backbone_source(spec, tmp_path) == spec.hf_id
    params = (
        Path("params.yaml")
        .read_text()
        .replace("  llava-ov-1.5-4b:\n", "  llava-ov-1.5-4b:\n    trust_remote_code: true\n", 1)
    )
    (tmp_path / "params.yaml").write_text(params)
    with pytest.raises(ValueError, match="trust_remote_code"):
        livr_config.load_params(tmp_path / "params.yaml")


# ------------------------------------------------------------------ train, reload, evaluate on it
@pytest.fixture(scope="module")
def task_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data") / "relative_reflectance"
    build_synthetic_task("relative_reflectance", d, n_train=8, n_val=4, n_test=4, seed=0)
    return d


def test_livr_training_trains_lora_and_latents_and_reloads(task_dir, tiny_models_dir, tmp_path):
    params = livr_config.load_params("params.yaml")
    cfg = replace(
        TrainConfig.resolve(params, "ci", NAME, "relative_reflectance", "livr", 42),
        data_dirs=[str(task_dir)],
        finetune="lora",
        lr=5e-2,
        batch_size=4,
        grad_accum=1,
        livr_stage_epochs=[1, 1],
        num_latents=4,
    )
    meta = train_cell(cfg, tmp_path / "run", tiny_models_dir)
    assert [s["stage"] for s in meta["stages"]] == ["stage1", "stage2"]
    base, _ = load_backbone(NAME, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    init, init_processor = load_backbone(NAME, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    init_rows = init.get_input_embeddings().weight[add_latent_tokens(init, init_processor, 4, cfg.seed)].detach()
    trained, processor, meta = load_trained(
        NAME, tmp_path / "run" / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
    )
    b, t = dict(base.named_parameters()), dict(trained.named_parameters())
    emb = "model.language_model.embed_tokens.weight"
    vocab = b[emb].shape[0]
    assert torch.equal(t[emb][:vocab], b[emb][:vocab]), "original embedding rows must stay frozen"
    assert not torch.allclose(t[emb][meta["latent_ids"]], init_rows), "latent rows must train"
    assert all(torch.equal(t[n], b[n]) for n in b if n.startswith("model.visual."))
    changed = [n for n in b if n.startswith("model.language_model.layers.") and n.endswith("proj.weight")]
    assert changed and all(not torch.equal(t[n], b[n]) for n in changed)
    assert torch.equal(t["lm_head.weight"][:vocab], b["lm_head.weight"][:vocab])  # untied head: frozen


@pytest.mark.parametrize("finetune", ["lora", "full"])
def test_checkpoint_reloads_to_the_same_predictions(task_dir, tiny_models_dir, tmp_path, finetune):
    spec = get_backbone(NAME)
    model, processor = load_backbone(NAME, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    latents = latent_token_strings(4)
    ids = add_latent_tokens(model, processor, 4, seed=0)
    params = livr_config.load_params("params.yaml")
    cfg = replace(TrainConfig.resolve(params, "ci", NAME, "relative_reflectance", "livr", 42), finetune=finetune)
    model = apply_finetune_mode(model, cfg, ids)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.05)
    model.eval()
    records = read_split(task_dir, "test")
    encoded = [encode(r, load_images(r, task_dir), processor, spec, latents, with_answer=False) for r in records]
    base = model.get_base_model() if finetune == "lora" else model
    batch, roles = Collator(base, processor.tokenizer.pad_token_id, spec, None, "left").collate(encoded)
    batch.pop("labels")
    before = greedy_decode(model, batch, roles, None, 4, [processor.tokenizer.eos_token_id], ids)
    meta = {
        "backbone": NAME,
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
    reloaded, _, _ = load_trained(NAME, tmp_path / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    assert greedy_decode(reloaded, batch, roles, None, 4, [processor.tokenizer.eos_token_id], ids) == before
    assert any(before)


def test_evaluate_writes_cells(task_dir, tiny_models_dir, tmp_path):
    """(Greedy decoding = HF generate on this backbone: tests/test_training.py.)"""
    params = livr_config.load_params("params.yaml")
    cfg = replace(
        EvalConfig.resolve(params, "ci", NAME, "relative_reflectance", "zero_shot", "relative_reflectance"),
        data_dir=str(task_dir),
        dtype="float32",
        attn_implementation="sdpa",
    )
    summary = evaluate_cell(cfg, None, tmp_path / "cell.jsonl", tiny_models_dir)
    rows = [json.loads(line) for line in (tmp_path / "cell.jsonl").read_text().splitlines()]
    assert len(rows) == summary["n"] == 4
    assert summary["n_correct"] == sum(r["correct"] for r in rows)


@pytest.mark.parametrize("name", ["tiny-qwen2.5-vl", NAME])
def test_no_hub_kernels_are_requested(tiny_models_dir, monkeypatch, name):
    """transformers 5.25 kernelizes from_pretrained models with hub kernels unless use_kernels=False
    (and raises without the `kernels` package): every backbone load must say False."""
    seen = []
    cls = get_backbone(name).adapter.model_class()
    original = cls.from_pretrained.__func__

    def spy(klass, *args, **kwargs):
        seen.append(kwargs.get("use_kernels"))
        return original(klass, *args, **kwargs)

    monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    load_backbone(name, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    assert seen == [False]
