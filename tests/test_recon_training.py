"""`train: lvr` and `train: mirage` end to end on a tiny random-weight Qwen2.5-VL: every stage runs, the
language model trains, the vision tower and projector do not; a training set without the method's
field, or a recipe that would train the targets' source, is refused."""

import json
import shutil

import pytest
import torch

from livr import config as livr_config
from livr.errors import InputError
from livr.evaluate import decode_cell
from livr.model.latents import add_tokens
from livr.model.loading import load_backbone, load_trained
from livr.model.reconstruction import special_tokens, trained_decoding
from livr.settings import EvalConfig, Stage, TrainConfig, replace
from livr.train import check_inputs, train_cell

BACKBONE = "tiny-qwen2.5-vl"


@pytest.fixture(scope="module")
def recon_dir(task_dir, tmp_path_factory):
    """The synthetic task with LVR's box and Mirage's helper image on every record (a stand-in for the
    data builders' fields: the box a corner of the image, the helper the record's own image)."""
    d = tmp_path_factory.mktemp("recon") / "relative_reflectance"
    shutil.copytree(task_dir, d)
    for split in ("train", "val", "test"):
        rows = [json.loads(line) for line in (d / f"{split}.jsonl").read_text().splitlines()]
        for row in rows:
            row.update(boxes=[[0.1, 0.2, 0.45, 0.6]], helper_image=row["images"][0])
        (d / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def cfg_for(method, data_dir, **overrides):
    params = livr_config.load_params("params.yaml")
    cfg = TrainConfig.resolve(params, "ci", BACKBONE, "relative_reflectance", method, 42)
    small = dict(lr=1e-3, batch_size=4, lvr_epochs=1, mirage_stage_epochs=[1, 1], max_train_examples=8)
    return replace(cfg, data_dirs=[str(data_dir)], max_val_examples=4, **{**small, **overrides})


def test_recon_stage_plans(recon_dir):
    assert cfg_for("lvr", recon_dir, lvr_epochs=2).stages() == [Stage("lvr", 2, None, last=True, objective="lvr")]
    assert cfg_for("mirage", recon_dir, mirage_stage_epochs=[10, 10]).stages() == [
        Stage("stage1", 10, None, objective="mirage_stage1"),
        Stage("stage2", 10, None, last=True, objective="mirage_stage2"),
    ]
    assert [s.name for s in cfg_for("mirage", recon_dir, mirage_stage_epochs=[0, 3]).stages()] == ["stage2"]


@pytest.mark.parametrize(("method", "stages"), [("lvr", ["lvr"]), ("mirage", ["stage1", "stage2"])])
def test_recon_training_trains_the_language_model_only(method, stages, recon_dir, tiny_models_dir, tmp_path):
    cfg = cfg_for(method, recon_dir)
    assert cfg.finetune == "full_lm"
    check_inputs(cfg)
    meta = train_cell(cfg, tmp_path / "run", tiny_models_dir)
    assert [s["stage"] for s in meta["stages"]] == stages
    assert all(s["steps"] > 0 and s["last_val_accuracy"] is not None for s in meta["stages"])
    assert meta["recon"]["method"] == method and len(meta["recon"]["token_ids"]) == len(meta["recon"]["tokens"])
    losses = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["loss"] > 0 for r in losses if "loss" in r)
    base, _ = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    trained, processor, kept = load_trained(
        BACKBONE, tmp_path / "run" / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
    )
    b, t = dict(base.named_parameters()), dict(trained.named_parameters())
    vision = [n for n in b if n.startswith("model.visual.")]
    assert vision and all(torch.equal(t[n], b[n]) for n in vision), "vision tower and projector must stay frozen"
    layers = [n for n in b if "language_model.layers" in n]
    assert layers and all(not torch.equal(t[n], b[n]) for n in layers if n.endswith("proj.weight")), (
        "every LM projection must train"
    )
    assert kept["latents"] == [special_tokens(method)[0]]
    assert kept["latent_decoding"] == trained_decoding(method, cfg.lvr_decode_steps, cfg.mirage_latents)
    # Validation decoded as the test does: the kept weights, evaluated on the validation rows as a test
    # split, score exactly the validation accuracy the run kept them for.
    val_as_test = tmp_path / "val_as_test"
    shutil.copytree(recon_dir, val_as_test)
    shutil.copy(val_as_test / "val.jsonl", val_as_test / "test.jsonl")
    params = livr_config.load_params("params.yaml")
    ecfg = EvalConfig.resolve(params, "ci", BACKBONE, "relative_reflectance", "zero_shot", "relative_reflectance")
    ecfg = replace(ecfg, data_dir=str(val_as_test), max_test_examples=cfg.max_val_examples)
    summary = decode_cell(
        ecfg, tmp_path / "run" / "final", tmp_path / "val.jsonl", trained, processor, kept, torch.float32, 0
    )
    assert summary["accuracy"] == pytest.approx(meta["stages"][-1]["best_val_accuracy"], abs=1e-3)


