"""Loading backbones (tiny builds from disk, real ones from the hub) and trained checkpoints.

A finished training run writes `final/` with `livr_checkpoint.json` (what was trained: backbone,
finetune mode, latent token ids and placement, mask) beside either a peft adapter (LoRA mode, the
latent rows included) or full weights (full mode), and the tokenizer with its latent tokens.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError

from livr.model.backbones import Backbone, get_backbone
from livr.model.pretrained import shipped_dir
from livr.model.processors import load_processor

CHECKPOINT_META = "livr_checkpoint.json"
CHECKPOINT_KEYS = ("backbone", "finetune", "latents", "latent_ids", "latent_position", "mask")
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def model_class(spec: Backbone):
    if spec.family == "qwen2_5_vl":
        from transformers import Qwen2_5_VLForConditionalGeneration as cls
    elif spec.family == "qwen3_vl":
        from transformers import Qwen3VLForConditionalGeneration as cls
    elif spec.family == "llava_onevision":
        from transformers import LlavaOnevisionForConditionalGeneration as cls
    else:  # remote-code families
        from transformers import AutoModelForCausalLM as cls
    return cls


def backbone_source(spec: Backbone, models_dir: str | Path, settings: dict) -> str:
    """Where to load a backbone from; refuses remote code without the explicit opt-in."""
    if spec.pretrained:
        path = shipped_dir(spec.name)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: pretrained tiny backbone missing; rebuild it with the command in its "
                                    "manifest.json (livr pretrain-tiny) or restore it from git")
        return str(path)
    if spec.tiny:
        path = Path(models_dir) / spec.name
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: tiny backbone not built; run `livr build-tiny --backbone {spec.name} --out {path}`")
        return str(path)
    if spec.remote_code and not settings.get("trust_remote_code", False):
        raise ValueError(
            f"backbone {spec.name!r} ({spec.hf_id}) runs model code from the hub; set "
            f"backbones.{spec.name}.trust_remote_code: true in params.yaml to allow it"
        )
    return spec.hf_id


def resolve_dtype(name: str, device: str) -> torch.dtype:
    # bf16 matmuls on a CPU are slow and tiny models train in float32.
    return torch.float32 if device == "cpu" else DTYPES[name]


def load_backbone(name: str, models_dir, settings: dict, dtype: torch.dtype, attn: str, device: str):
    spec = get_backbone(name)
    source = backbone_source(spec, models_dir, settings)
    trust = bool(settings.get("trust_remote_code", False))
    model = model_class(spec).from_pretrained(source, dtype=dtype, attn_implementation=attn, trust_remote_code=trust)
    processor = load_processor(spec.family, source, spec.tiny, settings, trust_remote_code=trust)
    return model.to(device), processor


def read_checkpoint_meta(checkpoint: str | Path) -> dict:
    path = Path(checkpoint) / CHECKPOINT_META
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a finished LIVR checkpoint (no {CHECKPOINT_META}); rerun its training job")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: corrupt checkpoint metadata ({e.msg})") from None
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise ValueError(f"{path}: checkpoint metadata lacks key(s) {missing}; it needs {list(CHECKPOINT_KEYS)}")
    return meta


def load_trained(name: str, checkpoint, models_dir, settings: dict, dtype: torch.dtype, attn: str, device: str):
    """(model, processor, meta) for evaluation: the base model when `checkpoint` is None."""
    spec = get_backbone(name)
    if checkpoint is None:
        model, processor = load_backbone(name, models_dir, settings, dtype, attn, device)
        return model.eval(), processor, {"latent_ids": [], "latents": [], "latent_position": "after_prompt", "mask": "default"}
    checkpoint = Path(checkpoint)
    meta = read_checkpoint_meta(checkpoint)
    if meta["backbone"] != name:
        raise ValueError(f"{checkpoint}: checkpoint is of backbone {meta['backbone']!r}, not {name!r}")
    trust = bool(settings.get("trust_remote_code", False))
    processor = load_processor(spec.family, str(checkpoint), spec.tiny, settings, trust_remote_code=trust)
    try:
        if meta["finetune"] == "full":
            model = model_class(spec).from_pretrained(checkpoint, dtype=dtype, attn_implementation=attn, trust_remote_code=trust)
        else:
            from peft import PeftModel

            model, _ = load_backbone(name, models_dir, settings, dtype, attn, "cpu")
            if len(processor.tokenizer) > model.get_input_embeddings().weight.shape[0]:
                model.resize_token_embeddings(len(processor.tokenizer), mean_resizing=False)
            model = PeftModel.from_pretrained(model, checkpoint).merge_and_unload()
    except (OSError, RuntimeError, ValueError, SafetensorError) as e:  # SafetensorError: truncated/corrupt weights
        raise ValueError(f"{checkpoint}: cannot load checkpoint ({e}); rerun its training job") from None
    return model.to(device).eval(), processor, meta
