"""How much memory one job of a real backbone needs: a documented ESTIMATE, not a measurement.

From the shipped architecture config (livr/model/configs/<backbone>.json), the pixel budget
(params.yaml `backbones.<name>.max_pixels`) and the training settings. `livr doctor` compares the
training estimate with the GPUs it finds; the SLURM profile's `mem_mb` / GPU requests can follow
from `host_memory_gib` and `gpu_memory_gib` (a job is sized by its most demanding task).

GPU, one training step at per-device batch b (bf16 weights; LoRA or, for `finetune: full`, every
LM weight trainable):
  weights      P x 2 bytes (P: every parameter, vision tower included; bf16)
  trainable    T x 16 bytes (fp32 weight, gradient and AdamW's two moments; T: the LoRA matrices
               r x (d_in + d_out) on each target projection of each LM layer, plus K latent rows)
  sequence     S = images x max_pixels / (patch x merge)^2 + TEXT_TOKENS + K
  activations  with gradient checkpointing: one hidden state per layer, b x L x S x h x 2 bytes,
               plus one layer's recompute, b x S x (10 h + 4 I) x 2 bytes; without it, L times
               the recompute term
  mask         the additive 4D attention mask, b x S^2 x 2 bytes (sdpa's memory-efficient kernel
               takes it; the scores are never materialised)
  logits       b x S x V x 12 bytes (bf16 logits, their fp32 copy in the loss, its gradient)
  vision       the frozen tower's forward (no activations kept): b x patches x 8 vh x 2 bytes
  overhead     CUDA context and allocator: 1 GiB + 10 %
Host RAM of that job: the runtime (Python, torch, CUDA libraries: 3 GiB), the model as loaded on
the CPU before it moves to the GPU (P x 2 bytes; `livr.model.loading.load_backbone`), and the one
batch a training job holds (pixels as float32), plus 10 %. Each DataLoader worker (training
setting `dataloader_workers`; livr/model/encoded_split.py encodes examples there) adds its own heap
(WORKER_HOST_GIB) and the batches it prefetches (PREFETCH of them). Examples are encoded lazily, so
none of this grows with the data set (`livr bench-data` measures that on tiny backbones).
The SLURM profile's `mem_mb` of train and evaluate jobs is `job_mem_mb` (the rules' resources).
"""

from __future__ import annotations

import dataclasses
import math

from livr.data.registry import spec_of
from livr.settings import Training

GIB = 1024**3
TEXT_TOKENS = 160  # template + question + choices + answer (estimate; BLINK prompts run ~40-150 tokens)
RUNTIME_HOST_GIB = 3.0  # estimate: a Python process with torch, transformers and the CUDA libraries loaded
CUDA_OVERHEAD_GIB = 1.0  # estimate: CUDA context, cuBLAS workspaces
FRAGMENTATION = 1.10  # caching-allocator slack
WORKER_HOST_GIB = 0.5  # estimate: a forked DataLoader worker's own heap (the processor, PIL, numpy buffers)
PREFETCH = 2  # batches each worker encodes ahead (torch's default prefetch_factor)
TINY_JOB_MB = 2000  # tiny backbones on CPU: `livr bench-data` measures ~0.6 GB peak


@dataclasses.dataclass(frozen=True)
class Architecture:
    hidden: int
    layers: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied: bool
    attn_bias: bool  # Qwen2 attention has q/k/v biases
    qk_norm: bool  # Qwen3 normalises q and k per head
    v_depth: int
    v_hidden: int
    v_intermediate: int
    v_gated: bool  # SwiGLU MLP (Qwen2.5-VL's ViT) vs a plain 2-matrix MLP
    patch: int
    merge: int
    temporal_patch: int
    out_hidden: int
    deepstack: int  # extra patch mergers (Qwen3-VL's deepstack layers)
    pos_embed: int  # learned position embeddings of the ViT (Qwen3-VL)


