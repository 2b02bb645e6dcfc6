"""A split's examples, encoded when they are used: host memory holds a batch, not a data set.

At the paper's pixel budget one image's processor output is 7-19 MB of float32 pixels, so a
training set encoded up front holds 20-100+ GB. `EncodedSplit` keeps only the records (text and
image paths) and encodes an example (images read, processor, latents, labels) in `__getitem__`,
which DataLoader workers run ahead of the training step (`dataloader_workers`, prefetching).
Encoding is deterministic, so a run trains on exactly the tensors the eager path produced.

`keep=True` memoises every encoded example after its first use: O(data set) memory, for tiny
data sets on CPUs without spare cores (the offline demo), where re-encoding every epoch would
cost more than it saves.
"""

from __future__ import annotations

from pathlib import Path

import torch

from livr.data.schema import read_split
from livr.model.inputs import Encoded, encode, load_images


class EncodedSplit(torch.utils.data.Dataset):
    def __init__(
        self,
        data_dirs,
        split: str,
        processor,
        spec,
        latents: list[str],
        latent_position: str,
        limit: int | None = None,
        keep: bool = False,
        image_copies: int = 1,
    ):
        # (record, its task directory): a mixture reads one split from each member task.
        self.items = []
        for data_dir in data_dirs:
            records = read_split(data_dir, split)
            self.items += [(r, Path(data_dir)) for r in (records[:limit] if limit else records)]
        self.processor, self.spec = processor, spec
        self.latents, self.latent_position = list(latents), latent_position
        self.kept: dict[int, Encoded] | None = {} if keep else None
        self.image_copies = image_copies  # each record's images given this many times (the image x2 control)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Encoded:
        if self.kept is not None and i in self.kept:
            return self.kept[i]
        record, data_dir = self.items[i]
        images = load_images(record, data_dir) * self.image_copies
        enc = encode(record, images, self.processor, self.spec, self.latents, self.latent_position)
        if self.kept is not None:
            self.kept[i] = enc
        return enc
