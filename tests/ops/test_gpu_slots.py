"""Concurrent GPU jobs each get their own device; a scheduler's choice is respected."""

import os
import subprocess
import sys
import time

CLAIM = """
import os, sys, time
from livr.ops.gpu_slots import claim_gpu
with claim_gpu(sys.argv[1], wait_s=float(sys.argv[2])) as i:
    print(i, os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
    time.sleep(float(sys.argv[3]))
"""


def spawn(lock_dir, hold, wait=30.0, **env):
    return subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(lock_dir), str(wait), str(hold)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**{k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}, "LIVR_GPU_COUNT": "2", **env},
    )


def test_concurrent_jobs_get_distinct_devices_and_a_third_waits(tmp_path):
    a, b = spawn(tmp_path, 3), spawn(tmp_path, 3)
    time.sleep(1.5)
    t0 = time.monotonic()
    c = spawn(tmp_path, 0)  # both devices are held: it waits until one is released
    outs = [p.communicate(timeout=60)[0].split() for p in (a, b, c)]
    assert sorted(o[0] for o in outs[:2]) == ["0", "1"]
    assert all(o[0] == o[1] for o in outs)  # the job sees only its device
    assert time.monotonic() - t0 > 0.5


def test_a_scheduler_choice_is_kept(tmp_path):
    p = spawn(tmp_path, 0, CUDA_VISIBLE_DEVICES="3")
    assert p.communicate(timeout=60)[0].split() == ["None", "3"]


def test_no_free_device_in_time_is_a_clear_error(tmp_path):
    a, b = spawn(tmp_path, 4), spawn(tmp_path, 4)
    time.sleep(1.5)
    c = spawn(tmp_path, 0, wait=0.5)
    _, err = c.communicate(timeout=60)
    a.wait(), b.wait()
    assert c.returncode != 0 and "stayed claimed" in err
