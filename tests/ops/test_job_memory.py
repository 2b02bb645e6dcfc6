"""livr/ops/job_memory.py: parameter counts from the shipped configs, and the memory estimate's terms."""

import pytest

from livr.config import load_params
from livr.data.schema import TASKS
from livr.errors import InputError
from livr.ops import job_memory as jm
from livr.settings import replace, resolve_training

PUBLISHED_B = {"qwen2.5-vl-3b": 3.755, "qwen2.5-vl-7b": 8.292, "qwen3-vl-4b": 4.438, "llava-ov-1.5-4b": 4.744}
LORA = replace(
    resolve_training(load_params("params.yaml"), "table1"),
    batch_size=1,
    lora_r=16,
    num_latents=16,
    use_latents=True,
    gradient_checkpointing=True,
    finetune="lora",
    lora_targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
)


@pytest.mark.parametrize("name", sorted(PUBLISHED_B))
def test_param_count_matches_the_published_size(name):
    # published: the model cards / a meta-device build of the same config (PERFORMANCE.md)
    assert jm.param_count(jm.architecture(name))["total"] / 1e9 == pytest.approx(PUBLISHED_B[name], rel=0.005)


def test_estimate_terms_recomputed_by_hand():
    # qwen3-vl-4b: hidden 2560, 36 layers, MLP 9728, kv 8 x 128, vocab 151936, 32 px tokens
    est = jm.gpu_memory_gib("qwen3-vl-4b", 1048576, 3, LORA)
    s = 3 * 1024 + jm.TEXT_TOKENS + 16
    assert est["sequence"] == s
    lora = 36 * 16 * ((2560 + 4096) * 2 + (2560 + 1024) * 2 + 3 * (2560 + 9728))
    assert est["trainable"] == pytest.approx((lora + 16 * 2560) * 16 / jm.GIB)
    assert est["logits"] == pytest.approx(s * 151936 * 12 / jm.GIB)
    assert est["activations"] == pytest.approx((36 * s * 2560 * 2 + s * (10 * 2560 + 4 * 9728) * 2) / jm.GIB)
    parts = sum(est[k] for k in ("weights", "trainable", "activations", "mask", "logits", "vision"))
    assert est["total"] == pytest.approx((parts + jm.CUDA_OVERHEAD_GIB) * jm.FRAGMENTATION)
    assert 15 < est["total"] < 48  # fits the paper's 48 GB RTX 6000 Ada, as the paper trained


def test_estimate_grows_with_pixels_images_and_without_checkpointing():
    base = jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, LORA)["total"]
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 2 * 802816, 1, LORA)["total"] > base
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 3, LORA)["total"] > base
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, replace(LORA, gradient_checkpointing=False))["total"] > base
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, replace(LORA, finetune="full"))["total"] > base + 40


def test_host_memory_holds_runtime_weights_and_one_batch():
    a = jm.architecture("qwen2.5-vl-3b")
    weights = jm.param_count(a)["total"] * 2
    pixels = 3 * (802816 // 14**2) * 3 * 2 * 14**2 * 4
    assert jm.host_memory_gib("qwen2.5-vl-3b", 802816, 3) == pytest.approx(
        (jm.RUNTIME_HOST_GIB + (weights + pixels) / jm.GIB) * jm.FRAGMENTATION
    )


def test_a_job_is_sized_by_its_most_demanding_task():
    assert jm.job_images(["counting", "jigsaw"]) == 3


def test_host_request_counts_workers_prefetch_and_not_the_data_set_size():
    one = jm.host_memory_gib("qwen2.5-vl-3b", 802816, 2, batch_size=1, workers=0)
    four = jm.host_memory_gib("qwen2.5-vl-3b", 802816, 2, batch_size=1, workers=4)
    # one batch: 2 images x (802816 / 14^2 = 4096 patches) x 3 x 2 x 14 x 14 float32 pixel values
    batch = 2 * 4096 * 3 * 2 * 14 * 14 * 4 / jm.GIB
    assert four - one == pytest.approx(4 * (jm.WORKER_HOST_GIB + jm.PREFETCH * batch) * jm.FRAGMENTATION, rel=1e-6)
    assert jm.job_mem_mb("qwen2.5-vl-3b", 802816, 2, 1, 4) == 1024 * -(-four // 1)
    assert jm.job_mem_mb("tiny-qwen2.5-vl", None, 2, 4, 0) == jm.TINY_JOB_MB


def test_every_task_training_set_and_benchmark_has_its_images_per_example():
    from livr.data.benchmarks import BENCHMARKS, TRAINING_SETS

    for name in [*TASKS, *TRAINING_SETS, *BENCHMARKS]:
        assert jm.job_images([name]) >= 1
    with pytest.raises(InputError, match="unknown data set 'nope'"):
        jm.job_images(["counting", "nope"])
