"""`livr bench`: SFT vs LIVR cost (step time and memory), measured side by side in one run.

A performance measurement (PERFORMANCE.md), not an evaluation benchmark; the command keeps its
short name `bench` because users and workflow/scripts/gpu_checks.py call it.

The same examples, model and optimizer settings go through four modes, interleaved repetition by
repetition so machine noise hits them alike: an SFT train step (no latents, standard mask), a
LIVR Stage-1 step (K latents, bottleneck mask), a LIVR Stage-2 step (K latents, standard mask),
and greedy decoding with and without latents. LIVR adds K input tokens and nothing else, so its
cost ratio to SFT should stay near the token-count bound (L+K)/L, L the mean sequence length
without latents. Reported: median times, ratios, the bound, and peak memory per mode.

Throughput and model FLOP utilisation (MFU) per mode, against the card's dense bf16 peak
(`--peak-tflops`; detected from the CUDA device name: H100 SXM 989, H100 PCIe 756, H200 989
TFLOP/s; none on CPU unless given). FLOPs are counted, not measured:
- train step: 6 x N x T + 12 x layers x (heads x head_dim) x sum over rows of L_row^2 (the
  attention score and value matmuls, forward + backward, PaLM's convention without the causal
  halving), where T is the number of real (unpadded) tokens in the batch and N the language
  model's matmul parameters (the input embedding table is a lookup and is left out; a tied output
  head counts once); plus 6 x N_vision x the number of vision patches. This is full fine-tuning,
  which is what the bench runs; a LoRA step does about 4 x N x T (no frozen-weight gradients).
- eval (greedy decoding): 2 x N x (prompt tokens + decoded tokens) + 2 x N_vision x patches.
Tokens/s counts the real tokens of the batch per step (train) or the decoded tokens (eval).

Compute only what changes (the recipes' frozen vision tower and projector): three more train modes
run the SFT batch with only the language model training, as LoRA and `full_lm` do, interleaved
with the others:
- `frozen_vision`: the vision tower runs forward each step (no backward: nothing there trains);
- `frozen_vision_cached`: its features come from the vision feature cache (livr/model/vision_cache.py),
  filled in the warm-up repetition;
- `labelled_head`: as `frozen_vision`, with the LM head on the labelled positions only, as
  `livr train` runs it (livr/stage_trainer.py), against full-vocabulary logits everywhere.
The FLOP model's prediction for the cache: the vision forward, 2 x N_vision x patches, is this share of
the `frozen_vision` step (6 x N x T + attention + 2 x N_vision x patches), so the cached step should take
1 - share of its time. Reported for the model that ran and, where it is a shrunk build, for the real-size
architecture on the same batch (its parameters counted on the meta device). The full fine-tuning modes
update the vision weights between repetitions, so the cached features are stale: they time the path,
their values are not used.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time

import torch

from livr.data.schema import read_split
from livr.data.synthetic import build_synthetic_task
from livr.decoding import greedy_decode
from livr.errors import InputError
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, labelled_positions, latent_token_strings, load_images
from livr.model.latents import add_latent_tokens
from livr.model.vision_cache import VisionFeatureCache
from livr.train import is_language_model_weight

TARGET_SLACK = 1.05  # every LIVR/SFT ratio must be <= 1.05 x (L+K)/L
FROZEN_VISION_MODES = ("frozen_vision", "frozen_vision_cached", "labelled_head")
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100 PCIe": 756.0, "H100": 989.0}  # dense, no sparsity


def detect_peak_tflops(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    name = torch.cuda.get_device_name()
    for key, peak in PEAK_BF16_TFLOPS.items():  # most specific first
        if key.lower() in name.lower():
            return peak
    return None


def _attention_dims(model) -> tuple[int, int]:
    text = model.config.get_text_config()
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    return text.num_hidden_layers, text.num_attention_heads * head_dim


def _patches(batch: dict) -> int:
    grid = batch.get("image_grid_thw")
    return int(grid.prod(-1).sum()) if grid is not None else 0


def train_flops(model, lengths: list[int], patches: int, counts: dict) -> float:
    """One full fine-tuning step over rows of `lengths` real tokens (see the module docstring)."""
    layers, width = _attention_dims(model)
    attn = 12 * layers * width * sum(n * n for n in lengths)
    return 6 * counts["language_model"] * sum(lengths) + attn + 6 * counts["vision"] * patches


def vision_share(model, lengths: list[int], patches: int) -> float:
    """The FLOP model's share of a frozen-vision train step that is the vision forward."""
    from livr.model.real_configs import parameter_counts

    vision = 2 * parameter_counts(model)["vision"] * patches
    return vision / (train_flops(model, lengths, 0, parameter_counts(model)) + vision)


