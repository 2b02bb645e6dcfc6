"""The HF Trainer subclass and callbacks one `livr train` stage runs with (livr/train.py).

A module of its own because importing transformers' Trainer costs seconds of CPU: livr/train.py
imports this module when a stage starts, so `livr train --help` and the command's up-front checks
answer before it.

Validation is teacher-forced exact match (one forward pass), except for a method that decodes in
latent steps (LVR, Mirage: livr/decoding.py): teacher forcing would feed it the target latents, so its
validation accuracy is that of greedy decoding, the test's own code and scorer (DecodedValidation).

The LM head runs only where a label is: a training or validation step projects the few answer
positions onto the vocabulary, not all ~1,000 (LivrTrainer.compute_loss). The loss and the
teacher-forced validation accuracy are those of full logits, to float tolerance
(tests/test_training_head.py).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import torch
from transformers import Trainer, TrainerCallback

from livr.checkpoints import (
    BEST_RECORD,
    COMPLETE,
    TRAINABLE,
    WEIGHT_FILES,
    checkpoint_dirs,
    load_trainable_state,
    mark_checkpoint_complete,
    save_trainable_state,
)
from livr.data.registry import TRAINING_SETS
from livr.decoding import Decoding, decode_responses
from livr.io import write_json
from livr.model.inputs import IGNORE, labelled_positions, sequences_correct
from livr.model.reconstruction import (
    FinalHidden,
    LatentRows,
    chunk_means,
    lvr_loss,
    mirage_stage1_loss,
    roll_out_latents,
)

log = logging.getLogger("livr.train")


def argmax_logits(logits, labels):
    """Teacher-forced predictions as a [B, L] tensor aligned with `labels`, as sequences_correct reads
    them, from the logits of the labelled positions only (flattened: LivrTrainer.compute_loss)."""
    # The Trainer passes every output field it does not ignore; from transformers 5.24 that
    # includes `image_outputs`, after the logits (ModelOutput keeps its field order).
    if isinstance(logits, tuple):
        logits = logits[0]
    pred = torch.full_like(labels, IGNORE)
    pred[labelled_positions(labels)] = logits.argmax(-1)
    return pred


def exact_match_accuracy(eval_pred) -> dict:
    return {"accuracy": float(100.0 * sequences_correct(eval_pred.predictions, eval_pred.label_ids).mean())}


class DecodedValidation:
    """Validation accuracy by greedy decoding the split as a test cell decodes its test split
    (decode_responses with the same Decoding), each record scored by its task's test scorer; a
    comparison training set's record (no test scorer of its own) counts when the response is its
    trained target exactly, as teacher-forced validation counts it."""

    def __init__(self, processor, spec, items: list[tuple], how: Decoding, dtype: torch.dtype):
        self.processor, self.spec, self.items, self.how, self.dtype = processor, spec, items, how, dtype

    def responses(self, model) -> list[str]:
        return decode_responses(model, self.processor, self.spec, self.items, self.how, self.dtype)

    def accuracy(self, model) -> float:
        from livr.evaluate import scored_rows

        responses = self.responses(model)
        correct = [
            response.strip() == record.meta["target"].strip()
            if record.task in TRAINING_SETS
            else scored_rows(record.task, [record], [response])[0]["correct"]
            for (record, _), response in zip(self.items, responses)
        ]
        return 100.0 * sum(correct) / len(correct)


class LivrTrainer(Trainer):
    """Checkpoints hold the trained tensors only (LoRA + latent rows, or every weight in full
    mode) under their in-memory names, so resuming restores exactly what trains, whatever
    key renaming `save_pretrained` applies to a backbone. With `decoded_validation`, validation
    decodes (see the module's docstring) instead of the teacher-forced pass."""

    def __init__(self, *args, decoded_validation: DecodedValidation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.decoded_validation = decoded_validation

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        if self.decoded_validation is None:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        training = self.model.training
        self.model.eval()
        try:
            metrics = {f"{metric_key_prefix}_accuracy": self.decoded_validation.accuracy(self.model)}
        finally:
            self.model.train(training)
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        # The model's own causal-LM loss over the labelled positions' logits: `logits_to_keep` (a
        # boolean mask) flattens them, and `shift_labels` (the padding-free form that loss takes)
        # gives their targets in the same order.
        labels = inputs["labels"]
        keep = labelled_positions(labels)
        inputs = {**inputs, "logits_to_keep": keep, "shift_labels": labels[:, 1:][keep[:, :-1]]}
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    def _save(self, output_dir=None, state_dict=None):
        output_dir = Path(output_dir or self.args.output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        save_trainable_state(self.model, output_dir / TRAINABLE)

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        load_trainable_state(model or self.model, Path(resume_from_checkpoint) / TRAINABLE)

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if not self.args.should_save:  # data-parallel: the process that wrote the files marks them
            return
        ckpt = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
        mark_checkpoint_complete(ckpt, self.state.global_step)
        for old in checkpoint_dirs(ckpt.parent):  # prune only once the new one is whole
            if old != ckpt:
                (old / COMPLETE).unlink(missing_ok=True)
                shutil.rmtree(old, ignore_errors=True)


class LogProgress(TrainerCallback):
    """One log line per logged step and per validation, instead of the Trainer's printed dicts."""

    def __init__(self, stage: str):
        self.stage = stage

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        at = f"{self.stage} step {state.global_step}/{state.max_steps} (epoch {state.epoch or 0:.2f})"
        if "eval_accuracy" in logs:
            log.info(
                "%s: val accuracy %.2f%%, val loss %.4f", at, logs["eval_accuracy"], logs.get("eval_loss", float("nan"))
            )
        elif "loss" in logs:
            log.info(
                "%s: loss %.4f, lr %.3g, grad norm %.3g",
                at,
                logs["loss"],
                logs.get("learning_rate", float("nan")),
                logs.get("grad_norm", float("nan")),
            )


class KeepBest(TrainerCallback):
    """Keep the trained tensors of the best validation accuracy seen in this stage."""

    def __init__(self, model, stage_dir: Path):
        self.model, self.path, self.record = model, stage_dir / WEIGHT_FILES["best_val"], stage_dir / BEST_RECORD

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        acc = (metrics or {}).get("eval_accuracy")
        best = json.loads(self.record.read_text())["accuracy"] if self.record.is_file() else None
        if acc is not None and (best is None or acc > best):
            save_trainable_state(self.model, self.path)
            write_json(self.record, {"accuracy": acc, "step": state.global_step, "epoch": state.epoch})


# The batch keys a target is built from (livr/model/recon_inputs.py ReconCollator); not model inputs.
TARGET_SOURCES = ("latent_rows", "helper_pixel_values", "helper_image_grid_thw")


class ReconTrainer(LivrTrainer):
    """LVR's and Mirage's objectives (livr/model/reconstruction.py) on LivrTrainer's CE.

    Training: `lvr` and `mirage_stage1` fill the latent rows with their targets from the frozen vision
    path (no gradient: the vision tower and projector do not train) and add their latent loss to the
    CE; `mirage_stage2` fills them with the model's own rollout, CE only. Validation decodes (livr/train.py
    gives these runs a DecodedValidation): no teacher-forced latent reaches the validation accuracy.
    """

    def __init__(self, *args, backbone, objective: str, lvr_loss_weight: float, mirage_ce_weight: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.backbone, self.objective = backbone, objective
        self.lvr_loss_weight, self.mirage_ce_weight = lvr_loss_weight, mirage_ce_weight
        self.rows, self.hidden = LatentRows(backbone), FinalHidden(backbone)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        latent_mask = inputs.pop("latent_mask")
        sources = {k: inputs.pop(k) for k in TARGET_SOURCES if k in inputs}
        if self.objective == "mirage_stage2":
            model_inputs = {k: v for k, v in inputs.items() if k != "labels"}
            # gradient checkpointing turns the model's KV cache off in training: then the rollout recomputes prefixes
            use_cache = not self.args.gradient_checkpointing
            values = roll_out_latents(model, self.backbone, model_inputs, latent_mask, use_cache)
            with self.rows.replacing(latent_mask, values):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        with torch.no_grad():
            targets = self.targets(inputs, sources, latent_mask)
        with self.rows.replacing(latent_mask, targets), self.hidden.recording():
            ce, outputs = super().compute_loss(model, inputs, True, num_items_in_batch)
        if self.objective == "lvr":
            loss = lvr_loss(ce, self.hidden.value, latent_mask, targets, self.lvr_loss_weight)
        else:
            loss = mirage_stage1_loss(ce, self.hidden.value, latent_mask, targets, self.mirage_ce_weight)
        return (loss, outputs) if return_outputs else loss

    def targets(self, inputs: dict, sources: dict, latent_mask: torch.Tensor) -> torch.Tensor:
        """The latent rows' targets, [n, H] in row-major order: LVR's box tokens among the batch's image
        features; Mirage's K chunk means of each helper image's features. Through the vision cache
        when one is installed (it shadows get_image_features)."""
        features = self.backbone.model.get_image_features
        if self.objective == "lvr":
            out = features(inputs["pixel_values"], inputs["image_grid_thw"])
            return torch.cat(out.pooler_output)[sources["latent_rows"].to(inputs["pixel_values"].device)]
        out = features(sources["helper_pixel_values"], sources["helper_image_grid_thw"])
        per_row = latent_mask.sum(1).tolist()  # one helper image per example
        return torch.cat([chunk_means(f, k) for f, k in zip(out.pooler_output, per_row)])
