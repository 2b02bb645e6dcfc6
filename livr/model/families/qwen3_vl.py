"""Qwen3-VL: ViT with learned position embeddings and DeepStack features + Qwen3 LM with interleaved M-RoPE."""

from __future__ import annotations

from livr.model.family import Family, tiny_vision
from livr.model.tiny_dims import IMAGE_SIZE, PATCH, TinyDims


def classes():
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    return Qwen3VLConfig, Qwen3VLForConditionalGeneration


def processor_class():
    from transformers import Qwen3VLProcessor

    return Qwen3VLProcessor


def tiny_config(text: dict, token_ids: dict, d: TinyDims):
    return classes()[0](
        text_config={
            **text,
            "head_dim": d.hidden // d.heads,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": [4, 6, 6],
                "mrope_interleaved": True,
            },
        },
        vision_config=dict(
            **tiny_vision(d),
            temporal_patch_size=2,
            num_position_embeddings=(IMAGE_SIZE // PATCH) ** 2,
            deepstack_visual_indexes=[0],
        ),
        **token_ids,
        tie_word_embeddings=True,
    )


# Its chat template adds no default system prompt.
FAMILY = Family(
    name="qwen3_vl",
    classes=classes,
    processor_class=processor_class,
    tiny_config=tiny_config,
    system_prompt=False,
    temporal_patch_size=2,
    mrope=True,
)
