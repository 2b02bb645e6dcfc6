"""Backbone registry: architecture facts for every supported model.

Pure data (no heavy imports) so config validation can use it. `family` selects how inputs are
built and positions computed (livr/model/inputs.py) and how the model is loaded
(livr/model/loading.py). User choices (the pixel budget) live in params.yaml. Every backbone runs
on a transformers class; none runs model code from the hub.
"""

from __future__ import annotations

import dataclasses

from livr.errors import InputError


@dataclasses.dataclass(frozen=True)
class Backbone:
    name: str
    family: str                 # qwen2_5_vl | qwen3_vl | llava_ov_1_5
    hf_id: str | None = None    # hub id of a real backbone; None for tiny offline builds
    tiny: bool = False          # built locally from config with random weights (livr build-tiny)
    pretrained: bool = False    # tiny, with weights shipped in livr/model/pretrained/<name> (livr pretrain-tiny)
    paper_backbone: str | None = None  # the paper's backbone whose numbers this one is compared with
    image_token: str = "<|image_pad|>"
    mrope: bool = True          # 3-row multimodal RoPE position ids (Qwen-VL) vs plain 1D positions
    end_of_turn: str = "<|im_end|>"


REGISTRY: dict[str, Backbone] = {
    b.name: b
    for b in [
        Backbone("qwen2.5-vl-3b", "qwen2_5_vl", hf_id="Qwen/Qwen2.5-VL-3B-Instruct", paper_backbone="qwen2.5-vl-3b"),
        Backbone("qwen2.5-vl-7b", "qwen2_5_vl", hf_id="Qwen/Qwen2.5-VL-7B-Instruct", paper_backbone="qwen2.5-vl-7b"),
        Backbone("qwen3-vl-4b", "qwen3_vl", hf_id="Qwen/Qwen3-VL-4B-Instruct", paper_backbone="qwen3-vl-4b"),
        # RICE-ViT (patch 14, 2x2 merge, temporal patch 1, one class token per image, 2D RoPE) + Qwen3
        # LM, on transformers' LlavaOnevision15ForConditionalGeneration (5.25; vendored before that:
        # livr/model/llava_ov_1_5.py). Images are Qwen2-VL-style placeholders (<|vision_start|> +
        # h*w/4 x <|image_pad|> + <|vision_end|>, image_grid_thw from a Qwen2VLImageProcessor); the LM
        # uses plain 1D RoPE and honours the position_ids it is given (mrope=False: the collator
        # passes each token's index in its unpadded sequence) and an additive 4D attention mask.
        Backbone(
            "llava-ov-1.5-4b", "llava_ov_1_5", hf_id="lmms-lab/LLaVA-OneVision-1.5-4B-Instruct",
            paper_backbone="llava-ov-1.5-4b", mrope=False,
        ),
        Backbone("tiny-qwen2.5-vl", "qwen2_5_vl", tiny=True, paper_backbone="qwen2.5-vl-3b"),
        # The same architecture pretrained on the generic corpus (livr/data/pretrain_corpus.py):
        # the demo's base, which LoRA can adapt as the paper does.
        Backbone("tiny-qwen2.5-vl-pretrained", "qwen2_5_vl", tiny=True, pretrained=True, paper_backbone="qwen2.5-vl-3b"),
        Backbone("tiny-qwen3-vl", "qwen3_vl", tiny=True, paper_backbone="qwen3-vl-4b"),
        Backbone("tiny-llava-ov-1.5", "llava_ov_1_5", tiny=True, paper_backbone="llava-ov-1.5-4b", mrope=False),
    ]
}


def get_backbone(name: str) -> Backbone:
    if name not in REGISTRY:
        raise InputError(f"unknown backbone {name!r}; valid backbones: {', '.join(REGISTRY)}")
    return REGISTRY[name]
