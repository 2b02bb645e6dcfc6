"""Latent-to-image attention maps (the paper's qualitative figure): where the K latent tokens look.

For one test example of a trained LIVR checkpoint, the prompt is run once with its latents under
the standard (inference) mask, in eager attention so every decoder layer computes its attention
probabilities. A forward hook on each language-model layer's `self_attn` keeps only the block
[latent queries x image keys] of that layer, averaged over heads, and drops the rest at once, so
memory stays at one layer's attention even for a real backbone with thousands of visual tokens.

Reduction (the choice the paper leaves open): mean over heads, over the chosen layers (default:
all) and over the K latent queries, giving one value per image token: the average attention
probability a latent puts on that token. Image tokens come in one contiguous run per image; each
run is reshaped to the image's token grid:

- Qwen-VL families (`image_grid_thw` in the processor output): the merged-token grid,
  (h // merge, w // merge) of the image's patch grid, row-major;
- LLaVA-OneVision (tiny path, no grid in the processor output): the base-resolution patch grid,
  (image_size // patch_size)^2 tokens at the start of the image's run; the any-res tiles and
  row-newline tokens that follow are not drawn.

The grid is upsampled bilinearly to the original image size (the processor's resize keeps the
aspect ratio up to a patch multiple) and drawn as a heat map over the image; one PNG per example
shows the images on top and the overlays below, all on one colour scale: min-max over the
example's tokens (so near-uniform attention still shows its pattern; the report prints the peak
over the mean beside each map, which says how peaked it really is).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import torch
from PIL import Image

from livr.errors import InputError
from livr.model.inputs import Collator, encode
from livr.model.loading import base_model
from livr.model.masks import IMAGE, LATENT

_DECODER_ATTN = re.compile(r"(^|\.)layers\.(\d+)\.self_attn$")


@dataclasses.dataclass
class LatentAttention:
    grids: list[np.ndarray]  # one [rows, cols] map per image: mean attention prob per token
    image_share: float  # attention mass latents put on all image tokens (0..1)
    per_layer_share: list[float]  # the same per decoder layer
    n_latents: int
    layers: list[int]  # decoder layers averaged


def attention_weights(output) -> torch.Tensor:
    """The attention probabilities [batch, heads, Lq, Lk] a self-attention module's forward returned."""
    w = output[1] if isinstance(output, tuple) and len(output) > 1 else None
    if w is None:
        raise RuntimeError("attention weights not returned; load the model with attn_implementation='eager'")
    return w


def decoder_attention_modules(model) -> list[tuple[int, torch.nn.Module]]:
    """(layer index, self-attention module) of the language model's decoder layers."""
    found = []
    for name, module in model.named_modules():
        m = _DECODER_ATTN.search(name)
        if m and "vision" not in name and "visual" not in name:
            found.append((int(m.group(2)), module))
    if not found:
        raise ValueError(f"{type(model).__name__}: no decoder `layers.N.self_attn` modules found")
    return sorted(found, key=lambda x: x[0])


def image_runs(roles: list[int]) -> list[tuple[int, int]]:
    """(start, end) of each contiguous run of image positions: one run per image."""
    runs, start = [], None
    for i, r in enumerate(roles + [None]):
        if r == IMAGE and start is None:
            start = i
        elif r != IMAGE and start is not None:
            runs.append((start, i))
            start = None
    return runs


