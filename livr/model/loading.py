"""Loading backbones (tiny builds from disk, real ones from the hub) and trained checkpoints.

A finished training run writes `final/` with `livr_checkpoint.json` (what was trained: backbone,
finetune mode, latent token ids and placement, mask) beside either a peft adapter (LoRA mode, the
latent rows included) or full weights (full mode), and the tokenizer with its latent tokens.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError

from livr.errors import InputError
from livr.model.backbones import Backbone, get_backbone
from livr.model.pretrained import shipped_dir
from livr.model.processors import load_processor

CHECKPOINT_META = "livr_checkpoint.json"
FULL_WEIGHT_MODES = ("full", "full_lm")  # fine-tuning modes that save every weight, not a peft adapter
CHECKPOINT_KEYS = ("backbone", "finetune", "latents", "latent_ids", "latent_position", "mask")
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


@contextlib.contextmanager
def peft_wrapping():
    """Around peft's wrap of a model: peft 0.21 (the newest) probes `model.is_gradient_checkpointing`,
    which transformers 5.25 deprecated for `is_activation_checkpointing`, so every wrap printed a
    FutureWarning about peft's own code. Only that notice is dropped; drop this once peft reads the new name."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield


def base_model(model):
    """The model under a peft wrapper (the model itself when unwrapped): its forward signature, its
    decoder and its rope index are the backbone's."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def backbone_source(spec: Backbone, models_dir: str | Path) -> str:
    """Where to load a backbone from: the package's shipped pretrained tiny base, a tiny build's
    directory, or a hub id."""
    if spec.pretrained:
        path = shipped_dir(spec.name)
        if not (path / "config.json").is_file():
            raise InputError(
                f"{path}: pretrained tiny backbone missing; rebuild it with the command in its "
                "manifest.json (livr pretrain-tiny) or restore it from git"
            )
        return str(path)
    if spec.tiny:
        path = Path(models_dir) / spec.name
        if not (path / "config.json").is_file():
            raise InputError(
                f"{path}: tiny backbone not built; run `livr build-tiny --backbone {spec.name} --out {path}`"
            )
        return str(path)
    return spec.hf_id


def load_model(spec: Backbone, source, processor, dtype: torch.dtype, attn: str):
    """Weights from `source` (a tiny build, a hub id or a full fine-tuning checkpoint), as its family loads them."""
    return spec.adapter.load(source, processor, dtype, attn)


def resolve_dtype(name: str, device: str) -> torch.dtype:
    # bf16 matmuls on a CPU are slow and tiny models train in float32.
    return torch.float32 if device == "cpu" else DTYPES[name]


def load_backbone(name: str, models_dir, settings: dict, dtype: torch.dtype, attn: str, device: str):
    spec = get_backbone(name)
    source = backbone_source(spec, models_dir)
    processor = load_processor(spec.adapter, source, spec.tiny, settings)
    model = load_model(spec, source, processor, dtype, attn)
    return model.to(device), processor


def read_checkpoint_meta(checkpoint: str | Path) -> dict:
    path = Path(checkpoint) / CHECKPOINT_META
    if not path.is_file():
        raise InputError(f"{path}: not a finished LIVR checkpoint (no {CHECKPOINT_META}); rerun its training job")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: corrupt checkpoint metadata ({e.msg})") from None
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise InputError(f"{path}: checkpoint metadata lacks key(s) {missing}; it needs {list(CHECKPOINT_KEYS)}")
    return meta


def load_released(name: str, source: str, settings: dict, dtype: torch.dtype, attn: str, device: str):
    """A released checkpoint of backbone `name` (a hub id or local directory): the family's model class and
    processor, the tokenizer with the checkpoint's own added tokens (e.g. LVR's), never remote code."""
    spec = get_backbone(name)
    try:
        processor = load_processor(spec.adapter, source, spec.tiny, settings)
        model = load_model(spec, source, processor, dtype, attn)
    except (OSError, RuntimeError, ValueError, SafetensorError) as e:
        raise InputError(f"released weights {source} (backbone {name}): cannot load them ({e})") from None
    return model.to(device), processor


def load_trained(
    name: str,
    checkpoint,
    models_dir,
    settings: dict,
    dtype: torch.dtype,
    attn: str,
    device: str,
    weights_from: str | None = None,
):
    """(model, processor, meta) for evaluation: the base model when `checkpoint` is None, or the released
    weights `weights_from` (a hub id or local directory) in its place."""
    spec = get_backbone(name)
    if checkpoint is None:
        if weights_from is None:
            model, processor = load_backbone(name, models_dir, settings, dtype, attn, device)
        else:
            model, processor = load_released(name, weights_from, settings, dtype, attn, device)
        return (
            model.eval(),
            processor,
            {"latent_ids": [], "latents": [], "latent_position": "after_prompt", "mask": "default"},
        )
    checkpoint = Path(checkpoint)
    meta = read_checkpoint_meta(checkpoint)
    if meta["backbone"] != name:
        raise InputError(f"{checkpoint}: checkpoint is of backbone {meta['backbone']!r}, not {name!r}")
    processor = load_processor(spec.adapter, str(checkpoint), spec.tiny, settings)
    try:
        if meta["finetune"] in FULL_WEIGHT_MODES:
            model = load_model(spec, checkpoint, processor, dtype, attn)
        else:
            from peft import PeftModel

            model, _ = load_backbone(name, models_dir, settings, dtype, attn, "cpu")
            if len(processor.tokenizer) > model.get_input_embeddings().weight.shape[0]:
                model.resize_token_embeddings(len(processor.tokenizer), mean_resizing=False)
            with peft_wrapping():
                model = PeftModel.from_pretrained(model, checkpoint).merge_and_unload()
    except (OSError, RuntimeError, ValueError, SafetensorError) as e:  # SafetensorError: truncated/corrupt weights
        raise InputError(f"{checkpoint}: cannot load checkpoint ({e}); rerun its training job") from None
    return model.to(device).eval(), processor, meta
