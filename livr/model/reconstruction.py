"""LVR's and Mirage's training objectives: latent positions whose targets come from the frozen vision path.

Both methods open the assistant turn with a block of latent positions (livr/model/recon_inputs.py
lays it out) and train the language model to predict, at the position before each latent, the row
that fills it. Read from the official code (VincentLeebang/lvr @637a9f7, UMass-Embodied-AGI/Mirage
@53f26de):

- LVR: the latents are the image's merged visual tokens inside a box (`box_token_indices`, its
  dataset's `bbox_to_token_idxs`). Teacher-forced: their input rows are those tokens' projected
  features. Loss = CE + weight x MSE(h[p-1], target[p]) in fp32 (`lvr_loss`).
- Mirage Stage 1: the latents are a helper image's projected tokens cut into K contiguous chunks,
  each averaged (`chunk_means`); teacher-forced the same way. Loss = ce_weight x CE +
  (1 - cos(h[p-1], target[p])) (`mirage_stage1_loss`).
- Mirage Stage 2 (and both methods at validation, as at test): each latent's input row is the
  model's own final hidden state at the position before it, computed in sequence with gradients
  (`roll_out_latents`); CE only.

h is the language model's final post-norm hidden state. The model's forward is not rewritten:
a forward hook on the input-embedding module replaces the latent rows (`LatentRows`), another on the
language model reads h (`FinalHidden`), so every backbone family works the same way.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F

from livr.decoding import cache_kwarg, lvr_decoding, mirage_decoding

# The official special tokens: LVR's block is <|lvr_start|> N x <|lvr|> <|lvr_latent_end|><|lvr_end|>,
# Mirage's <|latent_start|> K x <|latent_pad|> <|latent_end|>; the middle token is the latent.
LVR_TOKENS = ("<|lvr_start|>", "<|lvr|>", "<|lvr_latent_end|>", "<|lvr_end|>")
MIRAGE_TOKENS = ("<|latent_start|>", "<|latent_pad|>", "<|latent_end|>")
RECON_METHODS = ("lvr", "mirage")


def special_tokens(method: str) -> tuple[str, ...]:
    return LVR_TOKENS if method == "lvr" else MIRAGE_TOKENS


def latent_token(method: str) -> str:
    return special_tokens(method)[1]


def latent_block(method: str, n: int) -> list[str]:
    """The tokens that open the assistant turn: the method's start token, n latents, its end token(s)."""
    tokens = special_tokens(method)
    return [tokens[0], *[tokens[1]] * n, *tokens[2:]]


def trained_decoding(method: str, lvr_steps: int, mirage_latents: int) -> dict:
    """How a model this harness trained decodes (its checkpoint's `latent_decoding`): the block's start
    token ends the prompt, then a fixed number of latent steps, then the block's end token(s) are fed.
    Training feeds the whole block and labels only the answer, so the model never learnt to emit the
    end tokens (the official runs label them, and decode until the model does): LVR decodes
    `lvr_steps` latents (training used each box's own count), Mirage its K, as in training."""
    if method == "lvr":
        return {**lvr_decoding(lvr_steps), "then": list(LVR_TOKENS[2:])}
    return {**mirage_decoding(mirage_latents), "stop": None}


