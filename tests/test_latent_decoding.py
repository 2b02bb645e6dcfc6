"""Latent mode of the greedy decoder (livr/decoding.py; LVR and Mirage, issue 19), on every tiny
backbone: a left-padded batch whose rows enter latent mode at different steps decodes as each row
alone, and as a recomputation without the KV cache (a full forward over the whole sequence at
every step, with positions from the model's own rope index over that sequence and the latent
positions' input embeddings set to the fed-back hidden states); a latent mode that never triggers
changes nothing; validation during training decodes as the test does."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
import torch
from test_bottleneck_decoding import records_and_images
from transformers import TrainingArguments

from livr import config as livr_config
from livr.data.schema import read_split
from livr.decoding import (
    LATENT_STEP,
    Decoding,
    LatentMode,
    decode_rows,
    greedy_decode,
    lvr_decoding,
    mirage_decoding,
    resolve_latent_mode,
)
from livr.errors import InputError
from livr.evaluate import decode_cell
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.inputs import IGNORE, Collator, encode
from livr.model.loading import load_backbone
from livr.model.masks import ANSWER, LATENT
from livr.settings import EvalConfig, replace
from livr.stage_trainer import DecodedValidation, LivrTrainer

TINY = [n for n, b in REGISTRY.items() if b.tiny and not b.pretrained]
TOKENS = 16  # max_new_tokens
STEPS = 3  # latents per latent run
WINDOW = TOKENS - 2 * STEPS  # rows enter latent mode within their first WINDOW tokens


@pytest.fixture(scope="module", params=TINY)
def setup(request, tiny_models_dir):
    name = request.param
    model, processor = load_backbone(name, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    # The tiny builds' initialisation (std 0.02) makes a Qwen model repeat one token; larger random
    # weights give varied tokens, so rows reach a given token at different steps.
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    spec = get_backbone(name)
    rows = records_and_images()
    rows += [(dataclasses.replace(r, id=f"{r.id}b", question=f"{r.question} Think first."), im) for r, im in rows]
    encoded = [encode(r, im, processor, spec, [], with_answer=False) for r, im in rows]
    assert len({len(e.input_ids) for e in encoded}) == len(encoded), "rows of different lengths: real left padding"
    return model.eval(), processor, spec, encoded


def decode(setup, encoded, latent, mask=None):
    model, processor, spec, _ = setup
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, mask, "left").collate(encoded)
    batch.pop("labels")
    return decode_rows(model, batch, roles, mask, TOKENS, [-1], special_ids(processor), latent)  # no stop token


def special_ids(processor) -> list[int]:
    """Suppressed in every test: a random model may emit an image token, which a recomputation would
    read as an image (more image tokens than image features)."""
    return processor.tokenizer.all_special_ids


def entry_token(rows: list[list[int]]) -> int:
    """A token that several rows first emit at different steps (early enough to leave room after it)."""
    best, best_score = None, 0
    for t in sorted({t for r in rows for t in r[:WINDOW]}):
        firsts = {r.index(t) for r in rows if t in r[:WINDOW]}
        if len(firsts) > best_score:
            best, best_score = t, len(firsts)
    assert best_score >= 2, f"no token first emitted at two different steps in {rows}"
    return best


@torch.no_grad()
def reference_decode(setup, enc, latent: LatentMode) -> tuple[list[int], list[int]]:
    """One row, no cache: a full forward over prompt + everything so far at every step, the latent
    positions' embeddings overwritten by the final hidden state of the position before each. Returns
    the generated inputs (token ids, LATENT_STEP) and the greedy token read at each latent step."""
    model, processor, spec, _ = setup
    pad = processor.tokenizer.pad_token_id
    inputs, latent_states, greedy_at_latents = [], {}, []
    n_latents, queue, n_tokens = None, [], 0
    if enc.input_ids[-1] == latent.start_id:
        n_latents = 0

    def overwrite(_module, args, out):
        out = out.clone()
        for pos, state in latent_states.items():
            out[0, pos] = state
        return out

    hidden = []
    hooks = [
        model.get_input_embeddings().register_forward_hook(overwrite),
        model.get_decoder().register_forward_hook(lambda _m, _a, out: hidden.append(out.last_hidden_state[0, -1])),
    ]
    try:
        while n_tokens < TOKENS:
            ids = [pad if t == LATENT_STEP else t for t in inputs]  # a latent position's id is never embedded
            grown = dataclasses.replace(
                enc,
                input_ids=enc.input_ids + ids,
                labels=[IGNORE] * (len(enc.input_ids) + len(ids)),
                roles=enc.roles + [LATENT if t == LATENT_STEP else ANSWER for t in inputs],
                mm_token_type_ids=None if enc.mm_token_type_ids is None else enc.mm_token_type_ids + [0] * len(ids),
            )
            batch, _ = Collator(model, pad, spec, None, "left").collate([grown])
            batch.pop("labels")
            hidden.clear()
            logits = model(**batch).logits[0, -1]
            logits[special_ids(processor)] = torch.finfo(logits.dtype).min
            greedy = int(logits.argmax())
            if n_latents is not None:
                if n_latents < latent.steps and greedy != latent.stop_id:
                    greedy_at_latents.append(greedy)
                    latent_states[len(grown.input_ids)] = hidden[-1].clone()
                    inputs.append(LATENT_STEP)
                    n_latents += 1
                    continue
                n_latents, queue = None, list(latent.then)
            token = queue.pop(0) if queue else greedy
            inputs.append(token)
            n_tokens += 1
            if token == latent.start_id:
                n_latents = 0
    finally:
        for h in hooks:
            h.remove()
    return inputs, greedy_at_latents


def latent_runs(inputs: list[int]) -> list[tuple[int, int]]:
    """(position of the first latent, number of latents) of each latent run."""
    runs, i = [], 0
    while i < len(inputs):
        if inputs[i] == LATENT_STEP:
            j = i
            while j < len(inputs) and inputs[j] == LATENT_STEP:
                j += 1
            runs.append((i, j - i))
            i = j
        else:
            i += 1
    return runs


def test_rows_in_and_out_of_latent_mode_decode_as_alone_and_as_without_cache(setup):
    """LVR's rule: exactly STEPS latents after the start token, then the model's own tokens."""
    encoded = setup[3]
    plain = [r.tokens for r in decode(setup, encoded, None)]
    start = entry_token(plain)
    latent = LatentMode(start, STEPS)
    together = decode(setup, encoded, latent)
    # rows enter at different batch steps, and while one row feeds hidden states another feeds tokens
    entries = {runs[0][0] for r in together if (runs := latent_runs(r.inputs))}
    assert len(entries) >= 2, [r.inputs for r in together]
    assert all(n == STEPS for r in together for _, n in latent_runs(r.inputs))
    for r, p in zip(together, plain):  # up to and including the start token, nothing changed
        if start in p:
            k = p.index(start) + 1
            assert r.inputs[:k] == p[:k] and r.inputs[k] == LATENT_STEP
    alone = [decode(setup, [e], latent)[0] for e in encoded]
    assert [r.inputs for r in together] == [r.inputs for r in alone]
    entering = [i for i, r in enumerate(together) if LATENT_STEP in r.inputs][:2]  # the recomputation is slow
    assert [together[i].inputs for i in entering] == [reference_decode(setup, encoded[i], latent)[0] for i in entering]
    assert [r.tokens for r in together] != plain  # the fed-back states changed what follows


def test_stop_rule_ends_a_latent_run_early_and_feeds_the_end_token(setup):
    """Mirage's rule: latents until the greedy token is the end token or STEPS latents, then the end
    token; one row stops early, another runs all STEPS, in the same batch."""
    encoded = setup[3]
    plain = [r.tokens for r in decode(setup, encoded, None)]
    start = entry_token(plain)
    # an end token a row predicts at a later latent step, such that in the batch one run stops early
    # and another runs all STEPS
    entering = [i for i, p in enumerate(plain) if start in p[:WINDOW]][:2]  # the recomputation is slow
    seen = [reference_decode(setup, encoded[i], LatentMode(start, STEPS))[1] for i in entering]
    candidates = [s[k] for s in seen for k in range(1, len(s)) if s[k] not in s[:k]]
    for end in candidates:
        latent = LatentMode(start, STEPS, stop_id=end, then=(end,))
        together = decode(setup, encoded, latent)
        runs = [n for r in together for _, n in latent_runs(r.inputs)]
        if any(n < STEPS for n in runs) and STEPS in runs:
            break
    else:
        pytest.fail(f"no end token among {candidates} stops one run early and leaves another full: {seen}")
    for r in together:
        for pos, n in latent_runs(r.inputs):
            assert pos + n == len(r.inputs) or r.inputs[pos + n] == end  # the end token follows every run
    assert [r.inputs for r in together] == [decode(setup, [e], latent)[0].inputs for e in encoded]
    assert all(together[i].inputs == reference_decode(setup, encoded[i], latent)[0] for i in entering[:2])


def test_prompt_ending_in_the_start_token_enters_latent_mode_at_once(setup):
    encoded = setup[3]
    last = encoded[0].input_ids[-1]  # every prompt ends with the assistant header's last token
    together = decode(setup, encoded, LatentMode(last, STEPS))
    assert all(r.inputs[:STEPS] == [LATENT_STEP] * STEPS for r in together)
    assert [r.inputs for r in together[:2]] == [
        reference_decode(setup, e, LatentMode(last, STEPS))[0] for e in encoded[:2]
    ]


@pytest.mark.parametrize("mask", [None, "default"])
def test_a_latent_mode_that_never_triggers_changes_nothing(setup, mask):
    model, processor, spec, encoded = setup
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, mask, "left").collate(encoded)
    batch.pop("labels")
    never = LatentMode(processor.tokenizer.pad_token_id, STEPS)  # suppressed: never emitted
    suppress = special_ids(processor)
    plain = greedy_decode(model, batch, roles, mask, TOKENS, [-1], suppress)
    assert greedy_decode(model, batch, roles, mask, TOKENS, [-1], suppress, never) == plain
    assert all(len(r) == TOKENS for r in plain)


def test_latent_decoding_resolves_against_the_checkpoint_tokenizer(tiny_models_dir):
    _, processor = load_backbone("tiny-qwen2.5-vl", tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    tok = processor.tokenizer
    assert resolve_latent_mode(None, tok, "ckpt") is None
    with pytest.raises(InputError, match=r"ckpt: latent_decoding names '<\|lvr_start\|>', a token its tokenizer"):
        resolve_latent_mode(lvr_decoding(8), tok, "ckpt")
    with pytest.raises(InputError, match="ckpt: latent_decoding .*keys are start, steps, stop, then"):
        resolve_latent_mode({"start": "<|im_end|>", "steps": 2, "until": "x"}, tok, "ckpt")
    tok.add_special_tokens(
        {"additional_special_tokens": ["<|lvr_start|>", "<|latent_start|>", "<|latent_end|>"]},
        replace_extra_special_tokens=False,
    )
    lvr_start, start, end = tok.convert_tokens_to_ids(["<|lvr_start|>", "<|latent_start|>", "<|latent_end|>"])
    assert resolve_latent_mode(lvr_decoding(8), tok, "ckpt") == LatentMode(lvr_start, 8)
    assert resolve_latent_mode(mirage_decoding(), tok, "ckpt") == LatentMode(start, 8, stop_id=end, then=(end,))
    with pytest.raises(InputError, match="steps must be >= 1"):
        LatentMode(start, 0)


def test_validation_decodes_as_the_test_does(setup, task_dir, tmp_path):
    """The same rows as a validation split and as a test split: DecodedValidation (what LivrTrainer
    validates with) gives the test cell's responses and accuracy, in latent mode from the metadata."""
    model, processor, spec, encoded = setup
    data = tmp_path / "task"
    shutil.copytree(task_dir, data)
    shutil.copy(data / "test.jsonl", data / "val.jsonl")
    params = livr_config.load_params("params.yaml")
    cfg = EvalConfig.resolve(params, "ci", spec.name, "relative_reflectance", "zero_shot", "relative_reflectance")
    cfg = replace(cfg, data_dir=str(data), dtype="float32", attn_implementation="sdpa", max_test_examples=None)
    start = processor.tokenizer.convert_ids_to_tokens(encoded[0].input_ids[-1])  # every prompt ends in it
    meta = {"latents": [], "latent_ids": [], "latent_position": "after_prompt", "mask": None, "image_copies": 1}
    summary = decode_cell(cfg, None, tmp_path / "cell.jsonl", model, processor, meta, torch.float32, 0.0)
    plain = [json.loads(line)["raw_output"] for line in (tmp_path / "cell.jsonl").read_text().splitlines()]
    meta["latent_decoding"] = {"start": start, "steps": STEPS}
    summary = decode_cell(cfg, None, tmp_path / "cell.jsonl", model, processor, meta, torch.float32, 0.0)
    tested = [json.loads(line)["raw_output"] for line in (tmp_path / "cell.jsonl").read_text().splitlines()]
    assert tested != plain  # the metadata's latent mode reached the decoder

    how = Decoding(
        latents=(),
        latent_position="after_prompt",
        suppress_ids=(),
        mask=None,
        image_copies=1,
        batch_size=cfg.batch_size,
        max_new_tokens=cfg.max_new_tokens,
        latent_mode=resolve_latent_mode(meta["latent_decoding"], processor.tokenizer, "meta"),
    )
    validation = DecodedValidation(processor, spec, [(r, data) for r in read_split(data, "val")], how, torch.float32)
    assert validation.responses(model) == tested
    trainer = LivrTrainer(
        model=model,
        args=TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[]),
        decoded_validation=validation,
    )
    assert trainer.evaluate()["eval_accuracy"] == pytest.approx(summary["accuracy"], abs=1e-4)
