"""Batched greedy decoding over the KV cache, with an optional per-row latent mode.

One loop serves every method, mask and split: test evaluation (livr/evaluate.py) and, where a
method reasons in latent steps, validation during training (livr/stage_trainer.py), so both
decode alike. Positions are explicit (the prompt's last position, M-RoPE rows included, + 1 per
step) and the attention mask follows each new position's role, so the Stage-1 bottleneck works
here too. Latent tokens of LIVR (`suppress_ids`) are inputs, never outputs.

Latent mode (LVR, Mirage: issue 19). Once a row has fed its start token, its next inputs are not
token embeddings but the model's own final (post-norm) hidden state of the previous position, fed
back as `inputs_embeds`; positions advance as for tokens. `LatentMode` declares how a row leaves:
after exactly `steps` latents (LVR), or earlier when its greedy token would be `stop_id` (Mirage),
then it feeds `then` (Mirage: its end token) or, with `then` empty, its own greedy token (LVR).
Rows enter and leave independently: in one batch step some rows feed hidden states, others tokens.
What the official code does, read at VincentLeebang/lvr@637a9f7 (src/model/qwen_lvr_model.py
`_lvr_deocding_by_steps`, src/train/monkey_patch_forward_lvr.py) and
UMass-Embodied-AGI/Mirage@53f26de (transformers/src/transformers/generation/utils.py `_sample`):
- LVR: when the last fed token is `<|lvr_start|>`, the next N inputs are `last_hidden_state[:, -1]`
  (no LVR head in the released recipe: LVR_HEAD=False); the token argmaxed at the N-th latent is fed
  as a token; stop tokens are ignored while in latent mode.
- Mirage: after `<|latent_start|>` is fed, each step's argmax is checked: `<|latent_end|>` leaves latent
  mode (and is fed), anything else is replaced by the hidden state (its patched Qwen2.5-VL forward
  returns the final post-norm state, `outputs[0]`, as `hidden_states`); after 8 latents `<|latent_end|>` is
  forced. Its loop keeps one latent flag for the whole batch (written for batch size 1); here each row
  has its own. A start token argmaxed inside latent mode is not special here (Mirage would feed it).
Latent steps are positions, not tokens: they do not count against `max_new_tokens` and are not in
the returned token ids (the start and `then` tokens are). A method declares its mode with token
strings (`lvr_decoding`, `mirage_decoding`); a checkpoint's metadata carries it as `latent_decoding`,
resolved against the checkpoint's tokenizer (resolve_latent_mode).
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import torch

from livr.data.schema import Record
from livr.errors import InputError
from livr.model.inputs import Collator, encode, load_images
from livr.model.loading import base_model
from livr.model.masks import ANSWER, LATENT, PAD, attention_mask_4d

LATENT_STEP = -1  # in a decoded row's `inputs`: a position whose input was the fed-back hidden state


@dataclasses.dataclass(frozen=True)
class LatentMode:
    """How rows decode in latent steps: enter after feeding `start_id`; leave after `steps` latents,
    or before one when the greedy token is `stop_id` (None: always `steps`); then feed `then`
    (empty: the greedy token of the last latent step, as any token)."""

    start_id: int
    steps: int
    stop_id: int | None = None
    then: tuple[int, ...] = ()

    def __post_init__(self):
        if self.steps < 1:
            raise InputError(f"latent mode: steps must be >= 1, got {self.steps}")


# The declarative form a method and its checkpoint metadata (`latent_decoding`) carry: token strings,
# resolved against the checkpoint's own tokenizer by resolve_latent_mode.
LATENT_DECODING_KEYS = ("start", "steps", "stop", "then")


def lvr_decoding(steps: int) -> dict:
    """LVR's decoding: exactly `steps` latents after `<|lvr_start|>` (its paper evaluates 4, 8 and 16),
    then the model's own tokens."""
    return {"start": "<|lvr_start|>", "steps": steps, "stop": None, "then": []}


def mirage_decoding(max_steps: int = 8) -> dict:
    """Mirage's decoding: latents after `<|latent_start|>` until the greedy token is `<|latent_end|>`
    or `max_steps` latents; then `<|latent_end|>` is fed."""
    return {"start": "<|latent_start|>", "steps": max_steps, "stop": "<|latent_end|>", "then": ["<|latent_end|>"]}


