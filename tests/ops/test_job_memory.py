"""livr/ops/job_memory.py: parameter counts from the shipped configs, and the memory estimate's terms."""

import math

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
    est = jm.gpu_memory_gib("qwen3-vl-4b", 1048576, 3, LORA, "livr")
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
    base = jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, LORA, "livr")["total"]
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 2 * 802816, 1, LORA, "livr")["total"] > base
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 3, LORA, "livr")["total"] > base
    no_checkpointing = replace(LORA, gradient_checkpointing=False)
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, no_checkpointing, "livr")["total"] > base
    assert jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, replace(LORA, finetune="full"), "livr")["total"] > base + 15


# Qwen2.5-VL-7B from its shipped config: 7,615,616,512 LM and 676,370,944 vision parameters
LM_7B, VISION_7B = 7_615_616_512, 676_370_944


def test_full_lm_7b_recomputed_by_hand_and_about_60_gb():
    params = load_params("params.yaml")
    lvr = resolve_training(params, "table4", "lvr")
    assert (lvr.finetune, lvr.dtype, lvr.batch_size, lvr.gradient_checkpointing) == ("full_lm", "bfloat16", 1, True)
    est = jm.gpu_memory_gib("qwen2.5-vl-7b", 802816, 1, lvr, "lvr")
    # LVR: one image of 1024 merged tokens, at most as many box tokens and 3 markers
    s = 1024 + jm.TEXT_TOKENS + 1024 + 3
    assert est["sequence"] == s
    assert est["weights"] == pytest.approx((LM_7B + VISION_7B) * 2 / jm.GIB)
    # bf16 gradient and two bf16 AdamW moments of every LM weight; the vision tower and projector are frozen
    assert est["trainable"] == pytest.approx(LM_7B * 6 / jm.GIB)
    assert est["activations"] == pytest.approx((28 * s * 3584 * 2 + s * (10 * 3584 + 4 * 18944) * 2) / jm.GIB)
    assert est["logits"] == pytest.approx(s * 152064 * 12 / jm.GIB)
    assert est["vision"] == pytest.approx(4096 * 8 * 1280 * 2 / jm.GIB)
    weights_and_optimizer = (LM_7B + VISION_7B) * 2 + LM_7B * 6
    assert weights_and_optimizer / 1e9 == pytest.approx(62.2, abs=0.1)  # "about 60 GB or more"
    assert 60 < est["total"] < jm.ONE_GPU_GIB  # as the code trains (no fp32 master copy) it fits 80 GB
    assert jm.fit_advice("table4", "qwen2.5-vl-7b", "lvr", est["total"], lvr) is None


def test_full_weight_modes_count_what_trains_in_the_weights_dtype():
    lm = replace(LORA, finetune="full_lm")
    a = jm.architecture("qwen2.5-vl-7b")
    assert jm.trainable_bytes(a, lm, 16) == LM_7B * 6
    assert jm.trainable_bytes(a, replace(lm, finetune="full"), 16) == (LM_7B + VISION_7B) * 6  # vision trains too
    assert jm.trainable_bytes(a, replace(lm, dtype="float32"), 16) == LM_7B * 12
    assert jm.trainable_bytes(a, replace(LORA, finetune="prompt"), 16) == 16 * 3584 * 16  # K fp32 rows only
    fp32 = jm.gpu_memory_gib("qwen2.5-vl-7b", 802816, 1, replace(lm, dtype="float32"), "sft")
    assert fp32["weights"] == pytest.approx((LM_7B + VISION_7B) * 4 / jm.GIB)


def test_mirage_adds_k_latents_and_the_helper_image_to_the_vision_forward():
    t = replace(LORA, finetune="full_lm", mirage_latents=4)
    a = jm.architecture("qwen2.5-vl-3b")
    assert jm.latent_positions(a, 802816, "mirage", t) == 4 + 2
    assert jm.latent_positions(a, 802816, "sft", t) == 0
    assert jm.latent_positions(a, 802816, "livr", replace(t, use_latents=False)) == 0
    mirage = jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, t, "mirage")
    sft = jm.gpu_memory_gib("qwen2.5-vl-3b", 802816, 1, t, "sft")
    assert mirage["sequence"] == sft["sequence"] + 6
    assert mirage["vision"] == pytest.approx(2 * sft["vision"])


def test_a_job_over_one_80_gb_gpu_gets_one_line_naming_it_and_what_to_do():
    lvr = resolve_training(load_params("params.yaml"), "table4", "lvr")
    est = jm.gpu_memory_gib("qwen2.5-vl-7b", 802816, 1, replace(lvr, dtype="float32"), "lvr")["total"]
    assert est > 120  # fp32 weights, gradients and moments of 7.6e9 LM weights alone are 113 GiB
    line = jm.fit_advice("table4", "qwen2.5-vl-7b", "lvr", est, lvr)
    assert "\n" not in line
    assert line.startswith(f"experiment table4, qwen2.5-vl-7b, method lvr: training needs ~{est:.0f} GiB")
    assert "more than one 80 GB GPU (79 GiB)" in line
    assert f"a GPU with >= {math.ceil(est)} GiB" in line
    assert "`finetune: lora` on methods.lvr (a declared deviation from its recipe) in params.yaml" in line
    assert "a lower backbones.qwen2.5-vl-7b.max_pixels in params.yaml" in line
    assert "gradient_checkpointing" not in line  # already on
    # a LoRA job is not told to use LoRA; one without checkpointing is told to turn it on
    lora = jm.fit_advice("x", "qwen2.5-vl-7b", "livr", 90.0, replace(LORA, gradient_checkpointing=False), 48.0, "a GPU")
    assert "finetune: lora" not in lora and "`gradient_checkpointing: true` in params.yaml" in lora
    assert "more than a GPU (48 GiB)" in lora


def test_the_trainer_keeps_no_fp32_master_copy_of_bf16_weights(tmp_path):
    # The full-weight formula (3 x 2 bytes per trainable weight) assumes what the Trainer does with a model
    # loaded in bf16: its optimizer's moments take the weights' dtype and the weights stay bf16.
    import torch
    from transformers import Trainer, TrainingArguments

    model = torch.nn.Linear(8, 8).to(torch.bfloat16)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, bf16=True, report_to=[])
    trainer = Trainer(model=model, args=args)
    opt = trainer.create_optimizer()
    model(torch.randn(2, 8, dtype=torch.bfloat16)).float().pow(2).mean().backward()
    opt.step()
    state = opt.state[model.weight]
    assert {state["exp_avg"].dtype, state["exp_avg_sq"].dtype, model.weight.dtype, model.weight.grad.dtype} == {
        torch.bfloat16
    }


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
