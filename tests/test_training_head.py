"""The LM head runs only where a label is: the same loss, validation accuracy and trained weights as
full-vocabulary logits at every position, for each backbone family."""

import json

import pytest
import torch
from safetensors.torch import load_file
from test_training import cfg_for
from transformers import Trainer, TrainingArguments

import livr.stage_trainer as S
from livr.data.schema import read_split
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, latent_token_strings, load_images, sequences_correct
from livr.model.latents import add_latent_tokens
from livr.model.loading import load_backbone
from livr.settings import replace
from livr.train import train_cell

FAMILIES = ["tiny-qwen2.5-vl", "tiny-qwen3-vl", "tiny-llava-ov-1.5"]


def labelled_batch(backbone, task_dir, tiny_models_dir, mask):
    spec = get_backbone(backbone)
    model, processor = load_backbone(backbone, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    latents = latent_token_strings(4)
    add_latent_tokens(model, processor, 4, seed=0)
    records = read_split(task_dir, "train")[:3]
    encoded = [encode(r, load_images(r, task_dir), processor, spec, latents) for r in records]
    return model, Collator(model, processor.tokenizer.pad_token_id, spec, mask)(encoded)


@pytest.mark.parametrize("backbone", FAMILIES)
@pytest.mark.parametrize("mask", [None, "default"])
def test_loss_and_predictions_equal_full_logits(backbone, mask, task_dir, tiny_models_dir, tmp_path):
    model, batch = labelled_batch(backbone, task_dir, tiny_models_dir, mask)
    model.eval()
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[])
    ours, full = S.LivrTrainer(model=model, args=args), Trainer(model=model, args=args)
    labels = batch["labels"]
    n_labelled = (labels[:, 1:] != -100).sum()
    with torch.no_grad():
        for n in (None, n_labelled):  # the per-batch mean, and the sum over a gradient-accumulated count
            a, out = ours.compute_loss(model, dict(batch), return_outputs=True, num_items_in_batch=n)
            b, full_out = full.compute_loss(model, dict(batch), return_outputs=True, num_items_in_batch=n)
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert out.logits.shape == (int(n_labelled), full_out.logits.shape[-1]), "logits only at the labelled positions"
    pred, full_pred = S.argmax_logits(out.logits, labels), full_out.logits.argmax(-1)
    keep = S.labelled_positions(labels)
    assert torch.equal(pred[keep], full_pred[keep])
    assert torch.equal(sequences_correct(pred, labels), sequences_correct(full_pred, labels))


def full_logits_trainer(monkeypatch):
    """Today's path before this change: the Trainer's loss over logits at every position."""
    monkeypatch.setattr(S.LivrTrainer, "compute_loss", Trainer.compute_loss)
    monkeypatch.setattr(
        S, "argmax_logits", lambda logits, labels: (logits[0] if isinstance(logits, tuple) else logits).argmax(-1)
    )


@pytest.mark.parametrize("backbone", FAMILIES)
def test_the_same_weights_and_validation_after_training(backbone, task_dir, tiny_models_dir, tmp_path, monkeypatch):
    cfg = replace(
        cfg_for("livr", task_dir),
        backbone=backbone,
        max_train_examples=8,
        evals_per_epoch=2,
        batch_size=2,
        grad_accum=2,
    )
    runs = {}
    for name in ("full", "labelled"):
        with monkeypatch.context() as m:
            if name == "full":
                full_logits_trainer(m)
            train_cell(cfg, tmp_path / name, tiny_models_dir)
        runs[name] = {s: load_file(tmp_path / name / s / "trainable.safetensors") for s in ("stage1", "stage2")}
        runs[name]["val"] = [
            r["eval_accuracy"]
            for r in map(json.loads, (tmp_path / name / "metrics.jsonl").read_text().splitlines())
            if "eval_accuracy" in r
        ]
    assert runs["full"]["val"] == runs["labelled"]["val"] and runs["full"]["val"]
    for stage in ("stage1", "stage2"):
        a, b = runs["full"][stage], runs["labelled"][stage]
        assert a.keys() == b.keys() and a
        for k in a:
            torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=f"{stage} {k}")
