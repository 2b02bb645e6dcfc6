"""The adapter of a backbone family: everything that differs between architectures, in one object.

A family (Qwen2.5-VL, Qwen3-VL, LLaVA-OneVision-1.5) is one module in livr/model/families/ that
defines a `FAMILY = Family(...)`, registered in livr/model/families/__init__.py. The backbones of
livr/model/backbones.py name their family; the tiny builder (tiny.py), the real-size builder
(real_configs.py), the processors (processors.py), the loader (loading.py) and the collator
(inputs.py, through `Backbone.mrope`) ask the family instead of branching on its name.

Pure data and functions: transformers is imported only when a class is asked for.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from livr.model.tiny_dims import PATCH, TinyDims

# transformers 5.25 swaps layers for kernels downloaded from the hub unless told not to (use_kernels
# defaults to True): no hub code runs here, and without the `kernels` package from_pretrained would raise.
NO_HUB_KERNELS = {"use_kernels": False}
# Config keys of the image placeholder tokens and the tokens they name (Qwen2-VL's, which every family uses).
PLACEHOLDER_TOKENS = {
    "image_token_id": "<|image_pad|>",
    "video_token_id": "<|video_pad|>",
    "vision_start_token_id": "<|vision_start|>",
    "vision_end_token_id": "<|vision_end|>",
}


@dataclasses.dataclass(frozen=True)
class Family:
    name: str  # Backbone.family of its backbones; model configs' "family"
    classes: Callable[[], tuple[type, type]]  # () -> (config class, model class), imported on first use
    processor_class: Callable[[], type]  # () -> the transformers processor class (tokenizer + images)
    tiny_config: Callable[[dict, dict, TinyDims], Any]  # (text dims, token ids, dims) -> config of a tiny build
    system_prompt: bool  # the chat template adds a default system prompt (the tiny builds' template copies it)
    temporal_patch_size: int  # the image processor's frames per patch: 2 (Qwen-VL) or 1 (2D patches)
    mrope: bool  # 3-row multimodal RoPE position ids from the model's get_rope_index, else plain 1D
    image_token: str = "<|image_pad|>"
    end_of_turn: str = "<|im_end|>"
    # (hub config.json dict, source) -> the dict the config class reads; None: read as published.
    hub_config: Callable[[dict, str], dict] | None = None
    # (source, tokenizer, image processor, dtype, attn) -> a model whose loading was checked; None: from_pretrained.
    checked_load: Callable[..., Any] | None = None

    def config_class(self) -> type:
        return self.classes()[0]

    def model_class(self) -> type:
        return self.classes()[1]

    def real_config(self, model: dict, text: dict, common: dict, source: str):
        """The config of a real-size build: `model` as shipped (livr/model/configs/), its text part
        `text` and the head/token settings `common` already replaced."""
        if self.hub_config is not None:
            return self.config_class().from_dict(self.hub_config({**model, "text_config": text, **common}, source))
        return self.config_class()(text_config=text, vision_config=model["vision_config"], **common)

    def load(self, source, processor, dtype, attn: str):
        """Weights from `source` (a tiny build, a hub id or a full fine-tuning checkpoint)."""
        if self.checked_load is not None:
            return self.checked_load(str(source), processor.tokenizer, processor.image_processor, dtype, attn)
        return self.model_class().from_pretrained(source, dtype=dtype, attn_implementation=attn, **NO_HUB_KERNELS)


def tiny_vision(d: TinyDims) -> dict:
    """The vision-tower sizes every tiny build shares: one visual token per 2x2 merged 7 px patches."""
    return dict(
        depth=d.vision_depth,
        hidden_size=d.vision_hidden,
        num_heads=4,
        intermediate_size=2 * d.vision_hidden,
        patch_size=PATCH,
        spatial_merge_size=2,
        out_hidden_size=d.hidden,
    )
