"""LLaVA-OneVision-1.5: RICE-ViT (patch 14, 2x2 merge, 2D patches, one class token per image, 2D
RoPE) + Qwen3 LM with plain 1D RoPE, on transformers' own class (transformers >= 5.25): no hub code runs.

The hub repo's own remote code does not run on transformers 5.x (import and forward errors, LM
weights left random on load, multi-image features shifted: PERFORMANCE.md), so it is never used.
transformers renames the published checkpoint's weights (the remote code's layout: `model.layers.*`,
`visual.class_embedding`, `visual.merger.ln_q`, `visual.merger.mlp.0/2`) to the class's.

Loading fails loudly instead of silently: the hub's remote-code config.json is rewritten into the
native layout, every checkpoint tensor must land on a model weight and every weight must come from
the checkpoint (transformers' loading info), the embedding table, the LM head and
`text_config.vocab_size` must agree and hold the tokenizer, the pad token must agree, and the image
processor must cut the patches the vision tower embeds.

Images are Qwen2-VL-style placeholders (<|vision_start|> + h*w/4 x <|image_pad|> + <|vision_end|>,
image_grid_thw from a Qwen2VLImageProcessor with temporal patch 1). Positions: the LM takes 1D
position ids [B, L]; with none given the model uses 0..L-1 (+ cached length) for every row
(LlavaOnevision15Model.forward), which is wrong for a left-padded row. The collator
(livr/model/inputs.py) passes each token's index in its own unpadded sequence, which is what the
model computes for that sequence alone, and an additive 4D attention mask.
"""

from __future__ import annotations

import json
import logging

from livr.errors import InputError
from livr.model.family import NO_HUB_KERNELS, Family, tiny_vision
from livr.model.tiny_dims import TinyDims

log = logging.getLogger(__name__)

# model_type of the hub repo's remote-code config (configuration_llavaonevision1_5.py) and the native one.
HUB_MODEL_TYPES = ("llavaonevision1_5", "llava_onevision1_5")


def classes():
    from transformers.models.llava_onevision1_5 import (
        LlavaOnevision15Config,
        LlavaOnevision15ForConditionalGeneration,
    )

    return LlavaOnevision15Config, LlavaOnevision15ForConditionalGeneration


def processor_class():
    from transformers import Qwen2_5_VLProcessor  # the hub repo's processor: Qwen2-VL-style image placeholders

    return Qwen2_5_VLProcessor


def tiny_config(text: dict, token_ids: dict, d: TinyDims):
    return classes()[0](
        text_config={
            "model_type": "qwen3",
            **text,
            "head_dim": d.hidden // d.heads,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
        },
        vision_config=tiny_vision(d),
        **token_ids,
        tie_word_embeddings=False,  # as the 4B's config (the class default; livr/model/configs/llava-ov-1.5-4b.json)
    )


def implementation() -> str:
    import transformers

    return f"transformers {transformers.__version__}"


def native_config_dict(raw: dict, source: str) -> dict:
    """A config.json in the hub's remote-code layout, rewritten for the native class.

    The remote config names its text part `LLaVAOneVision1_5_text` (a type transformers does not
    know; the decoder is Qwen3's: per-head q/k RMSNorm, explicit head_dim) and carries a top-level
    `vocab_size` (152064) that is not the LM head's (`text_config.vocab_size`, 151936): the native
    class sizes the head and the loss from `text_config`, so the stray value is dropped.
    """
    if raw.get("model_type") not in HUB_MODEL_TYPES:
        raise InputError(
            f"{source}: config.json has model_type {raw.get('model_type')!r}; "
            f"LLaVA-OneVision-1.5 configs have one of {', '.join(HUB_MODEL_TYPES)}"
        )
    for key in ("text_config", "vision_config"):
        if not isinstance(raw.get(key), dict):
            raise InputError(f"{source}: config.json lacks {key}")
    out = {k: v for k, v in raw.items() if k not in ("auto_map", "architectures", "vocab_size")}
    out["model_type"] = "llava_onevision1_5"
    out["text_config"] = {**raw["text_config"], "model_type": "qwen3"}
    return out


