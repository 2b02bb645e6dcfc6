"""`livr train`: one cell, SFT, LIVR or a compared latent-reconstruction method, on the HF Trainer.

- sft:    one stage, standard mask, no latents.
- livr:   Stage 1 with the bottleneck mask, then Stage 2 with the standard mask; warm-up + cosine
          restart in each stage, and Stage 2 starts from Stage 1's final weights. Latent tokens
          are in the input in both stages.
- lvr:    one stage; the latents are teacher-forced with the box's visual tokens (+ their MSE loss).
- mirage: Stage 1 teacher-forced with the helper image's compressed tokens (+ a cosine loss), Stage 2
          on the model's own latents (livr/model/reconstruction.py, livr/stage_trainer.py ReconTrainer).
Cross-entropy is on the answer (+ end-of-turn) tokens only, in every stage; the LM head runs on
those positions alone (livr/stage_trainer.py).

Compute only what changes: where no vision weight trains (LoRA, full_lm, prompt tuning), each image's
vision features are computed once per job and reused by every epoch, validation and stage
(livr/model/vision_cache.py; `vision_cache_mb`).

Examples are encoded when a batch needs them (livr/model/encoded_split.py), by DataLoader workers
ahead of the step, so a job holds batches, not its data set.

Validation runs under the mask of the stage being trained and scores teacher-forced exact match:
a sequence counts as correct when the argmax at every labelled position is the gold token, which
is exactly when greedy decoding would produce the gold answer. One forward pass, no decoding.
LVR and Mirage validate by greedy decoding in latent mode instead (`decoded_validation`;
livr/stage_trainer.py), exactly as their test cells decode, so no teacher-forced latent reaches the
validation accuracy; their checkpoint's metadata carries that decoding (`latent_decoding`,
livr/model/reconstruction.py trained_decoding) for livr/evaluate.py.
The kept checkpoint is the best by that accuracy in the last stage (`select: best_val`) or
the last one (`select: final`); the other one is written to unselected/, so every cell is also
evaluated with it and a conclusion can be checked against checkpoint selection. The last stage
always validates at least once (at its end, if it is shorter than one validation interval). A
LIVR run needs a Stage 2 (livr/config.py refuses one without): Stage-1 validation is measured
under the bottleneck, and a checkpoint picked there would be evaluated under the standard mask.

Layout of the output directory (runs/<exp>/<backbone>/<train_set>/<method>/seed<S>/):
    config.json            the resolved settings
    <stage>/checkpoints/   Trainer checkpoints: trained tensors + optimizer, scheduler, RNG
                           (a killed job resumes from the latest complete one: see below)
    <stage>/best.*         the trained tensors at the best validation accuracy so far
    <stage>/last.safetensors   the last stage's trained tensors at its last step
    <stage>/done.json      the stage finished; its kept tensors are <stage>/trainable.safetensors
    metrics.jsonl          every logged step of every stage (loss, lr, val accuracy)
    unselected/            the model `select` did not keep (the last step's where it keeps the best
                           validation accuracy's, and the reverse), evaluated too
    final/                 the kept model (written last, atomically)

Killed jobs. Rerunning the same command resumes: finished stages (done.json) are loaded, the
running stage restarts from its latest *complete* checkpoint, and the result equals an
uninterrupted run's bit for bit on CPU (tests/test_faults.py). The Trainer writes a checkpoint
directory file by file, so each one gets `livr_complete.json` (its step and every file's size)
last; a checkpoint without a valid marker is torn and is removed, never resumed from. Older
checkpoints are pruned only after the new one is marked. If config.json differs from the
settings of the rerun, the stale stage state is discarded and training starts over.

What is loaded how on resume: trained tensors from safetensors (ours); optimizer, scheduler and
RNG states by the Trainer with torch.load(weights_only=True); trainer_state.json as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from livr import config as livr_config
from livr.checkpoints import (
    BEST_RECORD,
    STAGE_NAMES,
    TRAINABLE,
    WEIGHT_FILES,
    last_checkpoint,
    load_trainable_state,
    save_trainable_state,
)
from livr.io import atomic_dir, progress_enabled, write_json, write_jsonl
from livr.model.backbones import Backbone, get_backbone
from livr.model.encoded_split import EncodedSplit
from livr.model.inputs import Collator, latent_token_strings
from livr.model.latents import add_latent_tokens, add_tokens
from livr.model.loading import CHECKPOINT_META, FULL_WEIGHT_MODES, load_backbone, peft_wrapping, resolve_dtype
from livr.model.processors import save_processor
from livr.model.recon_inputs import ReconCollator, ReconSplit
from livr.model.reconstruction import RECON_METHODS, special_tokens, trained_decoding
from livr.model.vision_cache import VisionFeatureCache, vision_frozen
from livr.ops.distributed import effective_batch, is_main_process
from livr.ops.gpu_slots import job_device
from livr.settings import Stage, TrainConfig

if TYPE_CHECKING:
    from livr.stage_trainer import DecodedValidation

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainData:
    """What every stage trains and validates on; only the attention mask differs per stage."""

    train: EncodedSplit
    val: EncodedSplit
    model: object  # the backbone (not the peft wrapper): its rope index builds position ids
    pad_id: int
    spec: Backbone
    dtype: torch.dtype
    recon: str | None = None  # lvr | mirage: their batches carry the latent targets' sources
    tokenizer: object = None
    # Validation by greedy decoding, as the test cells decode (livr/stage_trainer.py); None: teacher forcing
    decoded_validation: DecodedValidation | None = None

    def collator(self, mask: str | None) -> Collator:
        if self.recon is not None:
            return ReconCollator(
                self.model, self.pad_id, self.spec, self.tokenizer, self.recon, padding_side="right", dtype=self.dtype
            )
        return Collator(self.model, self.pad_id, self.spec, mask, padding_side="right", dtype=self.dtype)


def is_language_model_weight(name: str) -> bool:
    """A parameter of the language model (decoder, its embeddings, the LM head), by the module names
    every registered backbone shares (model.language_model.*, lm_head.*); vision and projector are not."""
    return ".language_model." in f".{name}" or name.startswith("lm_head.")


def apply_finetune_mode(model, cfg: TrainConfig, latent_ids: list[int]):
    """LoRA on the language model's projections (+ latent rows); full fine-tuning; full fine-tuning
    of the language model with the vision tower and projector frozen (`full_lm`: the paper's Mirage
    comparison; latent rows are rows of the LM's embedding table, so they train); or prompt tuning
    (only the latent rows train)."""
    if cfg.finetune in FULL_WEIGHT_MODES:
        for name, p in model.named_parameters():
            p.requires_grad_(cfg.finetune == "full" or is_language_model_weight(name))
        return model
    from peft import LoraConfig, TrainableTokensConfig, get_peft_model

    if cfg.finetune == "prompt":
        # Prompt tuning as K soft-prompt rows of the embedding table (peft trainable tokens). peft's own
        # PromptTuningConfig prepends virtual tokens inside its forward and drops `position_ids` (peft
        # PeftModel._adjust_prompt_learning_kwargs), so M-RoPE positions and the 4D masks would not
        # follow; our tokens are ordinary input tokens, so both do.
        with peft_wrapping():
            return get_peft_model(
                model, TrainableTokensConfig(target_modules=["embed_tokens"], token_indices=latent_ids)
            )

    targets = "|".join(cfg.lora_targets)
    lora = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        # Language model only: the vision tower and projector stay frozen.
        target_modules=rf".*language_model.*\.({targets})",
        trainable_token_indices={"embed_tokens": latent_ids} if latent_ids else None,
        task_type="CAUSAL_LM",
    )
    with peft_wrapping():
        return get_peft_model(model, lora)


def stage_train_loss(history: list[dict]) -> float | None:
    """Mean training loss of a stage from its logged losses (each the mean over the steps since the
    previous log). The Trainer's own `train_loss` covers only the steps run since a resume."""
    total, steps, last = 0.0, 0, 0
    for row in history:
        if "loss" in row and "step" in row and row["step"] > last:
            total += row["loss"] * (row["step"] - last)
            steps += row["step"] - last
            last = row["step"]
    return total / steps if steps else None


def training_arguments(cfg: TrainConfig, stage: Stage, stage_dir: Path, steps_per_epoch: int, device: str):
    from transformers import TrainingArguments

    eval_steps = max(1, steps_per_epoch // cfg.evals_per_epoch)
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing.* is deprecated", category=FutureWarning)
    workers = cfg.dataloader_workers
    return TrainingArguments(
        output_dir=str(stage_dir / "checkpoints"),
        num_train_epochs=stage.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=max(cfg.batch_size, 8),
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        weight_decay=cfg.weight_decay,
        adam_beta1=cfg.adam_beta1,
        adam_beta2=cfg.adam_beta2,
        adam_epsilon=cfg.adam_eps,
        lr_scheduler_type="cosine",
        warmup_steps=cfg.warmup_ratio,  # a float < 1 is a fraction of the stage's steps
        max_grad_norm=cfg.max_grad_norm,
        eval_strategy="steps",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=eval_steps,
        save_total_limit=None,  # LivrTrainer prunes older checkpoints once the new one is whole
        logging_steps=max(1, eval_steps // 4),
        seed=cfg.seed,
        data_seed=cfg.seed,
        report_to=[],
        remove_unused_columns=False,
        dataloader_num_workers=workers,
        dataloader_persistent_workers=workers > 0,  # one fork per stage, not one per epoch and validation
        use_cpu=device == "cpu",
        bf16=device != "cpu" and cfg.dtype == "bfloat16",
        fp16=device != "cpu" and cfg.dtype == "float16",
        gradient_checkpointing=cfg.gradient_checkpointing,
        disable_tqdm=not progress_enabled(),
    )


def run_stage(model, cfg: TrainConfig, stage: Stage, data: TrainData, out_dir: Path, device: str) -> dict:
    """Train one stage (or load it, when a previous run finished it); its summary."""
    stage_dir = out_dir / stage.name
    done = stage_dir / "done.json"
    if done.is_file():
        load_trainable_state(model, stage_dir / TRAINABLE)
        summary = json.loads(done.read_text())
        log.info("%s: already done (%s), %d steps; its weights loaded", stage.name, done, summary["steps"])
        return summary
    # one optimizer step consumes per-device batch x grad_accum x world size examples
    steps_per_epoch = math.ceil(len(data.train) / effective_batch(cfg.batch_size, cfg.grad_accum))
    from livr.stage_trainer import (
        KeepBest,
        LivrTrainer,
        LogProgress,
        ReconTrainer,
        argmax_logits,
        exact_match_accuracy,
    )

    recon = {}
    if stage.objective != "ce":  # LVR's and Mirage's objectives (livr/model/reconstruction.py)
        recon = dict(
            backbone=data.model,
            objective=stage.objective,
            lvr_loss_weight=cfg.lvr_loss_weight,
            mirage_ce_weight=cfg.mirage_ce_weight,
        )
    trainer = (ReconTrainer if recon else LivrTrainer)(
        **recon,
        model=model,
        args=training_arguments(cfg, stage, stage_dir, steps_per_epoch, device),
        train_dataset=data.train,
        eval_dataset=data.val,
        data_collator=data.collator(stage.mask),
        compute_metrics=exact_match_accuracy,
        preprocess_logits_for_metrics=argmax_logits,
        callbacks=[KeepBest(model, stage_dir), LogProgress(stage.name)],
        decoded_validation=data.decoded_validation,
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # LogProgress logs instead (absent when tqdm is on)
    t0 = time.time()
    resume = last_checkpoint(stage_dir / "checkpoints")
    mask = stage.mask or "standard"
    log.info(
        "%s: start, %s epochs (about %d steps), mask %s, %d train / %d val examples%s",
        stage.name,
        stage.epochs,
        math.ceil(steps_per_epoch * stage.epochs),
        mask,
        len(data.train),
        len(data.val),
        f", resuming from {resume}" if resume else "",
    )
    trainer.train(resume_from_checkpoint=resume)
    best_file = stage_dir / BEST_RECORD
    if stage.last and not best_file.is_file():  # shorter than one validation interval: validate once at its end
        trainer.evaluate()
    history = [{"stage": stage.name, "mask": mask, **row} for row in trainer.state.log_history]
    for row in history:
        if "train_loss" in row:  # the Trainer's value covers only the steps since a resume
            row["train_loss"] = stage_train_loss(history)
    write_jsonl(stage_dir / "metrics.jsonl", history)
    evals = [r for r in history if "eval_accuracy" in r]
    best = json.loads(best_file.read_text()) if best_file.is_file() else None
    kept = "final"
    weights = None  # the last stage's: which of WEIGHT_FILES the run keeps
    if stage.last:
        save_trainable_state(model, stage_dir / WEIGHT_FILES["last"])
        weights = "best_val" if cfg.select == "best_val" else "last"
    if weights == "best_val":
        load_trainable_state(model, stage_dir / WEIGHT_FILES["best_val"])
        kept = f"best (step {best['step']})"
    summary = {
        "stage": stage.name,
        "epochs": stage.epochs,
        "mask": mask,
        "steps": trainer.state.global_step,
        "seconds": round(time.time() - t0, 2),
        "kept": kept,
        "kept_weights": weights,
        "best_val_accuracy": best["accuracy"] if best else None,
        "best_val_step": best["step"] if best else None,
        "last_val_accuracy": evals[-1]["eval_accuracy"] if evals else None,
    }
    save_trainable_state(model, stage_dir / TRAINABLE)
    write_json(done, summary)
    log.info(
        "%s: done, %d steps in %.1f s; val accuracy best %s, last %s; kept %s",
        stage.name,
        summary["steps"],
        summary["seconds"],
        summary["best_val_accuracy"],
        summary["last_val_accuracy"],
        kept,
    )
    return summary


def save_checkpoint(model, processor, meta: dict, out_dir: Path) -> None:
    """Write a loadable checkpoint (livr/model/loading.py reads it) atomically."""
    with atomic_dir(out_dir) as tmp:
        # LoRA: the peft adapter, latent rows included; full: every weight.
        model.save_pretrained(tmp)
        save_processor(processor, tmp)
        write_json(tmp / CHECKPOINT_META, meta)


def discard_stale_run(out_dir: Path, cfg: TrainConfig) -> None:
    """Stage state of a run with other settings must not be resumed: remove it (and its final/)."""
    previous = out_dir / "config.json"
    if not previous.is_file():
        return
    now = json.loads(cfg.as_json())
    try:
        before = json.loads(previous.read_text())
    except json.JSONDecodeError:
        before = {}
    if before == now:
        return
    changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    log.warning(
        "%s: settings changed since its last run (%s); discarding its stages and starting over",
        out_dir,
        ", ".join(changed) or "config.json unreadable",
    )
    for name in (*STAGE_NAMES, "final", "unselected"):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    (out_dir / "metrics.jsonl").unlink(missing_ok=True)


def open_vision_cache(backbone, cfg: TrainConfig, out_dir: Path) -> VisionFeatureCache | None:
    """The frozen vision features, computed once per image for every stage and validation of the job
    (livr/model/vision_cache.py); none where a vision weight trains or `vision_cache_mb` is null."""
    if cfg.vision_cache_mb is None:
        return None
    if not vision_frozen(backbone, is_language_model_weight):
        log.info("vision feature cache off: vision weights train (finetune %s)", cfg.finetune)
        return None
    # one disk directory per data-parallel process: each holds its own cache
    return VisionFeatureCache(backbone, cfg.vision_cache_mb, out_dir / f"vision_cache.{os.environ.get('RANK', '0')}")


def train_cell(
    cfg: TrainConfig, out_dir: str | Path, models_dir: str | Path, device: str = "cpu", threads: int | None = None
) -> dict:
    from transformers import set_seed

    out_dir = Path(out_dir)
    if threads:
        torch.set_num_threads(threads)
    set_seed(cfg.seed)
    spec = get_backbone(cfg.backbone)
    dtype = resolve_dtype(cfg.dtype, device)
    model, processor = load_backbone(
        cfg.backbone, models_dir, cfg.backbone_settings, dtype, cfg.attn_implementation, device
    )
    latent_ids, latents = [], []
    recon = cfg.train if cfg.train in RECON_METHODS else None
    if cfg.uses_latents:
        # K positions; with `shared_latent` all K hold the one new token (one trained embedding row)
        latents = latent_token_strings(cfg.distinct_latents) * (cfg.num_latents // cfg.distinct_latents)
        latent_ids = add_latent_tokens(model, processor, cfg.distinct_latents, cfg.seed)
    elif recon:
        latent_ids = add_tokens(model, processor, list(special_tokens(recon)), cfg.seed)
        latents = [special_tokens(recon)[0]]  # the block's start token ends every prompt; the decoder goes on
    splits = {
        split: encoded_split(cfg, split, processor, spec, latents, limit)
        for split, limit in (("train", cfg.max_train_examples), ("val", cfg.max_val_examples))
    }
    splits["train"][0], splits["val"][0]  # a broken record or image fails now, not inside a worker
    # Only now, with the backbone and the data read, does the run directory get written.
    if is_main_process():  # one writer under data parallelism
        discard_stale_run(out_dir, cfg)
        write_json(out_dir / "config.json", json.loads(cfg.as_json()))
    tokenizer = processor.tokenizer
    decoding = trained_decoding(recon, cfg.lvr_decode_steps, cfg.mirage_latents) if recon else None
    validation = decoded_validation(cfg, processor, spec, splits["val"], latents, latent_ids, decoding, dtype)
    data = TrainData(
        splits["train"], splits["val"], model, tokenizer.pad_token_id, spec, dtype, recon, tokenizer, validation
    )
    model = apply_finetune_mode(model, cfg, latent_ids)
    plan = cfg.stages()
    cache = open_vision_cache(data.model, cfg, out_dir)
    try:
        summaries = [run_stage(model, cfg, stage, data, out_dir, device) for stage in plan]
    finally:
        if cache is not None:
            cache.close()
    history = []
    for stage in plan:
        history += [json.loads(line) for line in (out_dir / stage.name / "metrics.jsonl").read_text().splitlines()]
    write_jsonl(out_dir / "metrics.jsonl", history)
    meta = {
        "backbone": cfg.backbone,
        "method": cfg.method,
        "train": cfg.train,
        "finetune": cfg.finetune,
        "latents": latents,
        "latent_ids": latent_ids,
        "latent_position": cfg.latent_position,
        "mask": cfg.mask,
        "image_copies": cfg.image_copies,
        # LVR / Mirage: the latent block's tokens (block start, latent, end), and how the decoder runs it
        "recon": {"method": recon, "tokens": list(special_tokens(recon)), "token_ids": latent_ids} if recon else None,
        "latent_decoding": decoding,
        "stages": summaries,
    }
    kept = summaries[-1]["kept_weights"]
    other = "last" if kept == "best_val" else "best_val"
    last_stage = out_dir / plan[-1].name
    # unselected/ first, final/ last: a finished final/ marks a finished run. The model holds the kept weights.
    load_trainable_state(model, last_stage / WEIGHT_FILES[other])
    if is_main_process():  # data-parallel ranks hold the same weights: one writer
        save_checkpoint(model, processor, {**meta, "weights": other, "selected": False}, out_dir / "unselected")
    load_trainable_state(model, last_stage / TRAINABLE)
    if is_main_process():
        save_checkpoint(model, processor, {**meta, "weights": kept, "selected": True}, out_dir / "final")
    return {**meta, "weights": kept}


def decoded_validation(cfg: TrainConfig, processor, spec, val, latents, latent_ids, decoding, dtype):
    """LVR's and Mirage's validation: greedy decoding in latent mode, as their test cells decode
    (livr/evaluate.py reads the same settings from the checkpoint); None for the others."""
    if cfg.validation_decoding is None:
        return None
    from livr.decoding import Decoding, resolve_latent_mode
    from livr.stage_trainer import DecodedValidation

    how = Decoding(
        latents=tuple(latents),
        latent_position="after_prompt",
        suppress_ids=tuple(latent_ids),
        mask=None,
        image_copies=cfg.image_copies,
        batch_size=cfg.validation_decoding["batch_size"],
        max_new_tokens=cfg.validation_decoding["max_new_tokens"],
        latent_mode=resolve_latent_mode(decoding, processor.tokenizer, f"method {cfg.method!r}"),
    )
    return DecodedValidation(processor, spec, list(val.items), how, dtype)


def encoded_split(cfg: TrainConfig, split: str, processor, spec, latents: list[str], limit: int | None):
    common = dict(limit=limit, keep=cfg.keep_encoded, image_copies=cfg.image_copies)
    if cfg.train in RECON_METHODS:
        return ReconSplit(cfg.data_dirs, split, processor, spec, cfg.train, cfg.mirage_latents, **common)
    return EncodedSplit(cfg.data_dirs, split, processor, spec, latents, cfg.latent_position, **common)


def check_inputs(cfg: TrainConfig) -> None:
    """The data, then the backbone's weights, before anything is loaded: a missing piece is one line.
    LVR and Mirage refuse a training set without the field their targets come from."""
    from livr.data.schema import read_split, require_fields
    from livr.ops.hub_weights import require_backbone_weights

    for data_dir in cfg.data_dirs:
        for split in ("train", "val"):
            records = read_split(data_dir, split)
            if cfg.train in RECON_METHODS:
                require_fields(data_dir, split, records, [livr_config.RECON_FIELD[cfg.train]])
    require_backbone_weights(cfg.backbone)


def configure(parser) -> None:
    livr_config.add_cell_arguments(
        parser, "a task or a mixture of the experiment", "a training method of params.yaml `methods:` (sft, livr, ...)"
    )
    parser.add_argument(
        "--out",
        required=True,
        help="run directory; the kept model goes to OUT/final, the other "
        "candidate (last step or best validation accuracy) to OUT/unselected",
    )


def main(args) -> int:
    params = livr_config.load_params(args.params)
    livr_config.check_cell(params, args.experiment, args.backbone, args.train_set, args.method, trained=True)
    cfg = TrainConfig.resolve(params, args.experiment, args.backbone, args.train_set, args.method, args.seed)
    check_inputs(cfg)
    with job_device(args.device) as device:
        meta = train_cell(
            cfg, args.out, args.models_dir or params["paths"]["models"], device, args.threads or cfg.threads
        )
    last = meta["stages"][-1]
    print(
        f"trained {args.backbone}/{args.train_set}/{args.method} (seed {cfg.seed}): {last['steps']} steps in the "
        "last stage, "
        f"best val accuracy {last['best_val_accuracy']}, last {last['last_val_accuracy']}; kept the {meta['weights']} "
        "weights"
    )
    return 0
