"""Hub checkpoint weight names -> the model's names: transformers 5.25.0's conversion_mapping.py rules.

That release maps `LlavaOnevision15ForConditionalGeneration` to the `Qwen2VLForConditionalGeneration`
rules (`_MODEL_TO_CONVERSION_PATTERN`) and adds the `LlavaOnevision15Model` and
`llava_onevision1_5_vision` entries, copied here. They turn the published checkpoint's names
(`model.layers.*`, `visual.class_embedding`, `visual.merger.ln_q`, `visual.merger.mlp.0/2`, the layout
of the hub's remote code) into the class's (`model.language_model.layers.*`,
`model.visual.cls_embeddings.class_embedding`, `model.visual.merger.norm`, `.linear_fc1/2`), and back
on save. transformers applies conversion rules to a class defined outside its own package only when
they were registered by the user (`PreTrainedModel.is_custom_code`), hence `register()`.
"""

from __future__ import annotations

from transformers.conversion_mapping import register_checkpoint_conversion_mapping
from transformers.core_model_loading import PrefixChange, WeightRenaming


def rules() -> dict[str, list[WeightRenaming]]:
    return {
        "LlavaOnevision15ForConditionalGeneration": [
            WeightRenaming(source_patterns=r"^visual", target_patterns="model.visual"),
            WeightRenaming(source_patterns=r"^model(?!\.(language_model|visual))", target_patterns="model.language_model"),
        ],
        "LlavaOnevision15Model": [
            WeightRenaming(r"^model\.(?!language_model\.|visual\.)", "language_model."),
        ],
        "llava_onevision1_5_vision": [
            PrefixChange(prefix_to_remove="visual"),
            WeightRenaming(r"^class_embedding", r"cls_embeddings\.class_embedding"),
            WeightRenaming(r"^class_pos_emb", r"cls_embeddings\.class_pos_emb"),
            WeightRenaming(r"merger\.fc1\.", "merger.linear_fc1."),
            WeightRenaming(r"merger\.fc2\.", "merger.linear_fc2."),
            WeightRenaming(r"merger\.mlp\.0\.", "merger.linear_fc1."),
            WeightRenaming(r"merger\.mlp\.2\.", "merger.linear_fc2."),
            WeightRenaming(r"merger\.ln_q\.", "merger.norm."),
        ],
    }


def register() -> None:
    """Register the rules with transformers (once per process; a second call raises)."""
    for key, mapping in rules().items():
        register_checkpoint_conversion_mapping(key, mapping)
