"""Real-size random-weight builds of the real backbones, from their shipped architecture configs.

`livr/model/configs/<backbone>.json` holds each real backbone's model config and image-processor
settings as published on the hub (sources listed in the file), its special tokens and chat
template. `random_weight_model(name, device, dtype)` builds that architecture with random weights
and no download: the cost of a train or decode step on a GPU is the real one, which is what
`livr bench --random-weights` and `livr verify-bottleneck --random-weights` need.

The tokenizer is a byte-level BPE trained locally (as for the tiny builds) carrying the real
special tokens and chat template; the embedding table keeps the real vocabulary size. Special
token ids are the local tokenizer's (not the hub's 151643+), and the config's image/video/vision
token ids are set to them.

Each is built on its family's transformers class (livr/model/families/): LLaVA-OneVision-1.5's
shipped config is in the hub's layout and goes through the loader's own rewrite.

`shrink=True` (tests only) keeps every structural feature but cuts depth and width so the build
fits a CPU test: 2 LM layers of hidden 64 (the fewest through which the answer can read the
image from the latents: layer 1 reads what layer 0 wrote into them), a 1-block ViT of hidden
32. The vocabulary stays real.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

import torch

from livr.errors import InputError
from livr.model.backbones import get_backbone
from livr.model.family import PLACEHOLDER_TOKENS

CONFIG_DIR = resources.files("livr.model") / "configs"
SEED = 1234
TOKENIZER_VOCAB = 4096

SHRINK_TEXT = dict(
    num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=2, num_key_value_heads=1
)
SHRINK_VISION = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2)


def load_real_config(name: str) -> dict:
    """The shipped config of a real backbone (model config, image processor, tokens, template)."""
    spec = get_backbone(name)
    if spec.tiny:
        raise InputError(
            f"backbone {name!r} is a tiny offline build; real-size configs exist for: {', '.join(shipped_backbones())}"
        )
    path = CONFIG_DIR / f"{name}.json"
    if not path.is_file():
        raise InputError(
            f"{path}: no shipped architecture config for {name!r}; shipped: {', '.join(shipped_backbones())}"
        )
    return json.loads(path.read_text())


def shipped_backbones() -> list[str]:
    return sorted(p.name[: -len(".json")] for p in CONFIG_DIR.iterdir() if p.name.endswith(".json"))


def build_tokenizer(cfg: dict):
    """Byte-level BPE trained locally on the task prompts, with the real special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from livr.io import progress_enabled
    from livr.model.tiny import _corpus

    specials = list(cfg["special_tokens"])
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=TOKENIZER_VOCAB,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=progress_enabled(),  # it prints blank lines into non-TTY output otherwise
    )
    tok.train_from_iterator(_corpus(), trainer)
    extra = [t for t in specials if t not in (cfg["eos_token"], cfg["pad_token"])]
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=cfg["eos_token"],
        pad_token=cfg["pad_token"],
        additional_special_tokens=extra,
        chat_template=cfg["chat_template"],
    )


def _shrunk(model_cfg: dict) -> dict:
    m = copy.deepcopy(model_cfg)
    text, vision = m["text_config"], m["vision_config"]
    text.update(SHRINK_TEXT)
    if "head_dim" in text:
        text["head_dim"] = SHRINK_TEXT["hidden_size"] // SHRINK_TEXT["num_attention_heads"]
    half = (text.get("head_dim") or SHRINK_TEXT["hidden_size"] // SHRINK_TEXT["num_attention_heads"]) // 2
    rope = text.get("rope_parameters")
    if rope and "mrope_section" in rope:  # keep the real proportions, summing to head_dim / 2
        sec = rope["mrope_section"]
        scaled = [max(1, round(s * half / sum(sec))) for s in sec]
        scaled[0] += half - sum(scaled)
        rope["mrope_section"] = scaled
    vision.update(SHRINK_VISION)
    if "embed_dim" in vision:
        vision["embed_dim"] = SHRINK_VISION["hidden_size"]
    if "fullatt_block_indexes" in vision:
        vision["fullatt_block_indexes"] = [0]
    if "deepstack_visual_indexes" in vision:
        vision["deepstack_visual_indexes"] = [0]
    if "out_hidden_size" in vision:
        vision["out_hidden_size"] = SHRINK_TEXT["hidden_size"]
    if "text_hidden_size" in vision:
        vision["text_hidden_size"] = SHRINK_TEXT["hidden_size"]
    return m


def _token_ids(model_cfg: dict, tokenizer) -> dict:
    return {k: tokenizer.convert_tokens_to_ids(t) for k, t in PLACEHOLDER_TOKENS.items() if k in model_cfg}


def build_config(name: str, tokenizer=None, shrink: bool = False):
    """(transformers config, shipped cfg dict, tokenizer) for a real backbone; no weights."""
    cfg = load_real_config(name)
    tokenizer = tokenizer or build_tokenizer(cfg)
    m = _shrunk(cfg["model"]) if shrink else copy.deepcopy(cfg["model"])
    text = {k: v for k, v in m["text_config"].items() if k != "rope"}
    text.update(bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    common = dict(tie_word_embeddings=m["tie_word_embeddings"], **_token_ids(m, tokenizer))
    return get_backbone(name).adapter.real_config(m, text, common, name), cfg, tokenizer


def _image_processor(cfg: dict):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    p = cfg["image_processor"]
    return Qwen2VLImageProcessorPil(
        patch_size=p["patch_size"],
        merge_size=p["merge_size"],
        temporal_patch_size=p["temporal_patch_size"],
        size={"shortest_edge": p["min_pixels"], "longest_edge": p["max_pixels"]},
        image_mean=p["image_mean"],
        image_std=p["image_std"],
    )


def random_weight_model(
    name: str, device: str = "cpu", dtype: torch.dtype = torch.float32, shrink: bool = False, attn: str = "sdpa"
):
    """(model, processor): the real-size architecture of `name` with random weights (no download)."""
    from livr.model.processors import build_processor

    family = get_backbone(name).adapter
    config, cfg, tokenizer = build_config(name, shrink=shrink)
    config._attn_implementation = attn
    cls = family.model_class()
    torch.manual_seed(SEED)
    with torch.device(device):
        model = cls._from_config(config, dtype=dtype)
    for c in (model.config, model.config.get_text_config(), model.generation_config):
        c.bos_token_id = None
        c.eos_token_id = tokenizer.eos_token_id
        c.pad_token_id = tokenizer.pad_token_id
    processor = build_processor(family, tokenizer, _image_processor(cfg))
    return model.eval(), processor


def parameter_counts(model) -> dict:
    """Parameters by part: vision tower, language model (matmul weights; the input embedding
    table is a lookup and is left out, a tied output head is counted once as the LM head)."""
    vision = sum(p.numel() for n, p in model.named_parameters() if ".visual." in f".{n}")
    emb = model.get_input_embeddings().weight
    out = model.get_output_embeddings()
    total = sum(p.numel() for p in model.parameters())
    lm = total - vision - emb.numel()
    if out is not None and out.weight.data_ptr() == emb.data_ptr():
        lm += emb.numel()  # tied: the table is stored once but the output matmul still runs
    return {"vision": vision, "language_model": lm, "embedding": emb.numel(), "total": total}
