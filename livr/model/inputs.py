"""From records to model inputs: chat rendering, latent tokens, labels, roles, position ids.

One encoded example is the processor's chat rendering of the images and question (images first,
as BLINK shows them), the K latent tokens (right after the assistant header by default: the
model never generates them, they are part of the input), then, for training, the answer and the
end-of-turn token, which are the only labelled positions.

Each position gets a role (livr/model/masks.py) from which any attention mask is derived:
TEXT before the first image, IMAGE, LATENT, POST (non-latent prompt after the first image),
ANSWER.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from PIL import Image

from livr.data.schema import Record
from livr.errors import InputError
from livr.model.backbones import Backbone
from livr.model.masks import ANSWER, IMAGE, LATENT, PAD, POST, TEXT, attention_mask_4d

IGNORE = -100
# Where the K latent tokens go (params.yaml `latent_position`):
#   after_prompt     right after the assistant header, after the whole prompt (the paper's LIVR);
#   before_question  after the images, right before the question text (the paper's "latents before
#                    the prompt" ablation: they see the image but cannot condition on the question);
#   start            before everything, where prompt tuning puts its soft prompt (Lester et al., 2021).
LATENT_POSITIONS = ("after_prompt", "before_question", "start")
# Processor outputs that describe the sequence itself; everything else (pixel values, grids,
# image sizes) is per image and is concatenated across a batch.
SEQUENCE_KEYS = {"input_ids", "attention_mask", "mm_token_type_ids"}


def sequences_correct(pred_ids, labels):
    """Per sequence (torch or numpy, [batch, length]): every labelled token equals the prediction
    made one position earlier (logits at t predict token t+1), and at least one token is labelled."""
    pred, gold = pred_ids[:, :-1], labels[:, 1:]
    keep = gold != IGNORE
    return ((pred == gold) | ~keep).all(1) & keep.any(1)


def labelled_positions(labels: torch.Tensor) -> torch.Tensor:
    """[B, L] bool: the positions whose logits predict a labelled token (logits at t predict t+1),
    the only ones the loss and teacher-forced validation read: the LM head runs on these alone
    in training (livr/stage_trainer.py)."""
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE
    return keep


def latent_token_strings(k: int) -> list[str]:
    return [f"<|latent_{i}|>" for i in range(k)]


@dataclasses.dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    roles: list[int]
    mm_token_type_ids: list[int] | None
    vision: dict  # per-image tensors from the processor
    record_id: str = ""
    gold: str = ""


def load_images(record: Record, task_dir: str | Path) -> list[Image.Image]:
    out = []
    for rel in record.images:
        path = Path(task_dir) / rel
        try:
            with Image.open(path) as im:
                out.append(im.convert("RGB"))
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: cannot read image of record {record.id!r} ({e})") from None
    return out


def render_prompt(processor, question: str, n_images: int, latents: list[str], latent_position: str) -> str:
    if latent_position not in LATENT_POSITIONS:
        raise InputError(f"unknown latent_position {latent_position!r}; valid: {', '.join(LATENT_POSITIONS)}")
    latent_text = "".join(latents)
    if latent_position == "before_question":
        question = latent_text + question  # the chat template puts the images first, then this text
    content = [{"type": "image"}] * n_images + [{"type": "text", "text": question}]
    text = processor.apply_chat_template(
        [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
    )
    if latent_position == "after_prompt":
        return text + latent_text
    if latent_position == "start":
        return latent_text + text
    return text


def encode(
    record: Record,
    images: list[Image.Image],
    processor,
    backbone: Backbone,
    latents: list[str],
    latent_position: str = "after_prompt",
    with_answer: bool = True,
) -> Encoded:
    text = render_prompt(processor, record.question, len(images), latents, latent_position)
    enc = processor(text=[text], images=images, return_tensors="pt")
    prompt_ids = enc["input_ids"][0].tolist()
    tok = processor.tokenizer
    # The text to train on: the answer, or the record's meta["target"] where a comparison benchmark's
    # scorer reads something else (an option's text, a boxed plan; livr/data/benchmarks/records.py).
    target = record.meta.get("target", record.answer)
    answer_ids = tok(target + backbone.end_of_turn, add_special_tokens=False)["input_ids"] if with_answer else []
    ids = prompt_ids + answer_ids
    image_id = tok.convert_tokens_to_ids(backbone.image_token)
    latent_ids = set(tok.convert_tokens_to_ids(latents))
    roles, seen_image = [], False
    for i, t in enumerate(ids):
        if i >= len(prompt_ids):
            roles.append(ANSWER)
        elif t == image_id:
            roles.append(IMAGE)
            seen_image = True
        elif t in latent_ids:
            roles.append(LATENT)
        else:
            roles.append(POST if seen_image else TEXT)
    mm = enc.get("mm_token_type_ids")
    mm = mm[0].tolist() + [0] * len(answer_ids) if mm is not None else None
    return Encoded(
        input_ids=ids,
        labels=[IGNORE] * len(prompt_ids) + answer_ids,
        roles=roles,
        mm_token_type_ids=mm,
        vision={k: v for k, v in enc.items() if k not in SEQUENCE_KEYS},
        record_id=record.id,
        gold=target,
    )


class Collator:
    """Pads a list of Encoded into a batch with explicit position ids and the chosen mask.

    `mask`: None for the standard causal mask (passed as the usual 2D padding mask), or a
    bottleneck variant (passed as an additive 4D mask). Position ids are always computed from the
    2D padding mask and passed explicitly: with a 4D mask the model cannot derive them itself.
    """

    def __init__(
        self, model, pad_id: int, backbone: Backbone, mask: str | None, padding_side: str = "right", dtype=torch.float32
    ):
        self.rope_index = model.model.get_rope_index if backbone.mrope else None
        self.pad_id = pad_id
        self.mask = mask
        self.padding_side = padding_side
        self.dtype = dtype

    def _pad(self, rows: list[list[int]], value: int) -> torch.Tensor:
        L = max(len(r) for r in rows)
        out = torch.full((len(rows), L), value, dtype=torch.long)
        for i, r in enumerate(rows):
            if self.padding_side == "right":
                out[i, : len(r)] = torch.tensor(r)
            else:
                out[i, L - len(r) :] = torch.tensor(r)
        return out

    def __call__(self, examples: list[Encoded]) -> dict:
        return self.collate(examples)[0]

    def collate(self, examples: list[Encoded]) -> tuple[dict, torch.Tensor]:
        """(model inputs, roles [B, L])."""
        input_ids = self._pad([e.input_ids for e in examples], self.pad_id)
        roles = self._pad([e.roles for e in examples], PAD)
        mask2d = (roles != PAD).long()
        batch = {"input_ids": input_ids, "labels": self._pad([e.labels for e in examples], IGNORE)}
        for key in examples[0].vision:
            batch[key] = torch.cat([e.vision[key] for e in examples], dim=0)
        if self.rope_index is not None:
            mm = self._pad([e.mm_token_type_ids for e in examples], 0)
            batch["mm_token_type_ids"] = mm
            batch["position_ids"], _ = self.rope_index(
                input_ids, mm_token_type_ids=mm, image_grid_thw=batch.get("image_grid_thw"), attention_mask=mask2d
            )
        else:
            batch["position_ids"] = (mask2d.cumsum(-1) - 1).clamp(min=0)
        if self.mask is None:
            batch["attention_mask"] = mask2d
        else:
            batch["attention_mask"] = attention_mask_4d(roles, self.mask, self.dtype)
        return batch, roles
