"""`livr bench`: SFT vs LIVR cost, measured side by side in one run.

The same examples, model and optimizer settings go through four modes, interleaved repetition by
repetition so machine noise hits them alike: an SFT train step (no latents, standard mask), a
LIVR Stage-1 step (K latents, bottleneck mask), a LIVR Stage-2 step (K latents, standard mask),
and greedy decoding with and without latents. LIVR adds K input tokens and nothing else, so its
cost ratio to SFT should stay near the token-count bound (L+K)/L, L the mean sequence length
without latents. Reported: median times, ratios, the bound, and peak memory per mode.
"""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
import time

import torch

from livr.data.schema import read_split
from livr.data.synthetic import build_synthetic_task
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, latent_token_strings, load_images
from livr.model.latents import add_latent_tokens
from livr.evaluate import greedy_decode

TARGET_SLACK = 1.05  # every LIVR/SFT ratio must be <= 1.05 x (L+K)/L


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


def load_bench_model(backbone: str, device: str, dtype: torch.dtype, models_dir: str | None):
    spec = get_backbone(backbone)
    if spec.tiny:
        from livr.model.tiny import build_model_and_processor

        model, processor = build_model_and_processor(backbone)
        return model.to(device=device, dtype=dtype), processor
    from livr.model.real_configs import random_weight_model

    return random_weight_model(backbone, device, dtype)


def run_bench(backbone: str, task: str, k: int, batch_size: int, reps: int, new_tokens: int, device: str, dtype: torch.dtype, models_dir=None) -> dict:
    spec = get_backbone(backbone)
    model, processor = load_bench_model(backbone, device, dtype, models_dir)
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
    gen = {}
    for name, examples in (("sft", plain), ("livr", with_latents)):
        prompts = [encode(r, im, processor, spec, [] if name == "sft" else latents, with_answer=False) for r, im in zip(records, imgs)]
        batch, roles = Collator(model, pad, spec, None, "left", dtype=dtype).collate(prompts)
        batch.pop("labels")
        gen[name] = (to_dev(batch), roles)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    times = {m: [] for m in [*train_batches, "eval_sft", "eval_livr"]}
    peaks = {m: 0.0 for m in times}
    for rep in range(reps + 1):  # the first repetition warms up and is not counted
        for mode, batch in train_batches.items():
            _reset_peak(device)
            _sync(device)
            t0 = time.perf_counter()
            loss = model(**batch).loss
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
    med = {m: statistics.median(v) for m, v in times.items()}
    bound = (L + k) / L
    ratios = {
        "livr_stage1": med["livr_stage1"] / med["sft"],
        "livr_stage2": med["livr_stage2"] / med["sft"],
        "eval": med["eval_livr"] / med["eval_sft"],
    }
    return {
        "backbone": backbone, "task": task, "device": device, "dtype": str(dtype).replace("torch.", ""),
        "batch_size": batch_size, "k": k, "reps": reps, "new_tokens": new_tokens,
        "mean_len_without_latents": L, "token_bound": bound, "median_seconds": med, "ratios_to_sft": ratios,
        "peak_memory_mb": peaks, "peak_memory_kind": "cuda max allocated" if device.startswith("cuda") else "process max RSS (cumulative)",
        "within_target": {m: r <= TARGET_SLACK * bound for m, r in ratios.items()},
    }


def format_report(r: dict) -> str:
    lines = [
        f"livr bench: {r['backbone']} on {r['task']} ({r['device']}, {r['dtype']}), batch {r['batch_size']}, K={r['k']}, "
        f"{r['reps']} reps (medians)",
        f"mean sequence length without latents L = {r['mean_len_without_latents']:.1f}; token bound (L+K)/L = {r['token_bound']:.3f}; "
        f"target: ratio <= {TARGET_SLACK} x bound = {TARGET_SLACK * r['token_bound']:.3f}",
        f"{'mode':<14}{'seconds':>12}{'ratio to sft':>14}{'peak MB':>10}  target",
    ]
    names = {"sft": None, "livr_stage1": "livr_stage1", "livr_stage2": "livr_stage2", "eval_sft": None, "eval_livr": "eval"}
    for mode, key in names.items():
        ratio = r["ratios_to_sft"][key] if key else 1.0
        verdict = ("ok" if r["within_target"][key] else "OVER") if key else ""
        unit = "s/example" if mode.startswith("eval") else "s/step"
        lines.append(f"{mode:<14}{r['median_seconds'][mode]:>10.4f} {unit:<9}{ratio:>6.3f}{r['peak_memory_mb'][mode]:>10.0f}  {verdict}")
    lines.append(f"peak memory: {r['peak_memory_kind']}")
    return "\n".join(lines)


def configure(parser) -> None:
    parser.add_argument("--backbone", default="tiny-qwen2.5-vl", help="a tiny backbone, or a real one with --random-weights")
    parser.add_argument("--random-weights", action="store_true", help="real backbones: build the real-size architecture with random weights (no download)")
    parser.add_argument("--task", default="relative_reflectance", help="synthetic task whose examples are used")
    parser.add_argument("--k", type=int, default=16, help="number of latent tokens (default 16, the paper's)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--new-tokens", type=int, default=4, help="tokens decoded per example in the eval timing")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--dtype", default=None, choices=["float32", "bfloat16"], help="default: float32 on cpu, bfloat16 on cuda")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--json", help="also write the figures to this JSON file")


def main(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    spec = get_backbone(args.backbone)
    if not spec.tiny and not args.random_weights:
        raise ValueError(f"{args.backbone} is a real backbone: pass --random-weights (benchmarks never download weights)")
    dtype = getattr(torch, args.dtype or ("float32" if args.device == "cpu" else "bfloat16"))
    r = run_bench(args.backbone, args.task, args.k, args.batch_size, args.reps, args.new_tokens, args.device, dtype)
    print(format_report(r))
    if args.json:
        from livr.io import write_json

        write_json(args.json, r)
    return 0