def resolve_latent_mode(spec: dict | None, tokenizer, where: str) -> LatentMode | None:
    """The LatentMode of a declarative `latent_decoding` (None: no latent mode); `where` names its
    source (a checkpoint's metadata) in errors."""
    if spec is None:
        return None
    unknown = set(spec) - set(LATENT_DECODING_KEYS)
    if unknown or "start" not in spec or "steps" not in spec:
        raise InputError(
            f"{where}: latent_decoding {spec!r}: keys are {', '.join(LATENT_DECODING_KEYS)} (start and steps required)"
        )

    def token_id(token: str) -> int:
        tid = tokenizer.convert_tokens_to_ids(token)
        if tid is None or tokenizer.convert_ids_to_tokens(tid) != token:
            raise InputError(f"{where}: latent_decoding names {token!r}, a token its tokenizer does not have")
        return tid

    stop = spec.get("stop")
    return LatentMode(
        token_id(spec["start"]),
        int(spec["steps"]),
        None if stop is None else token_id(stop),
        tuple(token_id(t) for t in spec.get("then") or ()),
    )


@dataclasses.dataclass
class DecodedRow:
    """One row's continuation: `inputs` holds every generated position in order, a token id or
    LATENT_STEP; `tokens` are its token ids (the stop token excluded)."""

    inputs: list[int] = dataclasses.field(default_factory=list)

    @property
    def tokens(self) -> list[int]:
        return [t for t in self.inputs if t != LATENT_STEP]

    @property
    def latent_steps(self) -> int:
        return sum(t == LATENT_STEP for t in self.inputs)


def cache_kwarg(model) -> str:
    """The forward's name for the KV cache: transformers 5.24 renamed `past_key_values` to `cache`
    (the old name warns, and goes in 5.40); hub remote code may still take the old one."""
    base = base_model(model)  # a PeftModel takes **kwargs
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


class _RowState:
    """Where one row is: finished, counting latents (`latents` is None outside latent mode), tokens queued."""

    def __init__(self, entered: bool):
        self.finished = False
        self.latents: int | None = 0 if entered else None
        self.queue: list[int] = []
        self.n_tokens = 0


@torch.no_grad()
def greedy_decode(
    model,
    batch: dict,
    roles: torch.Tensor,
    mask: str | None,
    max_new_tokens: int,
    stop_ids: list[int],
    suppress_ids: list[int],
    latent: LatentMode | None = None,
) -> list[list[int]]:
    """Greedy decoding of a left-padded batch; returns the new token ids of each row (stop token excluded)."""
    return [
        row.tokens for row in decode_rows(model, batch, roles, mask, max_new_tokens, stop_ids, suppress_ids, latent)
    ]


