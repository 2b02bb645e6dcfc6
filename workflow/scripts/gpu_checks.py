"""Every GPU check of PERFORMANCE.md in one prepared, time-boxed run; JSON under results/bench/.

Whoever first has a GPU runs this once and records the figures in PERFORMANCE.md:

    python workflow/scripts/gpu_checks.py                  # one GPU, under 8 minutes (steps: a 420 s budget)
    python workflow/scripts/gpu_checks.py --dry-run        # the plan: each step's command and time limit
    python workflow/scripts/gpu_checks.py --released --budget 1020   # + the released checkpoints (hub needed)
    python workflow/scripts/gpu_checks.py --device cpu --shrink --backbones qwen2.5-vl-3b --reps 1   # CPU smoke path

Steps, in order of importance (each a `livr` command, run as `python -m livr` from the repository
root so no install is needed; steps 1-3 download nothing: `--random-weights` builds the real-size
architecture from livr/model/configs/ with random weights, bf16, sdpa):
  1. verify-bottleneck on every shipped real-size config: the Stage-1 mask leaks nothing (exact
     zeros at blocked positions and at the first-answer-token predictor), written to
     results/bench/verify-<backbone>.json;
  2. bench SFT vs LIVR (K = 16) at the paper's per-device batch 1 on every config:
     results/bench/<backbone>-b1.json;
  3. bench Qwen3-VL-4B at micro-batch 8: results/bench/qwen3-vl-4b-b8.json;
  4. with --released: each released checkpoint of params.yaml (a method's `weights_from`, e.g. LVR-7B)
     evaluated on its experiment's first benchmark with `livr evaluate`, to check our decoder against
     the published numbers before training anything: results/bench/released-<method>-<task>.jsonl
     (and .json). Skipped, with a one-line reason, when its weights are neither cached nor on a
     reachable hub, or its benchmark is not built (`snakemake --config experiment=<exp>` builds it).
Each step runs under its own time limit (killed past it); a step whose limit no longer fits in
what is left of `--budget` is skipped. results/bench/gpu_checks.json records every step: command,
status (ok | failed | timeout | skipped | unavailable: a released checkpoint that cannot be had here,
not counted as a failure), exit code, seconds and the tail of its output, plus the
GPU, torch and transformers versions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BACKBONES = ("qwen2.5-vl-3b", "qwen3-vl-4b", "llava-ov-1.5-4b", "qwen2.5-vl-7b")  # livr/model/configs/*.json
OUT = "results/bench"
TAIL = 4000  # characters of each step's output kept in the summary


def plan(args) -> list[dict]:
    """The steps: name, argv (after `python -m livr`), time limit in seconds."""
    dtype = "bfloat16" if args.device.startswith("cuda") else "float32"
    shrink = ["--shrink"] if args.shrink else []
    steps = []
    for b in args.backbones:
        steps.append(
            {
                "name": f"verify-{b}",
                "limit": args.verify_limit,
                "argv": [
                    "verify-bottleneck",
                    "--backbone",
                    b,
                    "--random-weights",
                    "--device",
                    args.device,
                    "--dtype",
                    dtype,
                    "--attn",
                    "sdpa",
                    "--k",
                    str(args.k),
                    *shrink,
                    "--json",
                    f"{args.out}/verify-{b}.json",
                ],
            }
        )
    for b in args.backbones:
        steps.append(
            {
                "name": f"bench-{b}-b1",
                "limit": args.bench_limit,
                "argv": [
                    "bench",
                    "--backbone",
                    b,
                    "--random-weights",
                    "--device",
                    args.device,
                    "--dtype",
                    dtype,
                    "--batch-size",
                    "1",
                    "--k",
                    str(args.k),
                    "--reps",
                    str(args.reps),
                    "--new-tokens",
                    "16",
                    *shrink,
                    "--json",
                    f"{args.out}/{b}-b1.json",
                ],
            }
        )
    if "qwen3-vl-4b" in args.backbones:
        steps.append(
            {
                "name": "bench-qwen3-vl-4b-b8",
                "limit": args.bench_limit,
                "argv": [
                    "bench",
                    "--backbone",
                    "qwen3-vl-4b",
                    "--random-weights",
                    "--device",
                    args.device,
                    "--dtype",
                    dtype,
                    "--batch-size",
                    "8",
                    "--k",
                    str(args.k),
                    "--reps",
                    str(max(1, args.reps // 2)),
                    *shrink,
                    "--json",
                    f"{args.out}/qwen3-vl-4b-b8.json",
                ],
            }
        )
    if args.released:
        steps += released_steps(args)
    return steps


def released_steps(args) -> list[dict]:
    """One `livr evaluate` per released checkpoint of params.yaml: its first cell (backbone, train set,
    benchmark) in the first experiment that lists it; `requires` says what must be there to start it."""
    sys.path.insert(0, str(REPO))  # run as a script: the repository's livr
    from livr import config as lc

    params = lc.load_params(REPO / "params.yaml")
    steps, seen = [], set()
    for exp in params["experiments"]:
        for c in lc.cells(params, exp):
            source = lc.released_weights(params, c.method)
            if source is None or c.method in seen:
                continue
            seen.add(c.method)
            name = f"released-{c.method}-{c.task}"
            steps.append(
                {
                    "name": name,
                    "limit": args.released_limit,
                    "requires": {"weights": source, "data": str(REPO / lc.task_dir(params, exp, c.task))},
                    "argv": [
                        "evaluate",
                        "--experiment",
                        exp,
                        "--backbone",
                        c.backbone,
                        "--train-set",
                        c.train_set,
                        "--method",
                        c.method,
                        "--task",
                        c.task,
                        "--device",
                        args.device,
                        "--out",
                        f"{args.out}/{name}.jsonl",
                    ],
                }
            )
    return steps


def unavailable(step: dict) -> str | None:
    """Why a step cannot start (a released checkpoint's weights or benchmark missing); None when it can."""
    needs = step.get("requires")
    if needs is None:
        return None
    from livr.ops.hub_weights import hub_weights_missing, is_local_weights

    if not is_local_weights(needs["weights"]):
        why = hub_weights_missing(needs["weights"])
        if why is not None:
            return f"{needs['weights']} not in the Hugging Face cache and {why}"
    if not Path(needs["data"]).is_dir():
        return f"{needs['data']} not built (snakemake builds it for its experiment)"
    return None


def environment() -> dict:
    env = {"python": sys.version.split()[0]}
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        env["gpus"] = smi.stdout.strip().splitlines() if smi.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        env["gpus"] = []
    probe = (
        "import json, torch, transformers; "
        "print(json.dumps({'torch': torch.__version__, 'transformers': transformers.__version__}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    env.update(json.loads(out.stdout) if out.returncode == 0 else {"probe_error": out.stderr[-TAIL:]})
    return env


def run_step(step: dict, env: dict) -> dict:
    cmd = [sys.executable, "-m", "livr", *step["argv"]]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=step["limit"])
        status, rc, output = ("ok" if proc.returncode == 0 else "failed"), proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        status, rc = "timeout", None
        output = "".join(x.decode() if isinstance(x, bytes) else (x or "") for x in (e.stdout, e.stderr))
    return {
        "status": status,
        "returncode": rc,
        "seconds": round(time.monotonic() - t0, 1),
        "output_tail": output[-TAIL:],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu (the smoke path, with --shrink)")
    ap.add_argument("--backbones", nargs="+", default=list(BACKBONES), choices=BACKBONES)
    ap.add_argument("--k", type=int, default=16, help="latent tokens (default 16, the paper's)")
    ap.add_argument(
        "--reps", type=int, default=10, help="timed repetitions per bench mode at batch 1 (half at batch 8)"
    )
    ap.add_argument("--verify-limit", type=int, default=60, help="seconds per verify-bottleneck step")
    ap.add_argument("--bench-limit", type=int, default=90, help="seconds per bench step")
    ap.add_argument(
        "--budget", type=int, default=420, help="seconds for all steps together (the environment probe comes first)"
    )
    ap.add_argument(
        "--released",
        action="store_true",
        help="also evaluate each released checkpoint of params.yaml (methods' weights_from) on one benchmark; "
        "skipped when its weights cannot be had (hub unreachable, not cached) or the benchmark is not built",
    )
    ap.add_argument("--released-limit", type=int, default=300, help="seconds per released-checkpoint evaluation")
    ap.add_argument("--shrink", action="store_true", help="shrunk builds of the real configs (the CPU smoke path)")
    ap.add_argument("--out", default=OUT, help="where the JSON goes, relative to the repository root")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and run nothing")
    args = ap.parse_args(argv)
    steps = plan(args)
    if args.dry_run:
        for s in steps:
            print(
                json.dumps(
                    {
                        "name": s["name"],
                        "limit_s": s["limit"],
                        "command": ["python", "-m", "livr", *s["argv"]],
                        **({"requires": s["requires"]} if "requires" in s else {}),
                    }
                )
            )
        print(
            f"{len(steps)} steps, at most {sum(s['limit'] for s in steps)} s of limits within a budget of "
            f"{args.budget} s"
        )
        return 0
    (REPO / args.out).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "LIVR_PROGRESS": "0",
    }
    summary = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "device": args.device,
        "shrunk": args.shrink,
        "budget_s": args.budget,
        "environment": environment(),
        "steps": [],
    }
    start = time.monotonic()
    for step in steps:
        left = args.budget - (time.monotonic() - start)
        record = {"name": step["name"], "command": ["python", "-m", "livr", *step["argv"]], "limit_s": step["limit"]}
        why = unavailable(step)
        if why is not None:
            record.update(status="unavailable", reason=why)  # expected offline: not a failed check
        elif left < step["limit"]:
            record.update(
                status="skipped", reason=f"{left:.0f} s of the budget left, the step may take {step['limit']} s"
            )
        else:
            record.update(run_step(step, env))
        summary["steps"].append(record)
        print(
            f"{record['status']:<8} {step['name']} ({record.get('seconds', 0)} s)"
            + (f": {record['reason']}" if why is not None else ""),
            flush=True,
        )
        _write(REPO / args.out / "gpu_checks.json", summary)  # after every step: a killed run keeps what it has
    summary["seconds"] = round(time.monotonic() - start, 1)
    _write(REPO / args.out / "gpu_checks.json", summary)
    bad = [s["name"] for s in summary["steps"] if s["status"] not in ("ok", "unavailable")]
    print(
        f"gpu_checks: {len(steps) - len(bad)}/{len(steps)} steps ok in {summary['seconds']} s"
        + (f"; not ok: {', '.join(bad)}" if bad else "")
        + f"; see {args.out}/gpu_checks.json"
    )
    return 1 if bad else 0


def _write(path: Path, obj: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