def vision_cache_figures(
    model, backbone: str, dtype, shrink: bool, med: dict, lengths: list[int], patches: int
) -> dict:
    """Measured time ratios of the frozen-vision modes beside the FLOP model's prediction."""
    figures = {
        "measured_ratio": med["frozen_vision_cached"] / med["frozen_vision"],
        "predicted_share": vision_share(model, lengths, patches),
        "labelled_head_ratio": med["labelled_head"] / med["frozen_vision"],
    }
    if shrink:  # the same batch through the real-size architecture, counted on the meta device
        from livr.model.real_configs import random_weight_model

        real, _ = random_weight_model(backbone, "meta", dtype)
        figures["predicted_share_real_size"] = vision_share(real, lengths, patches)
    return figures


def eval_flops(counts: dict, prompt_tokens: int, decoded_tokens: int, patches: int) -> float:
    return 2 * counts["language_model"] * (prompt_tokens + decoded_tokens) + 2 * counts["vision"] * patches


def _peak_mb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process high-water mark (KiB on Linux)


def _reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def load_bench_model(backbone: str, device: str, dtype: torch.dtype, models_dir: str | None, shrink: bool = False):
    spec = get_backbone(backbone)
    if spec.tiny:
        from livr.model.tiny import build_model_and_processor

        model, processor = build_model_and_processor(backbone)
        return model.to(device=device, dtype=dtype), processor
    from livr.model.real_configs import random_weight_model

    return random_weight_model(backbone, device, dtype, shrink=shrink)


class TrainModes:
    """The loss of a train step in each mode. The frozen-vision modes train the language model only
    (the vision weights are switched off for the step) and run the SFT batch."""

    def __init__(self, model):
        self.model = model
        self.vision = [p for n, p in model.named_parameters() if not is_language_model_weight(n)]
        self.cache = VisionFeatureCache(model, float("inf"), tempfile.mkdtemp(prefix="livr-bench-vision-"))
        self.cache.uninstall()

    def loss(self, mode: str, batch: dict) -> torch.Tensor:
        for p in self.vision:
            p.requires_grad_(mode not in FROZEN_VISION_MODES)
        if mode == "frozen_vision_cached":
            self.cache.install()
        try:
            if mode == "labelled_head":
                keep = labelled_positions(batch["labels"])
                return self.model(**batch, logits_to_keep=keep, shift_labels=batch["labels"][:, 1:][keep[:, :-1]]).loss
            return self.model(**batch).loss
        finally:
            self.cache.uninstall()