def load_pretrained(source: str, tokenizer, image_processor, dtype, attn: str):
    """The model at `source` (hub id or directory) on the native class, checked (module docstring)."""
    from transformers.utils import cached_file

    config_cls, model_cls = classes()
    with open(cached_file(source, "config.json")) as f:  # a directory or a hub id
        raw = json.load(f)
    config = config_cls.from_dict(native_config_dict(raw, source))
    # Shape mismatches are reported (with the others) by check_loading_info rather than raised bare.
    model, info = model_cls.from_pretrained(
        source,
        config=config,
        dtype=dtype,
        attn_implementation=attn,
        output_loading_info=True,
        ignore_mismatched_sizes=True,
        **NO_HUB_KERNELS,
    )
    check_loading_info(source, info)
    check_vocab_and_pad(source, model, tokenizer)
    check_image_processor(source, model, image_processor)
    log.info("LLaVA-OneVision-1.5 from %s on %s", source, implementation())
    return model


def check_loading_info(source: str, info: dict) -> None:
    problems = {
        "checkpoint tensors no weight takes (unexpected)": sorted(info["unexpected_keys"]),
        "weights the checkpoint does not provide, left at random init (missing)": sorted(info["missing_keys"]),
        "weights of another shape (mismatched)": sorted(str(k) for k in info["mismatched_keys"]),
        "errors": list(info["error_msgs"]),
    }
    found = {what: keys for what, keys in problems.items() if keys}
    if found:
        detail = "; ".join(
            f"{len(keys)} {what}: {', '.join(keys[:4])}{' ...' if len(keys) > 4 else ''}"
            for what, keys in found.items()
        )
        raise InputError(
            f"{source}: checkpoint does not load cleanly into LLaVA-OneVision-1.5 ({implementation()}): {detail}"
        )


def check_vocab_and_pad(source: str, model, tokenizer) -> None:
    text = model.config.get_text_config()
    rows_in = model.get_input_embeddings().weight.shape[0]
    rows_out = model.get_output_embeddings().weight.shape[0]
    if not rows_in == rows_out == text.vocab_size:
        raise InputError(
            f"{source}: vocabulary sizes disagree: embedding table {rows_in} rows, LM head {rows_out} rows, "
            f"text_config.vocab_size {text.vocab_size}"
        )
    if len(tokenizer) > rows_in:
        raise InputError(
            f"{source}: the tokenizer has {len(tokenizer)} tokens but the model only {rows_in} embedding rows"
        )
    pad = tokenizer.pad_token_id
    if pad is None:
        raise InputError(f"{source}: the tokenizer has no pad token; batches cannot be padded")
    if text.pad_token_id is not None and text.pad_token_id != pad:
        raise InputError(
            f"{source}: text_config.pad_token_id is {text.pad_token_id} but the tokenizer pads with "
            f"{tokenizer.pad_token!r} (id {pad})"
        )
    for cfg in (model.config, text, model.generation_config):
        cfg.pad_token_id = pad


def check_image_processor(source: str, model, image_processor) -> None:
    """RICE-ViT embeds 2D patches (Conv2d, no temporal axis) merged 2x2: the processor must cut exactly those."""
    vision = model.config.vision_config
    want = {"patch_size": vision.patch_size, "merge_size": vision.spatial_merge_size, "temporal_patch_size": 1}
    got = {k: getattr(image_processor, k, None) for k in want}
    if got != want:
        raise InputError(f"{source}: image processor cuts {got}, the vision tower needs {want}")


FAMILY = Family(
    name="llava_ov_1_5",
    classes=classes,
    processor_class=processor_class,
    tiny_config=tiny_config,
    system_prompt=True,
    temporal_patch_size=1,
    mrope=False,
    hub_config=native_config_dict,
    checked_load=load_pretrained,
)
