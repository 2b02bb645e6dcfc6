"""`livr bench-data`: what the training data path costs in host memory and in step time.

A performance measurement (PERFORMANCE.md), as `livr bench` is; both keep their short names.

Two measurements, printed side by side (livr/model/encoded_split.py is the path measured):

1. Peak host memory of a training job against the size of its data set. The same tiny SFT run
   (two-image synthetic task, 2 epochs) at a small and a large train set, each in a fresh
   process that reports its peak RSS (itself and its DataLoader workers), for the lazy path
   (examples encoded on use) and for the eager path the project used before (every example
   encoded up front and held). Target: large/small <= 1.15 for the lazy path.
2. Step time of the data path plus a training step (forward, backward, AdamW), at the demo's
   batch size, repetition by repetition interleaved over the modes so machine noise hits them
   alike: eager (a pre-encoded list), lazy with 0 / 1 DataLoader workers, lazy with
   `keep_encoded` (the demo's setting). Target: lazy within 10% of eager (the demo's setting;
   workers only pay off when a core is free for them).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from livr.errors import InputError

RSS_TARGET = 1.15
STEP_TARGET = 1.10
MODES = ("eager", "lazy_workers0", "lazy_workers1", "lazy_keep")

# Run in a fresh interpreter so each measurement's peak RSS is its own.
_RSS_CHILD = r"""
import json, resource, sys
import torch
from livr import config as lc
from livr.settings import TrainConfig, replace
from livr.train import train_cell
import livr.train as train_module
from livr.model.encoded_split import EncodedSplit

params_file, data_dir, models_dir, out, mode, epochs = sys.argv[1:7]
params = lc.load_params(params_file)
cfg = TrainConfig.resolve(params, "ci", "tiny-qwen2.5-vl", "relative_reflectance", "sft")  # its data replaced below
cfg = replace(
    cfg,
    data_dirs=[data_dir],
    tasks=["visual_correspondence"],
    finetune="full",
    sft_epochs=float(epochs),
    batch_size=4,
    grad_accum=1,
    dataloader_workers=0,
    keep_encoded=False,
    evals_per_epoch=1,
)
if mode == "eager":  # the former path: every example encoded up front and held
    class Eager(list):
        def __init__(self, *args, **kwargs):
            lazy = EncodedSplit(*args, **kwargs)
            super().__init__(lazy[i] for i in range(len(lazy)))
    train_module.EncodedSplit = Eager