def box_token_indices(box, grid_h: int, grid_w: int) -> list[int]:
    """LVR's box -> the merged visual tokens it covers, row-major in the image's merged grid.

    `box` is [x0, y0, x1, y1] normalised to [0, 1] of the image; `grid_h` x `grid_w` is the image's
    patch grid as the processor resized it (image_grid_thw[1:]). The box goes to the patch grid with
    floor (start) / ceil (end), clamped, then to the 2x2-merged grid: start // 2, end rounded up.
    """
    x0, y0, x1, y1 = box
    px0 = max(0, min(math.floor(x0 * grid_w), grid_w - 1))
    px1 = max(0, min(math.ceil(x1 * grid_w), grid_w))
    py0 = max(0, min(math.floor(y0 * grid_h), grid_h - 1))
    py1 = max(0, min(math.ceil(y1 * grid_h), grid_h))
    merged_w = grid_w // 2
    return [y * merged_w + x for y in range(py0 // 2, (py1 + 1) // 2) for x in range(px0 // 2, (px1 + 1) // 2)]


def chunk_means(features: torch.Tensor, k: int) -> torch.Tensor:
    """Mirage's compression of a helper image's tokens [N, H] to k rows: k contiguous chunks of N // k
    tokens, each averaged (the N mod k last tokens are dropped, as Mirage does)."""
    n = features.shape[0]
    if n < k:
        raise ValueError(f"the helper image has {n} visual tokens, fewer than the {k} latents to fill")
    size = n // k
    return features[: size * k].reshape(k, size, -1).mean(1)


def teacher_force(embeds: torch.Tensor, latent_mask: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """`embeds` [B, L, H] with the rows at `latent_mask` [B, L] replaced by `targets` [n, H], in
    row-major order of the mask; every other row unchanged. Out of place, so gradients reach both."""
    if int(latent_mask.sum()) != targets.shape[0]:
        raise ValueError(f"{int(latent_mask.sum())} latent positions but {targets.shape[0]} target rows")
    out = embeds.clone()
    out[latent_mask] = targets.to(embeds.dtype)
    return out


def predictions_of(hidden: torch.Tensor, latent_mask: torch.Tensor) -> torch.Tensor:
    """h[p-1] for every latent position p, row-major: [n, H]. A latent is never a sequence's first token."""
    return hidden[:, :-1][latent_mask[:, 1:]]


def lvr_loss(ce, hidden, latent_mask, targets, weight: float) -> torch.Tensor:
    """CE + weight x MSE(h[p-1], target[p]), the MSE in fp32 (LVR's monkey_patch_forward_lvr.py, lvr_trainer.py)."""
    mse = F.mse_loss(predictions_of(hidden, latent_mask).float(), targets.float())
    return ce + weight * mse


def mirage_stage1_loss(ce, hidden, latent_mask, targets, ce_weight: float) -> torch.Tensor:
    """ce_weight x CE + (1 - mean cos(h[p-1], target[p])) (Mirage's src/trainer.py)."""
    cos = F.cosine_similarity(targets.to(hidden.dtype), predictions_of(hidden, latent_mask)).mean()
    return ce_weight * ce + (1 - cos)


class LatentRows:
    """A forward hook on the input-embedding module: while `replacing`, the rows at `mask` (the
    columns of the positions fed) become `values`. The image placeholders are filled after it, from
    input_ids, as without the hook."""

    def __init__(self, backbone):
        self.backbone = backbone

    @contextlib.contextmanager
    def replacing(self, mask: torch.Tensor, values: torch.Tensor):
        def hook(module, args, output):
            return teacher_force(output, mask.to(output.device), values.to(output.device))

        handle = self.backbone.get_input_embeddings().register_forward_hook(hook)
        try:
            yield
        finally:
            handle.remove()


class FinalHidden:
    """A forward hook on the language model (every family's `model.language_model`): the final
    post-norm hidden state [B, L, H] of the last forward, as the LM head reads it."""

    def __init__(self, backbone):
        self.backbone = backbone
        self.value = None

    @contextlib.contextmanager
    def recording(self):
        def hook(module, args, output):
            self.value = output[0]

        handle = self.backbone.model.language_model.register_forward_hook(hook)
        try:
            yield self
        finally:
            handle.remove()


SEQUENCE_INPUTS = ("input_ids", "attention_mask", "mm_token_type_ids", "position_ids")


def _columns(inputs: dict, start: int, stop: int, past) -> dict:
    """The model inputs of positions [start, stop): sequence tensors sliced (the attention mask from 0:
    the cached keys are in it), the images only with the first segment, which holds them all."""
    out = {}
    for key, value in inputs.items():
        if key == "attention_mask":
            out[key] = value[:, :stop]
        elif key in SEQUENCE_INPUTS:
            out[key] = value[..., start:stop]
        elif past is None:
            out[key] = value
    return out


def roll_out_latents(model, backbone, inputs: dict, latent_mask: torch.Tensor, use_cache: bool) -> torch.Tensor:
    """Each latent's input row = the final hidden state at the position before it, with every earlier
    latent of the row already filled the same way: [n, H] in row-major order of `latent_mask`, with
    gradients. `inputs` are the collator's model inputs (standard mask, no labels).

    Without the cache: one full forward per latent index (causal: the unfilled later rows do not reach
    h[p-1]). With it: the prefix up to the batch's first latent once, then one position at a time up
    to its last latent, reusing the keys and values (gradients flow through them). Both give the same
    rows (tests/model/test_reconstruction.py); gradient checkpointing turns the model's cache off, so
    the caller picks the cache only without it.
    """
    rollout = _Rollout(model, backbone, inputs, latent_mask, use_cache)
    positions = [row.nonzero().flatten().tolist() for row in latent_mask]
    if not use_cache:
        for i in range(max(len(p) for p in positions)):
            h, _ = rollout.run(0, latent_mask.shape[1], None)
            rollout.found.update({(b, ps[i]): h[b, ps[i] - 1] for b, ps in enumerate(positions) if i < len(ps)})
    else:
        first, last = min(p[0] for p in positions), max(p[-1] for p in positions)
        h, past = rollout.run(0, first, None)
        rollout.found.update({(b, first): h[b, -1] for b, ps in enumerate(positions) if ps[0] == first})
        for t in range(first, last):
            h, past = rollout.run(t, t + 1, past)
            rollout.found.update({(b, t + 1): h[b, 0] for b in latent_mask[:, t + 1].nonzero().flatten().tolist()})
    return torch.stack([rollout.found[(b, p)] for b, p in latent_mask.nonzero().tolist()])


class _Rollout:
    """roll_out_latents' state: the latent rows found so far, and one forward over some positions with them."""

    def __init__(self, model, backbone, inputs, latent_mask, use_cache):
        self.model, self.backbone, self.inputs = model, backbone, inputs
        self.latent_mask, self.use_cache = latent_mask, use_cache
        self.found: dict[tuple[int, int], torch.Tensor] = {}
        self.rows, self.hidden = LatentRows(backbone), FinalHidden(backbone)
        self.cache_name = cache_kwarg(backbone)

    def run(self, start: int, stop: int, past):
        """The final hidden states of positions [start, stop) (after `past`, which holds [0, start)), with
        the latent rows found so far in place; and the cache."""
        mask = torch.zeros_like(self.latent_mask)
        for b, p in self.found:
            if start <= p < stop:
                mask[b, p] = True
        values = [self.found[(b, p)] for b, p in mask.nonzero().tolist()]
        width = self.backbone.get_input_embeddings().weight.shape[1]
        values = torch.stack(values) if values else torch.zeros(0, width)
        with self.rows.replacing(mask[:, start:stop], values), self.hidden.recording():
            args = {**_columns(self.inputs, start, stop, past), self.cache_name: past}
            out = self.model(**args, use_cache=self.use_cache, logits_to_keep=1)
        return self.hidden.value, out.get(self.cache_name) if self.use_cache else None
