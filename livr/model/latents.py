"""The K latent tokens: new vocabulary entries, each its own randomly initialised embedding row.

With LoRA, only these rows of the (otherwise frozen) embedding table train, through peft's
trainable-token support, which also follows a tied output embedding (Qwen2.5-VL-3B ties them)
and saves the rows with the adapter. The model never generates a latent token: decoding
suppresses them (their output rows are untrained).
"""

from __future__ import annotations

import torch

from livr.model.inputs import latent_token_strings


def add_latent_tokens(model, processor, k: int, seed: int) -> list[int]:
    """Add K latent tokens to the tokenizer and K new embedding rows to the model; return their ids."""
    return add_tokens(model, processor, latent_token_strings(k), seed)


def add_tokens(model, processor, tokens: list[str], seed: int) -> list[int]:
    """Add `tokens` as special tokens and new embedding rows (LIVR's latents, LVR's and Mirage's block
    tokens); return their ids.

    Rows are drawn from N(0, std of the existing rows) with `seed`, so SFT and LIVR runs differ
    only in what LIVR adds. Growing the embedding table initialises the new rows from torch's
    global RNG; that happens inside a forked RNG, so the weights drawn after this (LoRA's
    initialisation) are the same as in an SFT run of the same seed, which adds no rows.
    """
    tok = processor.tokenizer
    tok.add_special_tokens({"additional_special_tokens": list(tokens)}, replace_extra_special_tokens=False)
    ids = tok.convert_tokens_to_ids(list(tokens))
    emb = model.get_input_embeddings()
    if max(ids) >= emb.weight.shape[0]:
        with torch.random.fork_rng(devices=[]):  # CPU generator; rows on an accelerator are redrawn below anyway
            model.resize_token_embeddings(len(tok), mean_resizing=False)
        emb = model.get_input_embeddings()
    with torch.no_grad():
        old = emb.weight[: min(ids)]
        gen = torch.Generator().manual_seed(seed)
        rows = torch.randn(len(ids), old.shape[1], generator=gen) * old.float().std()
        emb.weight[ids] = rows.to(emb.weight.dtype)
        out = model.get_output_embeddings()
        if out is not None and out.weight.data_ptr() != emb.weight.data_ptr():
            out.weight[ids] = 0.0
    return ids


def latent_ids_of(tokenizer) -> list[int]:
    """The latent token ids a (saved) tokenizer holds, in order."""
    added = tokenizer.get_added_vocab()
    latents = sorted((t for t in added if t.startswith("<|latent_")), key=lambda t: int(t[len("<|latent_") : -2]))
    return [added[t] for t in latents]
