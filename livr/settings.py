"""Typed, frozen settings of one training job and one evaluation job, resolved in one place.

A job's settings are params.yaml's defaults (`training:` / `evaluation:`), overridden by the
experiment's, overridden by the method's (params.yaml `methods:`). `TrainConfig.resolve` and
`EvalConfig.resolve` are the only places that merge them; Snakemake and DVC use `as_json()` of the
result as the job's rerun trigger, and `livr train` writes it as the run's config.json.

The fields of `Training` are the keys of params.yaml `training:` (tests/test_params.py checks
them against the JSON schema), so a typo is an AttributeError at the line that makes it.
"""

from __future__ import annotations

import dataclasses
import json
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
    """params.yaml `training:`, fully resolved (see its comments for each key)."""

    finetune: str
    lora_r: int
    lora_alpha: float
    lora_dropout: float
    lora_targets: tuple[str, ...]
    lr: float
    weight_decay: float
    adam_beta1: float
    adam_beta2: float
    adam_eps: float
    batch_size: int
    grad_accum: int
    warmup_ratio: float
    max_grad_norm: float
    seed: int
    sft_epochs: float
    livr_stage_epochs: tuple[float, float]
    num_latents: int
    use_latents: bool
    shared_latent: bool
    latent_position: str
    mask: str
    evals_per_epoch: int
    select: str
    max_train_examples: int | None
    max_val_examples: int | None
    dtype: str
    attn_implementation: str
    gradient_checkpointing: bool
    threads: int
    dataloader_workers: int
    keep_encoded: bool
    image_copies: int
    vision_cache_mb: float | None = dataclasses.field(metadata={"help": (
        "Memory budget (MB) for the frozen vision features, computed once per image per training job and reused "
        "by every epoch, validation and stage; beyond it they go to a disk cache beside the run. null: no cache. "
        "Off by itself when a vision weight trains (livr/model/vision_cache.py)."
    )})


TRAINING_KEYS = tuple(f.name for f in dataclasses.fields(Training))


def resolve_training(params: dict, exp: str, method: str | None = None) -> Training:
    """defaults < experiment < method (None: the experiment's own settings, e.g. for zero-shot)."""
    merged = {**params["training"], **lc.experiment(params, exp).get("training", {})}
    if method is not None:
        merged.update(lc.training_overrides(params, method))
    return Training(**{k: _frozen(v) for k, v in merged.items()})


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(Training):
    """Everything one `livr train` job needs: the training settings and the cell."""

    experiment: str
    backbone: str
    backbone_settings: dict
    train_set: str
    tasks: tuple[str, ...]          # the datasets trained on (a mixture's tasks; a task or training set itself)
    method: str
    train: str  # sft | livr
    data_dirs: tuple[str, ...]

    @classmethod
    def resolve(cls, params: dict, exp: str | None, backbone: str, train_set: str, method: str) -> TrainConfig:
        exp = lc.selected(params, exp)
        spec = params["methods"][method]
        if spec["train"] == "none":
            raise lc.ConfigError(f"method {method!r} does not train (train: none)")
        tasks = lc.train_data(params, exp, train_set)
        return cls(
            **dataclasses.asdict(resolve_training(params, exp, method)),
            experiment=exp, backbone=backbone, backbone_settings=lc.backbone_settings(params, backbone),
            train_set=train_set, tasks=tuple(tasks), method=method, train=spec["train"],
            data_dirs=tuple(lc.task_dir(params, exp, t) for t in tasks),
        )

    def stages(self) -> list[Stage]:
        """SFT: one stage. LIVR: Stage 1 under the bottleneck mask, then Stage 2 under the standard
        mask; a stage of 0 epochs is skipped. Checkpoints are kept by the last stage's rule."""
        if self.train == "sft":
            plan = [Stage("sft", self.sft_epochs, None)]
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
    name: str            # sft | stage1 | stage2 (the stage's directory in the run)
    epochs: float
    mask: str | None     # a bottleneck variant, or None for the standard causal mask
    last: bool = False   # the stage whose checkpoint is kept (best-val or final)


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Everything one `livr evaluate` job needs. Precision, attention kernel and threads are those
    of the training run it evaluates (the experiment's, for the base model)."""

    experiment: str
    backbone: str
    backbone_settings: dict
    train_set: str
    method: str
    task: str
    checkpoint_method: str | None   # the method whose checkpoint is evaluated; None: the base model
    unselected: bool                # evaluate the checkpoint the run did not keep (unselected/), not final/
    checkpoint: str | None          # its final/ (or unselected/) directory under the run layout
    data_dir: str
    max_new_tokens: int
    batch_size: int
    max_test_examples: int | None
    eval_latents: bool
    eval_mask: str
    dtype: str
    attn_implementation: str
    threads: int

    @classmethod
    def resolve(cls, params: dict, exp: str | None, backbone: str, train_set: str, method: str, task: str,
                unselected: bool = False) -> EvalConfig:
        exp = lc.selected(params, exp)
        merged = {**params["evaluation"], **lc.experiment(params, exp).get("evaluation", {})}
        merged.update({k: v for k, v in params["methods"][method].items() if k in lc.EVAL_KEYS_FROM_METHOD})
        src = lc.checkpoint_method(params, method)
        if unselected and src is None:
            raise lc.ConfigError(f"method {method!r} evaluates the base model: it has no unselected checkpoint")
        training = resolve_training(params, exp, src)
        layout = Layout.of(params)
        where = layout.unselected_checkpoint_dir if unselected else layout.checkpoint_dir
        return cls(
            experiment=exp, backbone=backbone, backbone_settings=lc.backbone_settings(params, backbone),
            train_set=train_set, method=method, task=task, checkpoint_method=src, unselected=unselected,
            checkpoint=where(exp, backbone, train_set, src) if src else None,
            data_dir=lc.task_dir(params, exp, task), **merged,
            dtype=training.dtype, attn_implementation=training.attn_implementation, threads=training.threads,
        )

    def as_json(self) -> str:
        return _json(self)


def replace(cfg: Any, **changes) -> Any:
    """A copy of a frozen config with some fields changed (lists become tuples)."""
    return dataclasses.replace(cfg, **{k: _frozen(v) for k, v in changes.items()})