@pytest.mark.parametrize(("method", "field"), [("lvr", "boxes"), ("mirage", "helper_image")])
def test_a_training_set_without_the_field_is_refused(method, field, task_dir):
    with pytest.raises(InputError, match=rf"train\.jsonl row 1 \(id .*\) has no '{field}', which this method trains"):
        check_inputs(cfg_for(method, task_dir))


def test_recon_methods_have_cells_only_where_their_field_is():
    """LVR trains on the sets that carry `boxes`, Mirage on those with `helper_image`: the cells, the
    training jobs and a job's names follow; an experiment whose sets carry neither is refused."""
    from livr.workflow.jobs import train_jobs

    params = livr_config.load_params("params.yaml")
    on = {(c.train_set, c.method) for c in livr_config.cells(params, "ci_recon")}
    assert on == {("viscot", "lvr"), ("mirage_vsp", "mirage")}
    assert {(ts, m) for _, ts, m, _ in train_jobs(params, "ci_recon")} == on
    assert {c.task for c in livr_config.cells(params, "ci_recon")} == {"mmvp", "mirage_vsp_test"}
    with pytest.raises(
        livr_config.ConfigError,
        match=r"'lvr' trains on records with 'boxes', which train set "
        r"'mirage_vsp' lacks; valid train sets for it in experiment 'ci_recon': viscot$",
    ):
        livr_config.check_cell(params, "ci_recon", BACKBONE, "mirage_vsp", "lvr")
    params["experiments"]["ci"]["methods"].append("mirage")
    with pytest.raises(
        livr_config.ConfigError,
        match=r"experiments\.ci: method 'mirage' trains on records with "
        r"'helper_image', which none of the experiment's train sets .* carries; training sets that do: mirage_vsp",
    ):
        livr_config.validate_params(params)


def test_recipes_that_would_train_the_targets_source_are_refused():
    params = livr_config.load_params("params.yaml")
    params["methods"]["lvr"] = {"train": "lvr", "finetune": "full"}
    with pytest.raises(livr_config.ConfigError, match=r"methods\.lvr: train: lvr needs finetune full_lm or lora"):
        livr_config.validate_params(params)
    params["methods"]["lvr"] = {"train": "lvr"}
    params["methods"]["mirage"] = {"train": "mirage", "finetune": "lora", "mirage_stage_epochs": [0, 0]}
    with pytest.raises(livr_config.ConfigError, match=r"mirage_stage_epochs \[0, 0\] must add up"):
        livr_config.validate_params(params)


