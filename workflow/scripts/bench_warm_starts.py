"""Cold against warm starts of one `livr` command (livr/ops/warm_jobs.py), side by side in one run.

    python workflow/scripts/bench_warm_starts.py --repeats 3 -- evaluate --params params.yaml \
        --experiment demo --backbone tiny-qwen2.5-vl-pretrained --train-set counting --method sft \
        --seed 42 --task counting --out /tmp/bench/{mode}.jsonl --threads 1

Runs the command cold and warm alternately (in an argument, `{mode}` becomes cold or warm and `{i}`
the run number, so that runs write apart: a training run into a finished run directory would resume),
prints each wall time, min/median/max per mode and the warm/cold ratio of the medians, and fails if a
warm run's output file differs from the cold run's (files only: a run directory holds timings). The
thread variables are those Snakemake gives a one-thread job, as in a run.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from livr.ops import warm_jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode (default: %(default)s)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the livr command's arguments")
    args = parser.parse_args()
    command = [a for a in args.command if a != "--"]
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_warm_starts.log"
    server = warm_jobs.start(log, threads=1, export=False)
    try:
        server.wait(timeout=120)
        times, compared = {"cold": [], "warm": []}, 0
        for i in range(args.repeats):
            for mode in ("cold", "warm"):
                run_env = server.job_env() if mode == "warm" else server.env
                argv = [a.replace("{mode}", mode).replace("{i}", str(i + 1)) for a in command]
                t0 = time.perf_counter()
                done = subprocess.run(["livr", *argv], env=run_env, capture_output=True, text=True)
                times[mode].append(time.perf_counter() - t0)
                if done.returncode != 0:
                    sys.exit(f"{mode} run {i + 1} failed ({done.returncode}):\n{done.stderr[-2000:]}")
                print(f"run {i + 1} {mode}: {times[mode][-1]:.2f} s", flush=True)
            named = [a.replace("{i}", str(i + 1)) for a in command if "{mode}" in a]
            outputs = [(a.replace("{mode}", "cold"), a.replace("{mode}", "warm")) for a in named]
            for cold, warm in outputs:
                if Path(cold).is_file():  # a directory (a run's) holds timings: not compared
                    compared += 1
                    if not filecmp.cmp(cold, warm, shallow=False):
                        sys.exit(f"run {i + 1}: {warm} differs from {cold}")
    finally:
        warm_jobs.stop(server)
    for mode, values in times.items():
        print(f"{mode}: min {min(values):.2f} s, median {statistics.median(values):.2f} s, max {max(values):.2f} s")
    ratio = statistics.median(times["warm"]) / statistics.median(times["cold"])
    print(
        f"warm/cold (medians): {ratio:.2f}; "
        + (f"{compared} output files identical" if compared else "no output file compared")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