def architecture(backbone: str) -> Architecture:
    from livr.model.real_configs import load_real_config

    cfg = load_real_config(backbone)["model"]
    t, v = cfg.get("text_config", cfg), cfg["vision_config"]
    hidden = t["hidden_size"]
    heads = t["num_attention_heads"]
    v_hidden = v.get("hidden_size") or v["embed_dim"]
    qwen3_lm = "head_dim" in t  # Qwen3 decoders state head_dim and use q/k norms, no biases
    return Architecture(
        hidden=hidden,
        layers=t["num_hidden_layers"],
        intermediate=t["intermediate_size"],
        heads=heads,
        kv_heads=t.get("num_key_value_heads", heads),
        head_dim=t.get("head_dim", hidden // heads),
        vocab=t.get("vocab_size", cfg.get("vocab_size")),
        tied=bool(cfg.get("tie_word_embeddings", t.get("tie_word_embeddings"))),
        attn_bias=not qwen3_lm,
        qk_norm=qwen3_lm,
        v_depth=v["depth"],
        v_hidden=v_hidden,
        v_intermediate=v["intermediate_size"],
        v_gated=v.get("hidden_act") == "silu",
        patch=v["patch_size"],
        merge=v["spatial_merge_size"],
        temporal_patch=v.get("temporal_patch_size", 1),
        out_hidden=v.get("out_hidden_size") or v.get("text_hidden_size") or hidden,
        deepstack=len(v.get("deepstack_visual_indexes", [])),
        pos_embed=v.get("num_position_embeddings", 0) * v_hidden,
    )


def param_count(a: Architecture) -> dict[str, int]:
    """Parameters of the LM and the vision tower (the published sizes to ~1 %)."""
    q, kv = a.heads * a.head_dim, a.kv_heads * a.head_dim
    attn = a.hidden * q + 2 * a.hidden * kv + q * a.hidden
    attn += (q + 2 * kv if a.attn_bias else 0) + (2 * a.head_dim if a.qk_norm else 0)
    layer = attn + 3 * a.hidden * a.intermediate + 2 * a.hidden
    lm = a.layers * layer + a.vocab * a.hidden * (1 if a.tied else 2) + a.hidden
    vh, m2 = a.v_hidden, a.merge**2
    block = 4 * vh * vh + 4 * vh + (3 if a.v_gated else 2) * vh * a.v_intermediate + 4 * vh
    merger = (vh * m2) ** 2 + vh * m2 * a.out_hidden + vh * m2 + a.out_hidden
    vision = a.v_depth * block + 3 * a.temporal_patch * a.patch**2 * vh + (1 + a.deepstack) * merger + a.pos_embed
    return {"lm": lm, "vision": vision, "total": lm + vision}


def lora_params(a: Architecture, r: int, targets) -> int:
    q, kv = a.heads * a.head_dim, a.kv_heads * a.head_dim
    dims = {
        "q_proj": (a.hidden, q),
        "k_proj": (a.hidden, kv),
        "v_proj": (a.hidden, kv),
        "o_proj": (q, a.hidden),
        "gate_proj": (a.hidden, a.intermediate),
        "up_proj": (a.hidden, a.intermediate),
        "down_proj": (a.intermediate, a.hidden),
    }
    return a.layers * sum(r * sum(dims[t]) for t in targets if t in dims)


def tokens_per_image(a: Architecture, max_pixels: int) -> int:
    return max_pixels // (a.patch * a.merge) ** 2


def sequence_length(a: Architecture, max_pixels: int, images: int, latents: int) -> int:
    return images * tokens_per_image(a, max_pixels) + TEXT_TOKENS + latents


def gpu_memory_gib(
    backbone: str, max_pixels: int, images: int, training: Training, latents: bool = True
) -> dict[str, float]:
    """The GPU memory of one training step (see the module docstring), by term and in total.
    `training`: the resolved training settings; `latents`: whether the job adds the K latents."""
    a = architecture(backbone)
    n = param_count(a)
    b = training.batch_size
    k = training.num_latents if latents and training.use_latents else 0
    s = sequence_length(a, max_pixels, images, k)
    if training.finetune == "full":
        trainable = n["lm"]
    else:
        trainable = lora_params(a, training.lora_r, training.lora_targets) + k * a.hidden
    layer_act = b * s * (10 * a.hidden + 4 * a.intermediate) * 2
    if training.gradient_checkpointing:
        act = b * a.layers * s * a.hidden * 2 + layer_act
    else:
        act = a.layers * layer_act
    patches = images * max_pixels // a.patch**2
    terms = {
        "weights": n["total"] * 2,
        "trainable": trainable * 16,
        "activations": act,
        "mask": b * s * s * 2,
        "logits": b * s * a.vocab * 12,
        "vision": b * patches * 8 * a.v_hidden * 2,
    }
    out = {name: v / GIB for name, v in terms.items()}
    out["total"] = (sum(terms.values()) / GIB + CUDA_OVERHEAD_GIB) * FRAGMENTATION
    out["sequence"] = s
    return out


def host_memory_gib(backbone: str, max_pixels: int, images: int, batch_size: int = 1, workers: int = 0) -> float:
    """Host RAM of one job of a real backbone holding one batch, its DataLoader workers with the
    batches they prefetch (see the module docstring)."""
    a = architecture(backbone)
    weights = param_count(a)["total"] * 2
    batch = batch_size * images * (max_pixels // a.patch**2) * 3 * a.temporal_patch * a.patch**2 * 4
    loaders = workers * (WORKER_HOST_GIB * GIB + PREFETCH * batch)
    return (RUNTIME_HOST_GIB + (weights + batch + loaders) / GIB) * FRAGMENTATION


def job_mem_mb(backbone: str, max_pixels: int | None, images: int, batch_size: int, workers: int) -> int:
    """The memory a SLURM job asks for (MB): the host estimate for real backbones, rounded up to
    the next GiB; a fixed TINY_JOB_MB for tiny backbones (measured peaks are ~0.6 GB)."""
    if max_pixels is None:
        return TINY_JOB_MB
    return 1024 * math.ceil(host_memory_gib(backbone, max_pixels, images, batch_size, workers))


def job_images(tasks) -> int:
    """The most images any example of these tasks has (what a job's memory is sized by; each
    task's, training set's or benchmark's spec gives its images per example)."""
    return max(spec_of(t).images for t in tasks)
