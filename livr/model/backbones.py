"""Backbone registry: every supported model, by name, and the family it belongs to.

Pure data (no heavy imports) so config validation can use it. `family` names the family adapter
(livr/model/families/) that builds, loads and feeds the model: its classes, processor, tiny
config, token facts and positions. User choices (the pixel budget) live in params.yaml. Every
backbone runs on a transformers class; none runs model code from the hub.
"""

from __future__ import annotations

import dataclasses

from livr.errors import InputError
from livr.model.families import get_family
from livr.model.family import Family


@dataclasses.dataclass(frozen=True)
class Backbone:
    name: str
    family: str  # a key of livr.model.families.FAMILIES
    hf_id: str | None = None  # hub id of a real backbone; None for tiny offline builds
    tiny: bool = False  # built locally from config with random weights (livr build-tiny)
    pretrained: bool = False  # tiny, with weights shipped in livr/model/pretrained/<name> (livr pretrain-tiny)
    paper_backbone: str | None = None  # the paper's backbone whose numbers this one is compared with

    @property
    def adapter(self) -> Family:
        return get_family(self.family)

    @property
    def image_token(self) -> str:
        return self.adapter.image_token

    @property
    def mrope(self) -> bool:
        """3-row multimodal RoPE position ids (Qwen-VL) vs plain 1D positions."""
        return self.adapter.mrope

    @property
    def end_of_turn(self) -> str:
        return self.adapter.end_of_turn


REGISTRY: dict[str, Backbone] = {
    b.name: b
    for b in [
        Backbone("qwen2.5-vl-3b", "qwen2_5_vl", hf_id="Qwen/Qwen2.5-VL-3B-Instruct", paper_backbone="qwen2.5-vl-3b"),
        Backbone("qwen2.5-vl-7b", "qwen2_5_vl", hf_id="Qwen/Qwen2.5-VL-7B-Instruct", paper_backbone="qwen2.5-vl-7b"),
        Backbone("qwen3-vl-4b", "qwen3_vl", hf_id="Qwen/Qwen3-VL-4B-Instruct", paper_backbone="qwen3-vl-4b"),
        Backbone(
            "llava-ov-1.5-4b",
            "llava_ov_1_5",
            hf_id="lmms-lab/LLaVA-OneVision-1.5-4B-Instruct",
            paper_backbone="llava-ov-1.5-4b",
        ),
        Backbone("tiny-qwen2.5-vl", "qwen2_5_vl", tiny=True, paper_backbone="qwen2.5-vl-3b"),
        # The same architecture pretrained on the generic corpus (livr/data/pretrain_corpus.py):
        # the demo's base, which LoRA can adapt as the paper does.
        Backbone(
            "tiny-qwen2.5-vl-pretrained", "qwen2_5_vl", tiny=True, pretrained=True, paper_backbone="qwen2.5-vl-3b"
        ),
        Backbone("tiny-qwen3-vl", "qwen3_vl", tiny=True, paper_backbone="qwen3-vl-4b"),
        Backbone("tiny-llava-ov-1.5", "llava_ov_1_5", tiny=True, paper_backbone="llava-ov-1.5-4b"),
    ]
}


def get_backbone(name: str) -> Backbone:
    if name not in REGISTRY:
        raise InputError(f"unknown backbone {name!r}; valid backbones: {', '.join(REGISTRY)}")
    return REGISTRY[name]
