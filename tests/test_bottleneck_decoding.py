"""Evaluation under the Stage-1 bottleneck mask (the paper's mask-at-test-time analysis) decodes
what a plain full forward computes: left-padded batches equal examples decoded one at a time, and
KV-cache decoding equals recomputing the whole sequence at every step, on every tiny backbone."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from PIL import Image

from livr.data.schema import Record
from livr.decoding import greedy_decode
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.inputs import IGNORE, Collator, encode, latent_token_strings
from livr.model.latents import add_latent_tokens
from livr.model.loading import load_backbone
from livr.model.masks import ANSWER

TINY = [n for n, b in REGISTRY.items() if b.tiny]
K, STEPS = 4, 5
QUESTIONS = [
    "Which point is darker?\n(A) A\n(B) B\n(C) same",
    "Darker?",
    "Of the two marked points, which one is darker in the image shown above?\n(A) A\n(B) B\n(C) About the same",
]


def records_and_images():
    g = torch.Generator().manual_seed(7)
    out = []
    for i, q in enumerate(QUESTIONS):
        n = 1 + i % 2  # one or two images: different image runs per row as well
        rec = Record(
            id=f"r{i}",
            task="relative_reflectance",
            split="test",
            images=[f"{j}.png" for j in range(n)],
            question=q,
            choices=["A", "B", "C"],
            answer="A",
            source="test",
        )
        imgs = [Image.fromarray((torch.rand(112, 112, 3, generator=g) * 255).byte().numpy()) for _ in range(n)]
        out.append((rec, imgs))
    return out


@pytest.fixture(scope="module", params=TINY)
def setup(request, tiny_models_dir):
    name = request.param
    model, processor = load_backbone(name, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    ids = add_latent_tokens(model, processor, K, seed=0)
    spec = get_backbone(name)
    encoded = [
        encode(r, im, processor, spec, latent_token_strings(K), with_answer=False) for r, im in records_and_images()
    ]
    return model.eval(), processor, spec, ids, encoded


def decode(model, processor, spec, ids, encoded, mask):
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, mask, "left").collate(encoded)
    batch.pop("labels")
    return greedy_decode(model, batch, roles, mask, STEPS, [-1], ids)  # no stop token: STEPS tokens each


@pytest.mark.parametrize("mask", ["default", None])
def test_left_padded_batch_decodes_like_one_example_at_a_time(setup, mask):
    model, processor, spec, ids, encoded = setup
    assert len({len(e.input_ids) for e in encoded}) == len(encoded), "rows of different lengths: real left padding"
    together = decode(model, processor, spec, ids, encoded, mask)
    alone = [decode(model, processor, spec, ids, [e], mask)[0] for e in encoded]
    assert together == alone and all(len(t) == STEPS for t in together)
    # and the first-step logits agree row by row
    pad = processor.tokenizer.pad_token_id
    batch, _ = Collator(model, pad, spec, mask, "left").collate(encoded)
    batch.pop("labels")
    with torch.no_grad():
        rows = model(**batch).logits[:, -1]
        for i, e in enumerate(encoded):
            single, _ = Collator(model, pad, spec, mask, "left").collate([e])
            single.pop("labels")
            torch.testing.assert_close(rows[i], model(**single).logits[0, -1], rtol=1e-4, atol=1e-4)


@torch.no_grad()
def recompute_decode(model, processor, spec, ids, enc, mask) -> tuple[list[int], list[torch.Tensor]]:
    """Greedy decoding by a full forward over prompt + tokens so far at every step (no cache),
    the generated tokens in the ANSWER role, as the mask makes them."""
    pad = processor.tokenizer.pad_token_id
    tokens, logits = [], []
    for _ in range(STEPS):
        grown = dataclasses.replace(
            enc,
            input_ids=enc.input_ids + tokens,
            labels=[IGNORE] * (len(enc.input_ids) + len(tokens)),
            roles=enc.roles + [ANSWER] * len(tokens),
            mm_token_type_ids=None if enc.mm_token_type_ids is None else enc.mm_token_type_ids + [0] * len(tokens),
        )
        batch, _ = Collator(model, pad, spec, mask, "left").collate([grown])
        batch.pop("labels")
        last = model(**batch).logits[0, -1].clone()
        last[ids] = torch.finfo(last.dtype).min
        logits.append(last)
        tokens.append(int(last.argmax()))
    return tokens, logits


@pytest.mark.parametrize("mask", ["default", "answer_only"])
def test_kv_cache_decoding_equals_full_recompute_under_the_bottleneck(setup, mask):
    """Same tokens and the same next-token logits at every step (read off the model's forward calls)."""
    model, processor, spec, ids, encoded = setup
    seen = []
    hook = model.register_forward_hook(lambda module, args, kwargs_out: seen.append(kwargs_out.logits[0, -1].clone()))
    try:
        for enc in encoded:
            reference, ref_logits = recompute_decode(model, processor, spec, ids, enc, mask)
            seen.clear()
            assert decode(model, processor, spec, ids, [enc], mask)[0] == reference
            assert len(seen) == STEPS  # the prompt, then one cached step per token but the last
            for step, (cached, full) in enumerate(zip(seen, ref_logits)):
                cached[ids] = torch.finfo(cached.dtype).min
                torch.testing.assert_close(cached, full, rtol=1e-4, atol=1e-4, msg=f"step {step}")
    finally:
        hook.remove()
    # the recompute really applies the mask: without it the generated tokens' logits differ
    _, masked = recompute_decode(model, processor, spec, ids, encoded[0], mask)
    _, standard = recompute_decode(model, processor, spec, ids, encoded[0], None)
    assert not torch.allclose(masked[-1], standard[-1])
