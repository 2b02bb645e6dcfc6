"""One GPU per job on a multi-GPU machine.

Snakemake's `gpu` resource (workflow/profiles/default: `resources: gpu: N`) keeps at most N GPU
jobs running at once; which device each job gets is decided here. A job claims the first device
whose lock file it can lock exclusively and sees only that device (CUDA_VISIBLE_DEVICES, set
before CUDA starts). The lock is released when the process ends, however it ends. Where a
scheduler already chose the devices (SLURM, or a user-set CUDA_VISIBLE_DEVICES), nothing is
claimed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
from pathlib import Path
from typing import Iterator


def local_gpu_count() -> int:
    """GPUs on this machine, without starting CUDA (LIVR_GPU_COUNT overrides, e.g. in tests)."""
    if "LIVR_GPU_COUNT" in os.environ:
        return int(os.environ["LIVR_GPU_COUNT"])
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(line.startswith("GPU ") for line in out.splitlines())


@contextlib.contextmanager
def claim_gpu(lock_dir: str | Path = ".snakemake/gpu-locks", wait_s: float = 600.0) -> Iterator[int | None]:
    """Yield the claimed device index (None when the devices were chosen elsewhere or none exist)."""
    if "CUDA_VISIBLE_DEVICES" in os.environ or (n := local_gpu_count()) == 0:
        yield None
        return
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        for i in range(n):
            f = open(lock_dir / f"gpu{i}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            os.environ["CUDA_VISIBLE_DEVICES"] = str(i)
            try:
                yield i
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
                f.close()
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"all {n} GPUs stayed claimed for {wait_s:.0f} s (locks in {lock_dir}); "
                "is the Snakemake `gpu` resource larger than the number of GPUs?"
            )
        time.sleep(1.0)


@contextlib.contextmanager
def job_device(requested: str) -> Iterator[str]:
    """The torch device for one job: `auto` is a claimed GPU when there is one, else the CPU."""
    if requested == "cpu":
        yield "cpu"
        return
    with claim_gpu():
        if requested != "auto":
            yield requested
            return
        import torch  # after the claim: CUDA reads CUDA_VISIBLE_DEVICES when it starts

        yield "cuda" if torch.cuda.is_available() else "cpu"
