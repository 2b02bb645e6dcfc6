"""How much memory one job of a real backbone needs: a documented ESTIMATE, not a measurement.

From the shipped architecture config (livr/model/configs/<backbone>.json), the pixel budget
(params.yaml `backbones.<name>.max_pixels`) and the training settings. `livr doctor` compares the
training estimate with the GPUs it finds; the SLURM profile's `mem_mb` / GPU requests can follow
from `host_memory_gib` and `gpu_memory_gib` (a job is sized by its most demanding task).

GPU, one training step at per-device batch b, weights in the training `dtype` (w bytes: 2 for bf16):
  weights      P x w bytes (P: every parameter, vision tower included)
  trainable    LoRA and prompt tuning: T x 16 bytes (peft keeps its adapter matrices and trainable
               token rows in fp32: weight, gradient and AdamW's two moments; T: the LoRA matrices
               r x (d_in + d_out) on each target projection of each LM layer, plus K latent rows; prompt:
               the K rows only). Full-weight modes (`full`: every weight; `full_lm`: the language model,
               vision tower and projector frozen, as LVR and Mirage train): T x 3w bytes, a gradient and
               AdamW's two moments in the weights' own dtype. The model is loaded in `dtype` and the
               Trainer's bf16 flag only autocasts; torch's AdamW makes its moments like the parameter and
               nothing keeps an fp32 master copy (DeepSpeed's bf16 recipe, which LVR's official code uses,
               keeps one and its moments in fp32: 16 bytes per trainable weight, not 8).
               Qwen2.5-VL-7B, full_lm, bf16: its 7.6e9 LM weights x (2 + 6) bytes = 57 GiB on their own.
  sequence     S = images x max_pixels / (patch x merge)^2 + TEXT_TOKENS + latent positions: LIVR's K;
               LVR's box tokens, at most one image's merged tokens, + its 3 markers; Mirage's K + 2
  activations  with gradient checkpointing: one hidden state per layer, b x L x S x h x 2 bytes,
               plus one layer's recompute, b x S x (10 h + 4 I) x 2 bytes; without it, L times
               the recompute term
  mask         the additive 4D attention mask, b x S^2 x 2 bytes (sdpa's memory-efficient kernel
               takes it; the scores are never materialised)
  logits       b x S x V x 12 bytes (bf16 logits, their fp32 copy in the loss, its gradient)
  vision       the frozen tower's forward (no activations kept): b x patches x 8 vh x 2 bytes
               (Mirage's stage 1 also encodes the helper image: one more image's patches)
  overhead     CUDA context and allocator: 1 GiB + 10 %
Host RAM of that job: the runtime (Python, torch, CUDA libraries: 3 GiB), the model as loaded on
the CPU before it moves to the GPU (P x 2 bytes; `livr.model.loading.load_backbone`), and the one
batch a training job holds (pixels as float32), plus 10 %. Each DataLoader worker (training
setting `dataloader_workers`; livr/model/encoded_split.py encodes examples there) adds its own heap
(WORKER_HOST_GIB) and the batches it prefetches (PREFETCH of them). Examples are encoded lazily, so
none of this grows with the data set (`livr bench-data` measures that on tiny backbones).
The SLURM profile's `mem_mb` of train and evaluate jobs is `job_mem_mb` (the rules' resources).

`fit_advice` turns a training estimate above one 80 GB GPU (ONE_GPU_GIB) into one line naming the
experiment, backbone and method and what to do; `livr doctor` prints it. Data parallelism does not
help there: each process holds the whole model and optimizer (no DeepSpeed or FSDP sharding is
wired in). Time: a full-weight step does about 6 x N x T FLOPs against LoRA's 4 x N x T (N the LM's
parameters, T the tokens; `livr bench`'s FLOP model), so full_lm costs about 1.5x LoRA's step time.
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
ONE_GPU_GIB = 79.0  # an "80 GB" A100 / H100 as torch reports it (79.1-79.6 GiB)
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}
ADAPTER_STATE_BYTES = 16  # peft's fp32 adapter weight, its gradient and AdamW's two moments
FULL_WEIGHT_MODES = ("full", "full_lm")  # as livr.model.loading's (not imported: it pulls in torch)
LVR_MARKERS = 3  # <|lvr_start|>, then <|lvr_latent_end|><|lvr_end|> around the box tokens
MIRAGE_MARKERS = 2  # <|latent_start|> ... <|latent_end|>


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


def latent_positions(a: Architecture, max_pixels: int, train: str | None, training: Training) -> int:
    """The sequence positions a method adds (`train`: the method's training kind; None or sft: none)."""
    if train == "livr":
        return training.num_latents if training.use_latents else 0
    if train == "lvr":  # the box's merged tokens: at most the whole image
        return tokens_per_image(a, max_pixels) + LVR_MARKERS
    if train == "mirage":
        return training.mirage_latents + MIRAGE_MARKERS
    return 0


def trainable_bytes(a: Architecture, training: Training, latents: int) -> int:
    """Bytes of what training adds per trainable weight (see the module docstring)."""
    if training.finetune in FULL_WEIGHT_MODES:
        n = param_count(a)
        weights = n["total"] if training.finetune == "full" else n["lm"]
        return weights * 3 * DTYPE_BYTES[training.dtype]
    rows = latents * a.hidden
    if training.finetune == "prompt":
        return rows * ADAPTER_STATE_BYTES
    return (lora_params(a, training.lora_r, training.lora_targets) + rows) * ADAPTER_STATE_BYTES


def gpu_memory_gib(backbone: str, max_pixels: int, images: int, training: Training, train: str | None) -> dict:
    """The GPU memory of one training step (see the module docstring), by term and in total, and the
    sequence length. `training`: the resolved training settings; `train`: the method's training kind
    (sft, livr, lvr, mirage), which sets the latent positions."""
    a = architecture(backbone)
    n = param_count(a)
    b = training.batch_size
    k = latent_positions(a, max_pixels, train, training)
    s = sequence_length(a, max_pixels, images, k)
    layer_act = b * s * (10 * a.hidden + 4 * a.intermediate) * 2
    if training.gradient_checkpointing:
        act = b * a.layers * s * a.hidden * 2 + layer_act
    else:
        act = a.layers * layer_act
    encoded = images + (1 if train == "mirage" else 0)  # Mirage's helper image goes through the tower too
    patches = encoded * max_pixels // a.patch**2
    terms = {
        "weights": n["total"] * DTYPE_BYTES[training.dtype],
        "trainable": trainable_bytes(a, training, k),
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


def fit_advice(
    exp: str,
    backbone: str,
    method: str | None,
    need_gib: float,
    training: Training,
    gpu_gib: float = ONE_GPU_GIB,
    gpu: str = "one 80 GB GPU",
    params_file: str = "params.yaml",
) -> str | None:
    """One line when a training job's estimate does not fit `gpu` (`gpu_gib`): what it needs and what to
    do (the keys to set in `params_file`); None when it fits. `method`: the trained method (None: the
    experiment trains nothing)."""
    if need_gib <= gpu_gib:
        return None
    full = training.finetune in FULL_WEIGHT_MODES
    why = (
        f"finetune: {training.finetune} keeps a gradient and AdamW's two moments of every trainable weight"
        if full
        else "weights, LoRA state, activations and logits"
    )
    todo = [f"a GPU with >= {math.ceil(need_gib)} GiB (an H200 has 141 GB)"]
    if full and method:
        todo.append(f"`finetune: lora` on methods.{method} (a declared deviation from its recipe)")
    if not training.gradient_checkpointing:
        todo.append("`gradient_checkpointing: true`")
    todo.append(f"a lower backbones.{backbone}.max_pixels")
    todo[1:] = [f"{t} in {params_file}" for t in todo[1:]]
    what = f"method {method}" if method else "no trained method"
    return (
        f"experiment {exp}, {backbone}, {what}: training needs ~{need_gib:.0f} GiB ({why}), more than "
        f"{gpu} ({gpu_gib:.0f} GiB); use " + ", or ".join(todo) + " (data parallelism does not shard it: "
        "no DeepSpeed or FSDP here)"
    )


def job_images(tasks) -> int:
    """The most images any example of these tasks has (what a job's memory is sized by; each
    task's, training set's or benchmark's spec gives its images per example)."""
    return max(spec_of(t).images for t in tasks)