def token_grids(model, processor, vision: dict, runs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(offset in the run, rows, cols) of the drawable token grid of each image."""
    if "image_grid_thw" in vision:
        merge = int(getattr(processor.image_processor, "merge_size", 2))
        out = []
        for (s, e), (t, h, w) in zip(runs, vision["image_grid_thw"].tolist()):
            rows, cols = h // merge, w // merge
            if t * rows * cols != e - s:
                raise ValueError(f"image run of {e - s} tokens does not match grid {t}x{rows}x{cols}")
            out.append((0, rows, cols))  # t == 1 for images: one frame
        return out
    vc = model.config.vision_config
    side = vc.image_size // vc.patch_size
    for s, e in runs:
        if e - s < side * side:
            raise ValueError(f"image run of {e - s} tokens is shorter than the {side}x{side} base grid")
    return [(0, side, side) for _ in runs]


@torch.no_grad()
def latent_image_attention(
    model, processor, spec, meta: dict, record, images: list[Image.Image], layers: list[int] | None = None
) -> LatentAttention:
    """The latent->image attention of one example (see the module docstring)."""
    if not meta.get("latents"):
        raise InputError("the checkpoint has no latent tokens (not a LIVR checkpoint with latents)")
    enc = encode(record, images, processor, spec, meta["latents"], meta["latent_position"], with_answer=False)
    base = base_model(model)
    batch, roles = Collator(base, processor.tokenizer.pad_token_id, spec, None, "left").collate([enc])
    batch.pop("labels")
    batch = {k: v.to(model.device) if torch.is_tensor(v) else v for k, v in batch.items()}
    role_list = roles[0].tolist()
    latent_pos = torch.tensor([i for i, r in enumerate(role_list) if r == LATENT])
    runs = image_runs(role_list)
    if len(runs) != len(images):
        raise ValueError(f"record {record.id!r}: {len(runs)} image token runs for {len(images)} images")
    image_pos = torch.tensor([i for s, e in runs for i in range(s, e)])
    modules = decoder_attention_modules(model)
    chosen = set(range(len(modules))) if layers is None else {i % len(modules) for i in layers}
    blocks: dict[int, torch.Tensor] = {}

    def hook_for(idx):
        def hook(module, args, output):
            w = attention_weights(output)
            # [B=1, heads, Lq, Lk] -> [latents, image tokens], mean over heads
            blocks[idx] = w[0][:, latent_pos.to(w.device)][:, :, image_pos.to(w.device)].float().mean(0).cpu()

        return hook

    handles = [m.register_forward_hook(hook_for(i)) for i, m in modules if i in chosen]
    try:
        model(**batch, use_cache=False)
    finally:
        for h in handles:
            h.remove()
    order = sorted(blocks)
    stacked = torch.stack([blocks[i] for i in order])  # [layers, latents, image tokens]
    per_token = stacked.mean(dim=(0, 1)).numpy()  # [image tokens]
    grids, offset = [], 0
    for (s, e), (start, rows, cols) in zip(runs, token_grids(base, processor, enc.vision, runs)):
        run = per_token[offset : offset + (e - s)]
        grids.append(run[start : start + rows * cols].reshape(rows, cols))
        offset += e - s
    share = stacked.sum(-1)  # [layers, latents]
    return LatentAttention(
        grids=grids,
        image_share=float(share.mean()),
        per_layer_share=[float(x) for x in share.mean(1)],
        n_latents=len(latent_pos),
        layers=order,
    )


def heat_overlay(
    image: Image.Image, grid: np.ndarray, vmin: float, vmax: float, alpha: float = 0.55, cmap: str = "inferno"
) -> Image.Image:
    """`grid` scaled to [vmin, vmax], upsampled to the image (bilinear), blended over it in a colour map."""
    from matplotlib import colormaps

    image = image.convert("RGB")
    span = vmax - vmin
    norm = np.clip((grid - vmin) / span, 0.0, 1.0) if span > 0 else np.zeros_like(grid)
    small = Image.fromarray(norm.astype(np.float32), mode="F")
    up = np.asarray(small.resize(image.size, Image.BILINEAR), dtype=np.float32)
    heat = (colormaps[cmap](np.clip(up, 0, 1))[..., :3] * 255).astype(np.uint8)
    return Image.blend(image, Image.fromarray(heat), alpha)


def example_figure(images: list[Image.Image], grids: list[np.ndarray], size: int = 224) -> Image.Image:
    """Images on the top row, their overlays below, on one colour scale for the whole example:
    its lowest token value is dark, its highest bright (min-max over all its images)."""
    vmin, vmax = min(float(g.min()) for g in grids), max(float(g.max()) for g in grids)
    tiles = []
    for im, g in zip(images, grids):
        im = im.convert("RGB")
        scale = size / max(im.size)
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.BICUBIC)
        tiles.append((im, heat_overlay(im, g, vmin, vmax)))
    gap = 4
    width = sum(t[0].width for t in tiles) + gap * (len(tiles) - 1)
    height = 2 * max(t[0].height for t in tiles) + gap
    canvas = Image.new("RGB", (width, height), "white")
    x = 0
    row = max(t[0].height for t in tiles)
    for im, ov in tiles:
        canvas.paste(im, (x, 0))
        canvas.paste(ov, (x, row + gap))
        x += im.width + gap
    return canvas
