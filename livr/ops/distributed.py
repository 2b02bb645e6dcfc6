"""Data-parallel training of one cell over several processes (torchrun / accelerate launch).

`livr train` needs no flag for it: the HF Trainer reads the launcher's environment (RANK,
WORLD_SIZE, LOCAL_RANK), wraps the model in DistributedDataParallel (NCCL on GPUs, gloo on CPU)
and gives each process its shard of every batch. The effective batch is
per-device batch x grad_accum x world size; see PERFORMANCE.md for keeping the paper's 8.
"""

from __future__ import annotations

import os


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def effective_batch(batch_size: int, grad_accum: int) -> int:
    return batch_size * grad_accum * world_size()
