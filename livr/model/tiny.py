"""Tiny random-weight backbones of the real architectures, built offline from config.

A tiny build is deterministic (fixed seed, fixed tokenizer corpus) and saved to a directory
(`livr build-tiny`), so training and evaluation jobs load it instead of rebuilding it. The
tokenizer is a byte-level BPE trained locally in well under a second, with the real model's
special tokens and a chat template of the same shape as the real one. What differs by
architecture (classes, the config at tiny size, the template's system prompt) is the family
adapter's (livr/model/families/).

Sizes follow what a 2-core CPU can train from scratch in minutes (shared/DESIGN.md): hidden 128,
3 LM layers, one vision block (the demo's nine tasks x two trainings must fit in 15 minutes; a
second vision block and a fourth layer cost ~25% more time and learned no faster in 288 steps),
patch 7 with a 2x2 merge, so one visual token covers 14x14 px and a 112 px image
gives 64 visual tokens.
"""

from __future__ import annotations

import torch

from livr.errors import InputError
from livr.io import atomic_dir, progress_enabled
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.family import PLACEHOLDER_TOKENS, Family
from livr.model.tiny_dims import DIMS, TinyDims

TINY_SEED = 1234


QWEN_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
# Same shape as the real templates: Qwen2.5-VL and LLaVA-OV-1.5 add a default system prompt, Qwen3-VL does not.
_QWEN_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' and SYSTEM %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}IMAGE"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def chat_template(family: Family) -> str:
    system = "true" if family.system_prompt else "false"
    return _QWEN_TEMPLATE.replace("IMAGE", "<|vision_start|><|image_pad|><|vision_end|>").replace("SYSTEM", system)


# Words every tokenizer is trained on: the chat template's and the numbers 0-100.
CHAT_WORDS = "You are a helpful assistant. system user assistant"
NUMBER_WORDS = " ".join(str(i) for i in range(101))


def _corpus() -> list[str]:
    """The task questions (so prompts get compact tokens, as with a real vocabulary), numbers
    and the chat template's words."""
    from livr.data.prompts import format_question
    from livr.data.registry import TASK_SPECS

    questions = [format_question(t, list(spec.choices)) for t, spec in TASK_SPECS.items()]
    return (questions + [NUMBER_WORDS, CHAT_WORDS]) * 20


def build_tokenizer(family: Family, texts: list[str] | None = None, vocab: int = DIMS.vocab):
    """Byte-level BPE with the family's special tokens, trained on `texts` (default: the task
    questions, numbers and chat words)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = QWEN_SPECIALS
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=progress_enabled(),  # it prints blank lines into non-TTY logs otherwise
    )
    tok.train_from_iterator(_corpus() if texts is None else texts, trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=specials[3:],
        chat_template=chat_template(family),
    )
    return hf


def _text_dims(tokenizer, d: TinyDims) -> dict:
    return dict(
        vocab_size=len(tokenizer),
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        hidden_size=d.hidden,
        intermediate_size=d.intermediate,
        num_hidden_layers=d.layers,
        num_attention_heads=d.heads,
        num_key_value_heads=d.kv_heads,
        max_position_embeddings=4096,
    )


def build_model_and_processor(name: str, dims: TinyDims = DIMS, tokenizer_texts: list[str] | None = None):
    """Return (model, processor) for a tiny backbone, random weights from a fixed seed, of sizes
    `dims`, with a tokenizer trained on `tokenizer_texts` (default: see build_tokenizer)."""
    from livr.model.processors import image_only_processor

    spec = get_backbone(name)
    if not spec.tiny:
        raise InputError(f"backbone {name!r} is not a tiny offline build (it loads {spec.hf_id} from the hub)")
    if spec.pretrained:  # shipped weights (livr pretrain-tiny), never a random build
        from livr.model.loading import load_backbone

        model, processor = load_backbone(name, None, {}, torch.float32, "sdpa", "cpu")
        return model.eval(), processor
    family = spec.adapter
    tokenizer = build_tokenizer(family, tokenizer_texts, dims.vocab)
    token_ids = {key: tokenizer.convert_tokens_to_ids(token) for key, token in PLACEHOLDER_TOKENS.items()}
    torch.manual_seed(TINY_SEED)
    model = family.model_class()(family.tiny_config(_text_dims(tokenizer, dims), token_ids, dims))
    for cfg in (model.config, model.config.get_text_config(), model.generation_config):
        cfg.bos_token_id = None
        cfg.eos_token_id = tokenizer.eos_token_id
        cfg.pad_token_id = tokenizer.pad_token_id
    processor = image_only_processor(family, tokenizer, tiny=True)
    return model.eval(), processor


def save_tiny(name: str, out_dir) -> None:
    from livr.model.processors import save_processor

    model, processor = build_model_and_processor(name)
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        save_processor(processor, tmp)


def configure(parser) -> None:
    buildable = [n for n, b in REGISTRY.items() if b.tiny and not b.pretrained]
    parser.add_argument("--backbone", required=True, help=f"a tiny backbone: {', '.join(buildable)}")
    parser.add_argument("--out", required=True, help="directory to write (replaced atomically)")


def main(args) -> int:
    save_tiny(args.backbone, args.out)
    print(f"built {args.backbone} into {args.out}")
    return 0
