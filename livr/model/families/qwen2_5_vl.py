"""Qwen2.5-VL: windowed ViT (patch 14, 2x2 merge, video-style temporal patch 2) + Qwen2 LM with M-RoPE."""

from __future__ import annotations

from livr.model.family import Family, tiny_vision
from livr.model.tiny_dims import IMAGE_SIZE, TinyDims


def classes():
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    return Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration


def processor_class():
    from transformers import Qwen2_5_VLProcessor

    return Qwen2_5_VLProcessor


def tiny_config(text: dict, token_ids: dict, d: TinyDims):
    return classes()[0](
        text_config={
            **text,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 6, 6]},
        },
        vision_config=dict(
            **tiny_vision(d), temporal_patch_size=2, window_size=IMAGE_SIZE, fullatt_block_indexes=[d.vision_depth - 1]
        ),
        **token_ids,
        tie_word_embeddings=True,  # as Qwen2.5-VL-3B
    )


FAMILY = Family(
    name="qwen2_5_vl",
    classes=classes,
    processor_class=processor_class,
    tiny_config=tiny_config,
    system_prompt=True,
    temporal_patch_size=2,
    mrope=True,
)
