"""Sizes and geometry of the tiny builds, shared by the builder, the family adapters and the processors."""

import dataclasses

PATCH = 7  # vision patch; with the 2x2 merge one visual token covers 14x14 px
IMAGE_SIZE = 112  # tiny images are resized to this square: 8x8 = 64 visual tokens


@dataclasses.dataclass(frozen=True)
class TinyDims:
    """Sizes of a tiny build; the defaults are the random test/demo builds (`livr pretrain-tiny`
    passes its own). LM head dim hidden/heads must be 32 (the tiny M-RoPE sections in
    livr/model/families/ sum to 16)."""

    vocab: int = 2048
    hidden: int = 128
    layers: int = 3
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 256
    vision_hidden: int = 64
    vision_depth: int = 1


DIMS = TinyDims()
