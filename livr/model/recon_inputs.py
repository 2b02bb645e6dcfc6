"""LVR's and Mirage's examples and batches (livr/model/reconstruction.py has their objectives).

The assistant turn opens with the method's latent block, then the answer:
    LVR:    <|lvr_start|> N x <|lvr|> <|lvr_latent_end|><|lvr_end|> answer <|im_end|>
            (N = the merged visual tokens of the record's first box, in its first image)
    Mirage: <|latent_start|> K x <|latent_pad|> <|latent_end|> answer <|im_end|>
The block is part of the input (the harness's decoder feeds it, as LIVR's latents are fed), so only
the answer and the end of turn are labelled. (The official code also labels the block's start/end
tokens, which the model emits itself at inference there.)

Where the targets come from, per batch (the trainer fills the latent rows with them):
    LVR:    `latent_rows`: indices into the batch's image features (every image's merged tokens,
            concatenated in batch order) of each latent, row-major;
    Mirage: `helper_pixel_values` / `helper_image_grid_thw`: the helper image of every example, which
            the trainer runs through the frozen vision path and compresses to K rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from PIL import Image

from livr.config import RECON_FIELD
from livr.data.schema import Record, require_fields
from livr.errors import InputError
from livr.model.encoded_split import EncodedSplit
from livr.model.inputs import Collator, Encoded, encode, load_images
from livr.model.reconstruction import box_token_indices, latent_block, latent_token

MERGE = 2  # every registered family merges 2x2 patches into one visual token


@dataclasses.dataclass
class ReconEncoded(Encoded):
    targets: dict = dataclasses.field(default_factory=dict)


def image_grid(processor, image: Image.Image) -> tuple[int, int]:
    """The image's patch grid (height, width) as the processor resizes it."""
    grid = processor.image_processor(images=[image], return_tensors="pt")["image_grid_thw"][0]
    return int(grid[1]), int(grid[2])


def encode_recon(record: Record, images, task_dir: Path, processor, spec, method: str, num_latents: int):
    if method == "lvr":
        box = record.boxes[0]
        rows = box_token_indices(box, *image_grid(processor, images[0]))
        if not rows:
            raise InputError(f"{task_dir}: record {record.id!r}: box {box} covers no visual token")
        targets = {"box_tokens": torch.tensor(rows)}
        n = len(rows)
    else:
        helper = load_images(dataclasses.replace(record, images=[record.helper_image]), task_dir)
        vision = processor.image_processor(images=helper, return_tensors="pt")
        targets = {"helper_pixel_values": vision["pixel_values"], "helper_image_grid_thw": vision["image_grid_thw"]}
        n = num_latents
    enc = encode(record, images, processor, spec, latent_block(method, n), "after_prompt")
    return ReconEncoded(**dataclasses.asdict(enc), targets=targets)


class ReconSplit(EncodedSplit):
    """A split encoded with the method's latent block and target sources (EncodedSplit's caching)."""

    def __init__(self, data_dirs, split, processor, spec, method: str, num_latents: int, **kwargs):
        super().__init__(data_dirs, split, processor, spec, [], "after_prompt", **kwargs)
        self.method, self.num_latents = method, num_latents
        for data_dir in data_dirs:
            records = [r for r, d in self.items if d == Path(data_dir)]
            require_fields(data_dir, split, records, [RECON_FIELD[method]])

    def __getitem__(self, i: int) -> ReconEncoded:
        if self.kept is not None and i in self.kept:
            return self.kept[i]
        record, data_dir = self.items[i]
        images = load_images(record, data_dir) * self.image_copies
        enc = encode_recon(record, images, data_dir, self.processor, self.spec, self.method, self.num_latents)
        if self.kept is not None:
            self.kept[i] = enc
        return enc


class ReconCollator(Collator):
    """The standard batch plus `latent_mask` [B, L] and the method's target sources (module docstring)."""

    def __init__(self, model, pad_id: int, backbone, tokenizer, method: str, **kwargs):
        super().__init__(model, pad_id, backbone, None, **kwargs)
        self.latent_id = tokenizer.convert_tokens_to_ids(latent_token(method))

    def collate(self, examples: list[ReconEncoded]):
        batch, roles = super().collate(examples)
        batch["latent_mask"] = batch["input_ids"] == self.latent_id
        if "box_tokens" in examples[0].targets:
            rows, offset = [], 0
            for e in examples:
                rows.append(e.targets["box_tokens"] + offset)
                offset += int((e.vision["image_grid_thw"].prod(-1) // MERGE**2).sum())
            batch["latent_rows"] = torch.cat(rows)
        else:
            for key in ("helper_pixel_values", "helper_image_grid_thw"):
                batch[key] = torch.cat([e.targets[key] for e in examples])
        return batch, roles
