"""Typed, frozen settings of one training job and one evaluation job, resolved in one place.

A job's settings are params.yaml's defaults (`training:` / `evaluation:`), overridden by the
experiment's, overridden by the method's (params.yaml `methods:`). `TrainConfig.resolve` and
`EvalConfig.resolve` are the only places that merge them; Snakemake and DVC use `as_json()` of the
result as the job's rerun trigger, and `livr train` writes it as the run's config.json.

The fields of `Training` are the keys of params.yaml `training:` (tests/test_params.py checks
them against the JSON schema), so a typo is an AttributeError at the line that makes it. Every
field of every settings class carries its help text where declared (`metadata["help"]`; tests/test_settings.py).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import field
from typing import Any

from livr import config as lc
from livr.layout import Layout


def _frozen(value):
    """Lists from YAML become tuples, so a resolved config cannot be changed in place."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _json(obj) -> str:
    """Canonical JSON: the rerun trigger of both front ends and the run's config.json."""
    return json.dumps(dataclasses.asdict(obj), sort_keys=True, separators=(",", ":"))


@dataclasses.dataclass(frozen=True)
class Training:
    """params.yaml `training:`, fully resolved (each field's help says what it sets, as params.yaml's comments do)."""

    finetune: str = field(
        metadata={
            "help": (
                "What trains: lora (LoRA on the LM's attention and MLP projections, the paper's) | full (every "
                "weight; only for tiny random-weight backbones, which LoRA cannot teach) | full_lm (every language-"
                "model weight, vision tower and projector frozen: LVR's and Mirage's recipe) | prompt (only the latent "
                "tokens' embedding rows: prompt tuning)."
            )
        }
    )
    lora_r: int = field(metadata={"help": "LoRA rank."})
    lora_alpha: float = field(metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(metadata={"help": "Dropout on the LoRA branch."})
    lora_targets: tuple[str, ...] = field(metadata={"help": "Names of the LM projection modules LoRA wraps."})
    lr: float = field(metadata={"help": "AdamW peak learning rate."})
    weight_decay: float = field(metadata={"help": "AdamW weight decay."})
    adam_beta1: float = field(metadata={"help": "AdamW beta1."})
    adam_beta2: float = field(metadata={"help": "AdamW beta2."})
    adam_eps: float = field(metadata={"help": "AdamW epsilon."})
    batch_size: int = field(metadata={"help": "Examples per device step."})
    grad_accum: int = field(metadata={"help": "Steps whose gradients are accumulated into one optimizer step."})
    warmup_ratio: float = field(
        metadata={
            "help": ("Fraction of a stage's steps of linear warm-up, then cosine decay; restarted for each LIVR stage.")
        }
    )
    max_grad_norm: float = field(
        metadata={"help": ("Gradient-norm clipping threshold (NOT SPECIFIED by the paper: the HF default).")}
    )
    sft_epochs: float = field(metadata={"help": "Epochs of direct SFT (one stage, standard mask)."})
    livr_stage_epochs: tuple[float, float] = field(
        metadata={
            "help": ("LIVR epochs of stage 1 (bottleneck mask) and stage 2 (standard mask); a stage of 0 is skipped.")
        }
    )
    lvr_epochs: float = field(
        metadata={
            "help": (
                "Epochs of LVR (train: lvr; one stage). Its latent count per example is the box's merged visual "
                "tokens, not num_latents."
            )
        }
    )
    lvr_loss_weight: float = field(
        metadata={"help": "LVR: weight of the MSE between h[p-1] and the latent's box feature (LVR's 0.1)."}
    )
    lvr_decode_steps: int = field(
        metadata={
            "help": (
                "LVR at validation and test: latent steps decoded after <|lvr_start|> (its paper evaluates 4, 8 "
                "and 16; training uses the box's own count)."
            )
        }
    )
    mirage_stage_epochs: tuple[float, float] = field(
        metadata={
            "help": (
                "Mirage epochs of stage 1 (latents teacher-forced with the helper image's compressed features) and "
                "stage 2 (latents are the model's own hidden states); a stage of 0 is skipped."
            )
        }
    )
    mirage_ce_weight: float = field(
        metadata={"help": "Mirage stage 1: weight of the answer's CE beside (1 - cosine) (Mirage's 0.1)."}
    )
    mirage_latents: int = field(
        metadata={"help": "Mirage's K: latent positions per example, each a chunk mean of the helper image (4)."}
    )
    num_latents: int = field(metadata={"help": "K: LIVR's latent tokens inserted per example."})
    use_latents: bool = field(
        metadata={"help": ("false: train without latent tokens (the mask-only and image-x2 controls).")}
    )
    shared_latent: bool = field(
        metadata={"help": ("true: one learned latent embedding repeated at all K positions (ablation).")}
    )
    latent_position: str = field(
        metadata={
            "help": (
                "Where LIVR's latents go (LVR's and Mirage's block always opens the assistant turn): after_prompt "
                "(right after the assistant header, the paper's) | before_question"
                " (after the images, before the question: ablation) | start (before everything: prompt tuning's soft "
                "prompt)."
            )
        }
    )
    mask: str = field(
        metadata={"help": ("Stage-1 bottleneck mask: default | answer_only | default_plus_latent_prompt_block.")}
    )
    evals_per_epoch: int = field(
        metadata={"help": ("Validations per epoch (under the mask of the stage being trained).")}
    )
    select: str = field(
        metadata={
            "help": (
                "Checkpoint kept as final/: best_val (best validation accuracy of the last stage) | final (the last "
                "step's); the other is written to unselected/ and evaluated too."
            )
        }
    )
    max_train_examples: int | None = field(metadata={"help": "Cap on training examples; null = all."})
    max_val_examples: int | None = field(metadata={"help": "Cap on validation examples; null = all."})
    dtype: str = field(
        metadata={
            "help": ("Precision on a GPU: bfloat16 | float16 | float32 (NOT SPECIFIED by the paper; float32 on a CPU).")
        }
    )
    attn_implementation: str = field(
        metadata={
            "help": ("Attention kernel: sdpa | eager (NOT SPECIFIED; the bottleneck needs a mask-taking kernel).")
        }
    )
    gradient_checkpointing: bool = field(
        metadata={"help": ("Recompute activations in the backward pass to save memory (NOT SPECIFIED).")}
    )
    threads: int = field(metadata={"help": "CPU threads per job (jobs run side by side)."})
    dataloader_workers: int = field(
        metadata={"help": ("Processes encoding examples (images + processor) ahead of the step.")}
    )
    keep_encoded: bool = field(
        metadata={
            "help": (
                "true: keep each encoded example after first use (O(data) memory; for tiny CPU runs with "
                "dataloader_workers 0, where re-encoding costs more)."
            )
        }
    )
    image_copies: int = field(
        metadata={
            "help": (
                "Times each image is given (training and test): all the record's images in order, then again, before "
                "the question (the image-x2 control)."
            )
        }
    )
    vision_cache_mb: float | None = field(
        metadata={
            "help": (
                "Memory budget (MB) for the frozen vision features, computed once per image per training job and "
                "reused "
                "by every epoch, validation and stage, and by the passes of the job evaluating the run's checkpoint "
                "(its "
                "test-time variants); beyond it they go to a disk cache beside the run (or the predictions). null: no "
                "cache. Off by itself when a vision weight trains (livr/model/vision_cache.py)."
            )
        }
    )


TRAINING_KEYS = tuple(f.name for f in dataclasses.fields(Training))


def resolve_training(params: dict, exp: str, method: str | None = None) -> Training:
    """defaults < experiment < method (None: the experiment's own settings, e.g. for zero-shot)."""
    merged = {**params["training"], **lc.experiment(params, exp).get("training", {})}
    if method is not None:
        merged.update(lc.training_overrides(params, method))
    return Training(**{k: _frozen(v) for k, v in merged.items()})


def validation_decoding(params: dict, exp: str) -> dict:
    """The experiment's test decoding settings that validation by decoding shares."""
    merged = {**params["evaluation"], **lc.experiment(params, exp).get("evaluation", {})}
    return {k: merged[k] for k in ("batch_size", "max_new_tokens")}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(Training):
    """Everything one `livr train` job needs: the training settings and the cell."""

    experiment: str = field(metadata={"help": "The params.yaml experiment the job belongs to."})
    backbone: str = field(metadata={"help": "Backbone name (livr/model/backbones.py registry)."})
    backbone_settings: dict = field(
        metadata={"help": ("params.yaml `backbones:` entry of the backbone (the pixel budget).")}
    )
    train_set: str = field(metadata={"help": "What the model is trained on: a task or a mixture."})
    tasks: tuple[str, ...] = field(metadata={"help": "The datasets trained on (a mixture's tasks; a task itself)."})
    method: str = field(metadata={"help": "params.yaml method name."})
    seed: int = field(
        metadata={
            "help": (
                "Training seed (one of the experiment's `seeds`): data order, LoRA initialisation, latent rows and "
                "dropout."
            )
        }
    )
    train: str = field(metadata={"help": "The method's training kind: sft | livr | lvr | mirage."})
    data_dirs: tuple[str, ...] = field(metadata={"help": "Built dataset directory of each of `tasks`."})
    validation_decoding: dict | None = field(
        default=None,
        metadata={
            "help": (
                "LVR and Mirage: validation decodes greedily in latent mode, as the test does, with the experiment's "
                "evaluation batch_size and max_new_tokens; None: teacher-forced exact match (SFT, LIVR)."
            )
        },
    )

    @classmethod
    def resolve(
        cls, params: dict, exp: str | None, backbone: str, train_set: str, method: str, seed: int | str | None = None
    ) -> TrainConfig:
        """`seed`: one of the experiment's seeds (None: its only one); a Snakemake wildcard's string is read as int."""
        exp = lc.selected(params, exp)
        spec = params["methods"][method]
        if spec["train"] == "none":
            raise lc.ConfigError(f"method {method!r} does not train (train: none)")
        seed = lc.check_seed(params, exp, method, None if seed is None else int(seed))
        tasks = lc.train_data(params, exp, train_set)
        return cls(
            **dataclasses.asdict(resolve_training(params, exp, method)),
            experiment=exp,
            backbone=backbone,
            backbone_settings=lc.backbone_settings(params, backbone),
            train_set=train_set,
            tasks=tuple(tasks),
            method=method,
            seed=seed,
            train=spec["train"],
            data_dirs=tuple(lc.task_dir(params, exp, t) for t in tasks),
            validation_decoding=validation_decoding(params, exp) if spec["train"] in lc.RECON_TRAIN else None,
        )

    def stages(self) -> list[Stage]:
        """SFT: one stage. LIVR: Stage 1 under the bottleneck mask, then Stage 2 under the standard
        mask. LVR: one stage. Mirage: Stage 1 teacher-forced, Stage 2 on its own latents. A stage of 0
        epochs is skipped. Checkpoints are kept by the last stage's rule."""
        if self.train == "sft":
            plan = [Stage("sft", self.sft_epochs, None)]
        elif self.train == "lvr":
            plan = [Stage("lvr", self.lvr_epochs, None, objective="lvr")]
        elif self.train == "mirage":
            s1, s2 = self.mirage_stage_epochs
            stages = (("stage1", s1, "mirage_stage1"), ("stage2", s2, "mirage_stage2"))
            plan = [Stage(n, e, None, objective=o) for n, e, o in stages if e > 0]
        else:
            s1, s2 = self.livr_stage_epochs
            plan = [Stage(n, e, m) for n, e, m in (("stage1", s1, self.mask), ("stage2", s2, None)) if e > 0]
        return [dataclasses.replace(s, last=i == len(plan) - 1) for i, s in enumerate(plan)]

    @property
    def uses_latents(self) -> bool:
        return self.train == "livr" and self.use_latents

    @property
    def distinct_latents(self) -> int:
        """New vocabulary entries: one per latent position, or one shared by all K (`shared_latent`)."""
        return 1 if self.shared_latent else self.num_latents

    def as_json(self) -> str:
        return _json(self)


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str = field(metadata={"help": "sft | stage1 | stage2 (the stage's directory in the run)."})
    epochs: float = field(metadata={"help": "Epochs of this stage."})
    mask: str | None = field(metadata={"help": "A bottleneck variant, or None for the standard causal mask."})
    last: bool = field(default=False, metadata={"help": "The stage whose checkpoint is kept (best-val or final)."})
    objective: str = field(
        default="ce",
        metadata={
            "help": (
                "ce (the answer's cross-entropy) | lvr | mirage_stage1 | mirage_stage2 (livr/stage_trainer.py "
                "ReconTrainer)."
            )
        },
    )


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Everything one `livr evaluate` job needs. Precision, attention kernel and threads are those
    of the training run it evaluates (the experiment's, for the base model)."""

    experiment: str = field(metadata={"help": "The params.yaml experiment the job belongs to."})
    backbone: str = field(metadata={"help": "Backbone name (livr/model/backbones.py registry)."})
    backbone_settings: dict = field(
        metadata={"help": ("params.yaml `backbones:` entry of the backbone (the pixel budget).")}
    )
    train_set: str = field(metadata={"help": "What the evaluated model was trained on: a task or a mixture."})
    method: str = field(
        metadata={
            "help": ("params.yaml method name (a test-time variant names its checkpoint's method in checkpoint_of).")
        }
    )
    task: str = field(metadata={"help": "The task tested on."})
    checkpoint_method: str | None = field(
        metadata={"help": ("The method whose checkpoint is evaluated; None: the base model.")}
    )
    seed: int | None = field(metadata={"help": "The evaluated checkpoint's training seed; None: the base model."})
    unselected: bool = field(
        metadata={"help": ("Evaluate the checkpoint the run did not keep (unselected/), not final/.")}
    )
    checkpoint: str | None = field(
        metadata={"help": ("Its final/ (or unselected/) directory under the run layout; None for the base model.")}
    )
    data_dir: str = field(metadata={"help": "Built dataset directory of `task`."})
    max_new_tokens: int = field(
        metadata={"help": ("Greedy decoding length limit (NOT SPECIFIED; answers are a letter or a number).")}
    )
    batch_size: int = field(metadata={"help": "Test examples decoded per batch."})
    max_test_examples: int | None = field(metadata={"help": "Cap on test examples; null = the whole test split."})
    eval_latents: bool = field(
        metadata={"help": ("false: evaluate without the latent tokens (the no-latents analysis).")}
    )
    eval_mask: str = field(metadata={"help": "standard | bottleneck (the paper's Stage-1-mask-at-test analysis)."})
    dtype: str = field(metadata={"help": "The evaluated training run's dtype (the experiment's, for the base model)."})
    attn_implementation: str = field(
        metadata={"help": ("The evaluated training run's attention kernel (the experiment's, for the base model).")}
    )
    threads: int = field(
        metadata={"help": ("The evaluated training run's CPU threads (the experiment's, for the base model).")}
    )
    deviations: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": (
                "How the method departs from the original recipe whose numbers the paper quotes (the method's "
                "`deviations`); the comparison tables print them beside our row."
            )
        },
    )
    weights_from: str | None = field(
        default=None,
        metadata={
            "help": (
                "A released checkpoint's weights (the method's `weights_from`: a hub id or local directory), "
                "loaded with their own tokenizer instead of the backbone's; None: the backbone's or `checkpoint`."
            )
        },
    )
    latent_decoding: dict | None = field(
        default=None,
        metadata={
            "help": (
                "A released checkpoint's latent decoding (the method's `latent_decoding`: start, steps, stop, then; "
                "livr/decoding.py); a trained checkpoint's is in its own metadata."
            )
        },
    )

    @classmethod
    def resolve(
        cls,
        params: dict,
        exp: str | None,
        backbone: str,
        train_set: str,
        method: str,
        task: str,
        unselected: bool = False,
        seed: int | str | None = None,
    ) -> EvalConfig:
        """`seed`: the checkpoint's training seed (None: the experiment's only one; the base model has none)."""
        exp = lc.selected(params, exp)
        seed = lc.check_seed(params, exp, method, None if seed is None else int(seed))
        merged = {**params["evaluation"], **lc.experiment(params, exp).get("evaluation", {})}
        merged.update({k: v for k, v in params["methods"][method].items() if k in lc.EVAL_KEYS_FROM_METHOD})
        src = lc.checkpoint_method(params, method)
        if unselected and src is None:
            raise lc.ConfigError(f"method {method!r} evaluates the base model: it has no unselected checkpoint")
        training = resolve_training(params, exp, src)
        layout = Layout.of(params)
        where = layout.unselected_checkpoint_dir if unselected else layout.checkpoint_dir
        return cls(
            experiment=exp,
            backbone=backbone,
            backbone_settings=lc.backbone_settings(params, backbone),
            train_set=train_set,
            method=method,
            task=task,
            checkpoint_method=src,
            seed=seed,
            unselected=unselected,
            checkpoint=where(exp, backbone, train_set, src, seed) if src else None,
            data_dir=lc.task_dir(params, exp, task),
            **merged,
            dtype=training.dtype,
            attn_implementation=training.attn_implementation,
            threads=training.threads,
            deviations=tuple(params["methods"][method].get("deviations", ())),
            weights_from=lc.released_weights(params, method),
            latent_decoding=params["methods"][method].get("latent_decoding"),
        )

    def as_json(self) -> str:
        return _json(self)


def replace(cfg: Any, **changes) -> Any:
    """A copy of a frozen config with some fields changed (lists become tuples)."""
    return dataclasses.replace(cfg, **{k: _frozen(v) for k, v in changes.items()})