@torch.no_grad()
def decode_rows(
    model,
    batch: dict,
    roles: torch.Tensor,
    mask: str | None,
    max_new_tokens: int,
    stop_ids: list[int],
    suppress_ids: list[int],
    latent: LatentMode | None = None,
) -> list[DecodedRow]:
    """greedy_decode's rows with their latent steps (DecodedRow)."""
    device = model.device
    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
    roles = roles.to(device)
    B = roles.shape[0]
    base = base_model(model)
    hidden: list[torch.Tensor] = []  # the decoder stack's final (post-norm) state at the last position
    hook = base.get_decoder().register_forward_hook(lambda _m, _a, out: hidden.append(out.last_hidden_state[:, -1]))
    try:
        out = model(**batch, use_cache=True)
        cache_name = cache_kwarg(model)
        past = out[cache_name]
        positions = batch["position_ids"][..., -1:]
        stop = set(stop_ids)
        last_prompt = batch["input_ids"][:, -1].tolist()
        states = [_RowState(latent is not None and t == latent.start_id) for t in last_prompt]
        rows = [DecodedRow() for _ in range(B)]
        logits = out.logits[:, -1]
        while True:
            if suppress_ids:
                logits[:, suppress_ids] = torch.finfo(logits.dtype).min
            greedy = logits.argmax(-1).tolist()
            feed = [next_input(s, g, latent) for s, g in zip(states, greedy)]  # token id, or LATENT_STEP
            for i, (s, f) in enumerate(zip(states, feed)):
                if s.finished:
                    continue
                if f in stop and f != LATENT_STEP:
                    s.finished = True
                    continue
                rows[i].inputs.append(f)
                if f != LATENT_STEP:
                    s.n_tokens += 1
                    s.finished = s.n_tokens >= max_new_tokens
            if all(s.finished for s in states):  # no forward pass for a token never decoded
                break
            is_latent = torch.tensor([f == LATENT_STEP for f in feed], device=device)
            tokens = torch.tensor([g if f == LATENT_STEP else f for f, g in zip(feed, greedy)], device=device)
            role = torch.where(is_latent, LATENT, ANSWER).to(roles.dtype)
            roles = torch.cat([roles, role[:, None]], dim=1)
            positions = positions + 1
            if mask is None:
                attn = (roles != PAD).long()
            else:
                attn = attention_mask_4d(roles, mask, logits.dtype if logits.is_floating_point() else torch.float32)[
                    :, :, -1:
                ]
            if is_latent.any():
                embeds = model.get_input_embeddings()(tokens[:, None])
                embeds[is_latent, 0] = hidden[-1][is_latent].to(embeds.dtype)
                inputs = {"inputs_embeds": embeds}
            else:
                inputs = {"input_ids": tokens[:, None]}
            hidden.clear()
            out = model(**inputs, position_ids=positions, attention_mask=attn, use_cache=True, **{cache_name: past})
            past = out[cache_name]
            logits = out.logits[:, -1]
    finally:
        hook.remove()
    return rows


def next_input(state: _RowState, greedy: int, latent: LatentMode | None) -> int:
    """A row's next input given its greedy token: a token id or LATENT_STEP; updates its latent state."""
    if state.finished:
        return greedy  # a finished row's inputs are never read
    if state.latents is not None:  # in latent mode: another latent, or leave
        if state.latents < latent.steps and greedy != latent.stop_id:
            state.latents += 1
            return LATENT_STEP
        state.latents = None
        state.queue = list(latent.then)
    token = state.queue.pop(0) if state.queue else greedy
    if latent is not None and token == latent.start_id:
        state.latents = 0
    return token


@dataclasses.dataclass(frozen=True)
class Decoding:
    """How a split is decoded into responses: the same for a test cell (livr/evaluate.py) and for
    validation during training (livr/stage_trainer.py DecodedValidation)."""

    latents: tuple[str, ...]  # LIVR's latent tokens in the prompt (none: the no-latents variant, other methods)
    latent_position: str
    suppress_ids: tuple[int, ...]  # LIVR's latent ids: inputs, never outputs
    mask: str | None  # None: standard; a bottleneck variant
    image_copies: int
    batch_size: int
    max_new_tokens: int
    latent_mode: LatentMode | None = None


def decode_responses(model, processor, spec, items: list[tuple[Record, Path]], how: Decoding, dtype) -> list[str]:
    """Greedy responses (special tokens dropped) of `items`, (record, its task directory) pairs, in order."""
    tok = processor.tokenizer
    base = base_model(model)  # validation decodes a peft wrapper
    collator = Collator(base, tok.pad_token_id, spec, how.mask, padding_side="left", dtype=dtype)
    stop_ids = sorted({tok.convert_tokens_to_ids(spec.end_of_turn), tok.eos_token_id, tok.pad_token_id})
    responses = []
    for start in range(0, len(items), how.batch_size):
        encoded = [
            encode(
                r,
                load_images(r, data_dir) * how.image_copies,
                processor,
                spec,
                list(how.latents),
                how.latent_position,
                with_answer=False,
            )
            for r, data_dir in items[start : start + how.batch_size]
        ]
        batch, roles = collator.collate(encoded)
        batch.pop("labels")
        outputs = greedy_decode(
            model, batch, roles, how.mask, how.max_new_tokens, stop_ids, list(how.suppress_ids), how.latent_mode
        )
        responses += [tok.decode(ids, skip_special_tokens=True) for ids in outputs]
    return responses
