"""Image-only processors built from a tokenizer and a PIL image processor.

torchvision is not installed (it breaks imports beside the CPU torch build), so the fast
(torchvision) image and video processors that `AutoProcessor` would pick are unavailable: the
processors here take the PIL image-processor backend and `video_processor=None`. Every family
cuts images with a Qwen2-VL image processor; its processor class and temporal patch are the
family's (livr/model/family.py).
"""

from __future__ import annotations

from livr.model.family import Family
from livr.model.tiny_dims import IMAGE_SIZE, PATCH


def _image_processor(family: Family, tiny: bool, settings: dict | None, source: str | None):
    settings = settings or {}
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    if tiny:
        # Every tiny image is resized to exactly IMAGE_SIZE^2 px: 8x8 merged visual tokens.
        return Qwen2VLImageProcessorPil(
            patch_size=PATCH,
            merge_size=2,
            temporal_patch_size=family.temporal_patch_size,
            size={"shortest_edge": IMAGE_SIZE * IMAGE_SIZE, "longest_edge": IMAGE_SIZE * IMAGE_SIZE},
        )
    proc = Qwen2VLImageProcessorPil.from_pretrained(source)
    if "min_pixels" in settings or "max_pixels" in settings:
        proc.size = {
            "shortest_edge": settings.get("min_pixels", proc.size["shortest_edge"]),
            "longest_edge": settings.get("max_pixels", proc.size["longest_edge"]),
        }
    return proc


def _image_only(cls):
    """The processor class, accepting `video_processor=None` (its class check would reject it)."""

    class ImageOnlyProcessor(cls):
        def check_argument_for_proper_class(self, argument_name, argument):
            if argument is None:
                return None
            return super().check_argument_for_proper_class(argument_name, argument)

    ImageOnlyProcessor.__name__ = f"ImageOnly{cls.__name__}"
    return ImageOnlyProcessor


def save_processor(processor, out_dir) -> None:
    """Save what `load_processor` reads back: the tokenizer (with its chat template) and the image processor."""
    processor.tokenizer.save_pretrained(out_dir)
    processor.image_processor.save_pretrained(out_dir)


def image_only_processor(
    family: Family, tokenizer, tiny: bool, settings: dict | None = None, source: str | None = None
):
    return build_processor(family, tokenizer, _image_processor(family, tiny, settings, source))


def build_processor(family: Family, tokenizer, image_processor):
    return _image_only(family.processor_class())(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=None,
        chat_template=tokenizer.chat_template,
    )


def load_processor(family: Family, source: str, tiny: bool, settings: dict | None = None):
    """Processor for a saved tiny build directory or a hub id / local snapshot of a real model."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.chat_template is None and not tiny:
        # Qwen-VL repos keep the multimodal template in chat_template.json (the processor's).
        import json

        from huggingface_hub import hf_hub_download

        path = hf_hub_download(source, "chat_template.json")
        with open(path) as f:
            tokenizer.chat_template = json.load(f)["chat_template"]
    # A saved tiny build already holds its fixed image size; real models take the pixel budget.
    return image_only_processor(family, tokenizer, tiny=False, settings=None if tiny else settings, source=source)