@pytest.mark.parametrize("objective", ["lvr", "mirage_stage1", "mirage_stage2"])
def test_recon_trainer_loss_is_the_objective_on_the_filled_rows(objective, recon_dir, tiny_models_dir, tmp_path):
    """The trainer's loss equals the objective computed by hand on the same batch; in Mirage stage 2 the
    latent rows are the model's own rollout, not the targets."""
    from transformers import TrainingArguments

    from livr.data.schema import read_split
    from livr.model.backbones import get_backbone
    from livr.model.inputs import load_images
    from livr.model.recon_inputs import ReconCollator, encode_recon
    from livr.model.reconstruction import FinalHidden, LatentRows, chunk_means, roll_out_latents, special_tokens
    from livr.stage_trainer import ReconTrainer

    method = "lvr" if objective == "lvr" else "mirage"
    model, processor = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    add_tokens(model, processor, list(special_tokens(method)), seed=0)
    spec = get_backbone(BACKBONE)
    records = read_split(recon_dir, "train")[:2]
    examples = [encode_recon(r, load_images(r, recon_dir), recon_dir, processor, spec, method, 4) for r in records]
    tok = processor.tokenizer
    batch = ReconCollator(model, tok.pad_token_id, spec, tok, method)(examples)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[])
    trainer = ReconTrainer(
        model=model, args=args, backbone=model, objective=objective, lvr_loss_weight=0.1, mirage_ce_weight=0.1
    )
    model.train()
    loss = trainer.compute_loss(model, dict(batch))

    mask = batch["latent_mask"]
    inputs = {k: v for k, v in batch.items() if k not in ("latent_mask", "latent_rows") and "helper" not in k}
    with torch.no_grad():
        if objective == "lvr":
            feats = torch.cat(
                model.model.get_image_features(batch["pixel_values"], batch["image_grid_thw"]).pooler_output
            )
            targets = feats[batch["latent_rows"]]
            assert targets.shape[0] == int(mask.sum()) == 2 * len(examples[0].targets["box_tokens"])
        else:
            helper = model.model.get_image_features(batch["helper_pixel_values"], batch["helper_image_grid_thw"])
            targets = torch.cat([chunk_means(f, 4) for f in helper.pooler_output])
        if objective == "mirage_stage2":
            targets = roll_out_latents(model, model, {k: v for k, v in inputs.items() if k != "labels"}, mask, True)
        with LatentRows(model).replacing(mask, targets), FinalHidden(model).recording() as hidden:
            ce = model(**inputs).loss
        h = hidden.value[:, :-1][mask[:, 1:]]
        if objective == "lvr":
            expected = ce + 0.1 * ((h - targets) ** 2).mean()
        elif objective == "mirage_stage1":
            expected = 0.1 * ce + 1 - torch.nn.functional.cosine_similarity(h, targets).mean()
        else:
            expected = ce
    torch.testing.assert_close(loss.detach(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow  # minutes on a contended CPU: the stage-2 rollout recomputes prefixes under checkpointing
def test_mirage_with_lora_and_gradient_checkpointing(recon_dir, tiny_models_dir, tmp_path):
    """The declared deviation (LoRA; the block's token rows train through peft's trainable tokens) with
    gradient checkpointing, under which the stage-2 rollout runs without the KV cache."""
    cfg = cfg_for("mirage", recon_dir, finetune="lora", lr=5e-2, gradient_checkpointing=True)
    meta = train_cell(cfg, tmp_path / "run", tiny_models_dir)
    assert [s["stage"] for s in meta["stages"]] == ["stage1", "stage2"]
    base, _ = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    trained, processor, kept = load_trained(
        BACKBONE, tmp_path / "run" / "final", tiny_models_dir, {}, torch.float32, "sdpa", "cpu"
    )
    ids = meta["recon"]["token_ids"]
    vocab = base.get_input_embeddings().weight.shape[0]
    emb = trained.get_input_embeddings().weight
    assert torch.equal(emb[:vocab], base.get_input_embeddings().weight), "the original rows stay frozen"
    init, init_proc = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    init_rows = init.get_input_embeddings().weight[add_tokens(init, init_proc, meta["recon"]["tokens"], cfg.seed)]
    assert not torch.allclose(emb[ids], init_rows), "the block's token rows train"


def test_full_weight_bf16_runs_say_they_keep_no_fp32_master_copy():
    from livr.evaluate import precision_deviations

    assert precision_deviations({"finetune": "full_lm"}, torch.bfloat16) == [
        "bf16 weights without an fp32 master copy (updates below bf16 resolution are lost)"
    ]
    assert precision_deviations({"finetune": "full_lm"}, torch.float32) == []
    assert precision_deviations({"finetune": "lora"}, torch.bfloat16) == []  # peft keeps LoRA weights in fp32
