"""Attention masks: the standard causal mask and LIVR's Stage-1 visual bottleneck.

Every position of a sequence has a role (livr/model/inputs.py). The bottleneck is the causal
mask plus blocks on image keys:

- `default` (the paper's): every non-image, non-latent token after the first image token (the
  answer, the question, template tokens, `<|vision_end|>`, text between images) may not attend to
  image tokens. Any of them that could see the image would carry it forward to the answer.
  Latent tokens keep the full causal mask: they see the image and the prompt.
- `answer_only` (ablation): only answer tokens are cut off from the image (leaks through the
  post-image prompt).
- `default_plus_latent_prompt_block` (ablation): `default`, and latents may not attend to text
  tokens either (only to image tokens and earlier latents).

Masks are additive floats [B, 1, L, L] (0 = attend, dtype-min = blocked): some eager attention
paths add a boolean mask instead of applying it.
"""

from __future__ import annotations

import torch

from livr.errors import InputError

PAD, TEXT, IMAGE, LATENT, POST, ANSWER = -1, 0, 1, 2, 3, 4
MASK_VARIANTS = ("default", "answer_only", "default_plus_latent_prompt_block")


def answer_predictor_index(roles: torch.Tensor) -> int:
    """The position whose logits predict the first answer token: the one before it (labels are
    shifted by one), i.e. the last latent when the latents follow the prompt, else the last prompt
    token. ANSWER-role positions predict the answer's later tokens and the end of turn."""
    return int((roles == ANSWER).nonzero()[0]) - 1


def allowed_attention(roles: torch.Tensor, variant: str | None) -> torch.Tensor:
    """Boolean [B, Lq=L, Lk=L]: may query i attend key j. `variant=None` is the standard mask."""
    if variant is not None and variant not in MASK_VARIANTS:
        raise InputError(f"unknown mask variant {variant!r}; valid: {', '.join(MASK_VARIANTS)}")
    B, L = roles.shape
    causal = torch.ones(L, L, dtype=torch.bool, device=roles.device).tril()
    real = roles != PAD
    allowed = causal[None] & real[:, None, :]
    if variant is not None:
        key_is_image = (roles == IMAGE)[:, None, :]
        if variant == "answer_only":
            blocked_queries = roles == ANSWER
        else:
            blocked_queries = (roles == POST) | (roles == ANSWER)
        allowed &= ~(blocked_queries[:, :, None] & key_is_image)
        if variant == "default_plus_latent_prompt_block":
            key_is_text = ((roles == TEXT) | (roles == POST))[:, None, :]
            allowed &= ~((roles == LATENT)[:, :, None] & key_is_text)
    # A padding query (or any query left with no key) attends to itself so softmax stays finite;
    # its output is never used.
    eye = torch.eye(L, dtype=torch.bool, device=roles.device)[None]
    allowed |= eye & ~allowed.any(-1, keepdim=True)
    return allowed


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    mask = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None]


def attention_mask_4d(roles: torch.Tensor, variant: str | None, dtype: torch.dtype) -> torch.Tensor:
    return additive_mask(allowed_attention(roles, variant), dtype)