def run_bench(
    backbone: str,
    task: str,
    k: int,
    batch_size: int,
    reps: int,
    new_tokens: int,
    device: str,
    dtype: torch.dtype,
    models_dir=None,
    peak_tflops: float | None = None,
    shrink: bool = False,
) -> dict:
    from livr.model.real_configs import parameter_counts

    spec = get_backbone(backbone)
    model, processor = load_bench_model(backbone, device, dtype, models_dir, shrink)
    counts = parameter_counts(model)
    latents = latent_token_strings(k)
    latent_ids = add_latent_tokens(model, processor, k, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        build_synthetic_task(task, f"{tmp}/{task}", n_train=batch_size, n_val=1, n_test=1, seed=0)
        records = read_split(f"{tmp}/{task}", "train")
        imgs = [load_images(r, f"{tmp}/{task}") for r in records]
    plain = [encode(r, im, processor, spec, []) for r, im in zip(records, imgs)]
    with_latents = [encode(r, im, processor, spec, latents) for r, im in zip(records, imgs)]
    L = statistics.mean(len(e.input_ids) for e in plain)
    pad = processor.tokenizer.pad_token_id

    def to_dev(batch):
        return {key: v.to(device) for key, v in batch.items()}

    train_batches = {
        "sft": to_dev(Collator(model, pad, spec, None, dtype=dtype)(plain)),
        "livr_stage1": to_dev(Collator(model, pad, spec, "default", dtype=dtype)(with_latents)),
        "livr_stage2": to_dev(Collator(model, pad, spec, None, dtype=dtype)(with_latents)),
    }
    modes = TrainModes(model)

    gen = {}
    for name, latent_tokens in (("sft", []), ("livr", latents)):
        prompts = [encode(r, im, processor, spec, latent_tokens, with_answer=False) for r, im in zip(records, imgs)]
        batch, roles = Collator(model, pad, spec, None, "left", dtype=dtype).collate(prompts)
        batch.pop("labels")
        gen[name] = (to_dev(batch), roles)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    times = {m: [] for m in [*train_batches, *FROZEN_VISION_MODES, "eval_sft", "eval_livr"]}
    peaks = {m: 0.0 for m in times}
    for rep in range(reps + 1):  # the first repetition warms up (and fills the cache) and is not counted
        for mode in [*train_batches, *FROZEN_VISION_MODES]:
            _reset_peak(device)
            _sync(device)
            t0 = time.perf_counter()
            loss = modes.loss(mode, train_batches.get(mode, train_batches["sft"]))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            _sync(device)
            if rep:
                times[mode].append(time.perf_counter() - t0)
            peaks[mode] = max(peaks[mode], _peak_mb(device))
        model.eval()
        for name, (batch, roles) in gen.items():
            _reset_peak(device)
            _sync(device)
            t0 = time.perf_counter()
            greedy_decode(model, batch, roles, None, new_tokens, [-1], latent_ids)  # no stop: same length for both
            _sync(device)
            if rep:
                times[f"eval_{name}"].append((time.perf_counter() - t0) / batch_size)
            peaks[f"eval_{name}"] = max(peaks[f"eval_{name}"], _peak_mb(device))
        model.train()
    modes.cache.close()
    med = {m: statistics.median(v) for m, v in times.items()}
    # real (unpadded) tokens per train step; decoded tokens per example in eval
    lengths = {"sft": [len(e.input_ids) for e in plain]}
    lengths["livr_stage1"] = lengths["livr_stage2"] = [len(e.input_ids) for e in with_latents]
    flops = {m: train_flops(model, lengths[m], _patches(b), counts) for m, b in train_batches.items()}
    for n, (b, roles) in gen.items():  # per example, as the eval times are
        flops[f"eval_{n}"] = (
            eval_flops(counts, int((roles >= 0).sum()), batch_size * new_tokens, _patches(b)) / batch_size
        )
    patches = _patches(train_batches["sft"])
    flops["frozen_vision"] = flops["labelled_head"] = (
        train_flops(model, lengths["sft"], 0, counts) + 2 * counts["vision"] * patches
    )
    flops["frozen_vision_cached"] = train_flops(model, lengths["sft"], 0, counts)
    lengths.update(dict.fromkeys(FROZEN_VISION_MODES, lengths["sft"]))
    cache_figures = vision_cache_figures(model, backbone, dtype, shrink, med, lengths["sft"], patches)
    tokens_per_s = {m: sum(lengths[m]) / med[m] for m in [*train_batches, *FROZEN_VISION_MODES]}
    tokens_per_s.update({f"eval_{n}": new_tokens / med[f"eval_{n}"] for n in gen})
    achieved = {m: flops[m] / med[m] / 1e12 for m in med}
    mfu = {m: (achieved[m] / peak_tflops if peak_tflops else None) for m in med}
    bound = (L + k) / L
    ratios = {
        "livr_stage1": med["livr_stage1"] / med["sft"],
        "livr_stage2": med["livr_stage2"] / med["sft"],
        "eval": med["eval_livr"] / med["eval_sft"],
    }
    return {
        "backbone": backbone,
        "task": task,
        "device": device,
        "dtype": str(dtype).replace("torch.", ""),
        "batch_size": batch_size,
        "k": k,
        "reps": reps,
        "new_tokens": new_tokens,
        "mean_len_without_latents": L,
        "token_bound": bound,
        "median_seconds": med,
        "ratios_to_sft": ratios,
        "peak_memory_mb": peaks,
        "peak_memory_kind": "cuda max allocated" if device.startswith("cuda") else "process max RSS (cumulative)",
        "within_target": {m: r <= TARGET_SLACK * bound for m, r in ratios.items()},
        "parameters": counts,
        "shrunk": shrink,
        "tokens_per_second": tokens_per_s,
        "flops_per_step": flops,
        "achieved_tflops": achieved,
        "peak_tflops": peak_tflops,
        "mfu": mfu,
        "vision_cache": cache_figures,
    }


def _row(r: dict, mode: str, ratio: float, unit: str, verdict: str) -> str:
    mfu = r["mfu"][mode]
    mfu_text = f"{100 * mfu:.1f}%" if mfu is not None else "-"
    return (
        f"{mode:<21}{r['median_seconds'][mode]:>10.4f} {unit:<9}{ratio:>6.3f}{r['peak_memory_mb'][mode]:>10.0f}"
        f"{r['tokens_per_second'][mode]:>11.1f}{r['achieved_tflops'][mode]:>9.3f}{mfu_text:>7}  {verdict}"
    )


def format_report(r: dict) -> str:
    lines = [
        f"livr bench: {r['backbone']} on {r['task']} ({r['device']}, {r['dtype']}), batch {r['batch_size']}, "
        f"K={r['k']}, "
        f"{r['reps']} reps (medians)",
        f"mean sequence length without latents L = {r['mean_len_without_latents']:.1f}; token bound (L+K)/L = "
        f"{r['token_bound']:.3f}; "
        f"target: ratio <= {TARGET_SLACK} x bound = {TARGET_SLACK * r['token_bound']:.3f}",
        f"{'mode':<21}{'seconds':>12}{'ratio to sft':>14}{'peak MB':>10}{'tokens/s':>11}{'TFLOP/s':>9}{'MFU':>7}  "
        "target",
    ]
    names = {
        "sft": None,
        "livr_stage1": "livr_stage1",
        "livr_stage2": "livr_stage2",
        "eval_sft": None,
        "eval_livr": "eval",
    }
    for mode, key in names.items():
        ratio = r["ratios_to_sft"][key] if key else 1.0
        if mode == "eval_sft":  # the frozen-vision modes, after the full fine-tuning ones
            lines += [
                _row(r, m, r["median_seconds"][m] / r["median_seconds"]["sft"], "s/step", "")
                for m in FROZEN_VISION_MODES
            ]
        verdict = ("ok" if r["within_target"][key] else "OVER") if key else ""
        lines.append(_row(r, mode, ratio, "s/example" if mode.startswith("eval") else "s/step", verdict))
    lines.append(
        f"peak memory: {r['peak_memory_kind']}; MFU against {r['peak_tflops'] or 'no'} TFLOP/s peak"
        f" (train: 6 x N x tokens + attention; eval: 2 x N x tokens; livr/ops/bench.py docstring)"
    )
    c = r["vision_cache"]
    lines.append(
        f"vision feature cache: cached/uncached frozen-vision step {c['measured_ratio']:.3f} measured, "
        f"{1 - c['predicted_share']:.3f} predicted (vision forward {100 * c['predicted_share']:.1f}% of the step's "
        "FLOPs"
        + (f"; {100 * c['predicted_share_real_size']:.1f}% at real size" if "predicted_share_real_size" in c else "")
        + f"); LM head on labelled positions only: {c['labelled_head_ratio']:.3f} x the full-logits step"
    )
    lines.append(
        f"parameters: LM {r['parameters']['language_model'] / 1e6:.1f}M, vision {r['parameters']['vision'] / 1e6:.1f}M"
        + (" (shrunk test build)" if r["shrunk"] else "")
    )
    return "\n".join(lines)


def configure(parser) -> None:
    parser.add_argument(
        "--backbone", default="tiny-qwen2.5-vl", help="a tiny backbone, or a real one with --random-weights"
    )
    parser.add_argument(
        "--random-weights",
        action="store_true",
        help="real backbones: build the real-size architecture with random weights (no download)",
    )
    parser.add_argument("--task", default="relative_reflectance", help="synthetic task whose examples are used")
    parser.add_argument("--k", type=int, default=16, help="number of latent tokens (default 16, the paper's)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--new-tokens", type=int, default=4, help="tokens decoded per example in the eval timing")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--dtype", default=None, choices=["float32", "bfloat16"], help="default: float32 on cpu, bfloat16 on cuda"
    )
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--peak-tflops", type=float, help="the card's dense bf16 peak for MFU (default: detected for H100/H200)"
    )
    parser.add_argument(
        "--shrink", action="store_true", help="tests only: a shrunk build of the real config (2 LM layers, hidden 64)"
    )


def main(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    for option in ("k", "batch_size", "reps", "new_tokens"):
        if getattr(args, option) < 1:
            raise InputError(f"--{option.replace('_', '-')} {getattr(args, option)}: must be at least 1")
    spec = get_backbone(args.backbone)
    if not spec.tiny and not args.random_weights:
        raise InputError(
            f"{args.backbone} is a real backbone: pass --random-weights (livr bench never downloads weights)"
        )
    dtype = getattr(torch, args.dtype or ("float32" if args.device == "cpu" else "bfloat16"))
    peak = args.peak_tflops or detect_peak_tflops(args.device)
    r = run_bench(
        args.backbone,
        args.task,
        args.k,
        args.batch_size,
        args.reps,
        args.new_tokens,
        args.device,
        dtype,
        peak_tflops=peak,
        shrink=args.shrink,
    )
    print(format_report(r))
    if args.json:
        from livr.io import write_json

        write_json(args.json, r)
    return 0