train_cell(cfg, out, models_dir, "cpu", threads=1)
kib = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"peak_rss_mb": kib / 1024}))
"""


def _build_data(root: Path, n_train: int, n_val: int) -> Path:
    from livr.data.synthetic import build_synthetic_task

    d = root / f"visual_correspondence_{n_train}"
    build_synthetic_task("visual_correspondence", d, n_train=n_train, n_val=n_val, n_test=1, seed=0)
    return d


def peak_rss(params_file: str, data_dir: Path, models_dir: Path, mode: str, epochs: int, out: Path) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, params_file, str(data_dir), str(models_dir), str(out), mode, str(epochs)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"measurement run failed ({mode}, {data_dir.name}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def step_times(data_dir: Path, models_dir: Path, batch_size: int, steps: int, reps: int) -> dict[str, list[float]]:
    """Seconds per step (waiting for the batch included) of each mode, `reps` rounds of `steps` steps."""
    from livr.model.backbones import get_backbone
    from livr.model.encoded_split import EncodedSplit
    from livr.model.inputs import Collator
    from livr.model.loading import load_backbone

    model, processor = load_backbone("tiny-qwen2.5-vl", models_dir, {}, torch.float32, "sdpa", "cpu")
    spec = get_backbone("tiny-qwen2.5-vl")
    collate = Collator(model, processor.tokenizer.pad_token_id, spec, None)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    lazy = EncodedSplit([data_dir], "train", processor, spec, [], "after_prompt")
    kept = EncodedSplit([data_dir], "train", processor, spec, [], "after_prompt", keep=True)
    eager = [lazy[i] for i in range(len(lazy))]
    for i in range(len(kept)):  # the demo keeps examples after their first epoch: measure that regime
        kept[i]
    sources = {"eager": (eager, 0), "lazy_workers0": (lazy, 0), "lazy_workers1": (lazy, 1), "lazy_keep": (kept, 0)}
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for rep in range(reps + 1):  # the first round warms up and is not counted
        for mode in MODES:
            data, workers = sources[mode]
            loader = torch.utils.data.DataLoader(
                data, batch_size=batch_size, shuffle=False, collate_fn=collate, num_workers=workers
            )
            it = iter(loader)
            next(it)  # a worker's start-up is paid once per epoch, not per step
            t0 = time.perf_counter()
            for _ in range(steps):
                batch = next(it)
                model(**batch).loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
            if rep:
                times[mode].append((time.perf_counter() - t0) / steps)
    return times


def run(small: int, large: int, epochs: int, batch_size: int, steps: int, reps: int, threads: int) -> dict:
    from livr.model.tiny import save_tiny

    torch.set_num_threads(threads)
    params_file = str(Path("params.yaml").resolve())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = root / "models"
        save_tiny("tiny-qwen2.5-vl", models / "tiny-qwen2.5-vl")
        rss = {}
        for n in (small, large):
            data = _build_data(root, n, n_val=16)
            for mode in ("lazy", "eager"):
                rss[f"{mode}_{n}"] = peak_rss(params_file, data, models, mode, epochs, root / f"run_{mode}_{n}")
        data = _build_data(root, batch_size * (steps + 1), n_val=1)
        times = step_times(data, models, batch_size, steps, reps)
    med = {m: statistics.median(v) for m, v in times.items()}
    return {
        "small": small,
        "large": large,
        "epochs": epochs,
        "peak_rss_mb": rss,
        "rss_ratio": {m: rss[f"{m}_{large}"] / rss[f"{m}_{small}"] for m in ("lazy", "eager")},
        "batch_size": batch_size,
        "steps": steps,
        "reps": reps,
        "threads": threads,
        "median_step_seconds": med,
        "step_ratio_to_eager": {m: med[m] / med["eager"] for m in MODES},
    }


def format_report(r: dict) -> str:
    lines = [
        f"livr bench-data: tiny-qwen2.5-vl, two-image task, SFT {r['epochs']} epochs (fresh process per run)",
        f"{'path':<8}{'peak RSS @' + str(r['small']):>16}{'@' + str(r['large']):>10}{'ratio':>8}  target <= "
        f"{RSS_TARGET}",
    ]
    for m in ("lazy", "eager"):
        ratio = r["rss_ratio"][m]
        verdict = ("ok" if ratio <= RSS_TARGET else "OVER") if m == "lazy" else "(the former path)"
        small, large = r["peak_rss_mb"][f"{m}_{r['small']}"], r["peak_rss_mb"][f"{m}_{r['large']}"]
        lines.append(f"{m:<8}{small:>13.0f} MB{large:>7.0f} MB{ratio:>8.3f}  {verdict}")
    lines.append(
        f"step time: batch {r['batch_size']}, {r['steps']} steps x {r['reps']} interleaved rounds, "
        f"{r['threads']} torch thread(s) (medians)"
    )
    lines.append(f"{'mode':<15}{'s/step':>9}{'vs eager':>10}  target <= {STEP_TARGET}")
    for m in MODES:
        ratio = r["step_ratio_to_eager"][m]
        verdict = "" if m == "eager" else ("ok" if ratio <= STEP_TARGET else "OVER")
        lines.append(f"{m:<15}{r['median_step_seconds'][m]:>9.4f}{ratio:>10.3f}  {verdict}")
    return "\n".join(lines)


def configure(parser) -> None:
    parser.add_argument("--small", type=int, default=64, help="train examples of the small run (default: %(default)s)")
    parser.add_argument("--large", type=int, default=768, help="train examples of the large run (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4, help="the demo's (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=8, help="steps per round of the step-time measurement")
    parser.add_argument("--reps", type=int, default=5, help="interleaved rounds (the first, a warm-up, not counted)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the demo's jobs use 1)")
    parser.add_argument("--json", help="also write the figures to this JSON file")


def main(args) -> int:
    if args.small >= args.large:
        raise InputError(f"--small {args.small} must be below --large {args.large}")
    r = run(args.small, args.large, args.epochs, args.batch_size, args.steps, args.reps, args.threads)
    print(format_report(r))
    if args.json:
        from livr.io import write_json

        write_json(args.json, r)
    return 0
