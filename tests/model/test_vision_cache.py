"""Frozen vision features computed once per image: the same predictions and trained weights as the
uncached path, for each backbone family; in memory up to the budget, on disk beyond it."""

import pytest
import torch
from safetensors.torch import load_file
from test_training import cfg_for

from livr.data.schema import read_split
from livr.decoding import greedy_decode
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, load_images
from livr.model.loading import load_backbone
from livr.model.vision_cache import VisionFeatureCache
from livr.settings import replace
from livr.train import apply_finetune_mode, open_vision_cache, train_cell

FAMILIES = ["tiny-qwen2.5-vl", "tiny-qwen3-vl", "tiny-llava-ov-1.5"]


def prompts(backbone, task_dir, tiny_models_dir):
    spec = get_backbone(backbone)
    model, processor = load_backbone(backbone, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    records = read_split(task_dir, "test")[:3]
    encoded = [encode(r, load_images(r, task_dir), processor, spec, [], with_answer=False) for r in records]
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, None, "left").collate(encoded)
    batch.pop("labels")
    return model.eval(), batch, roles


@pytest.mark.parametrize("backbone", FAMILIES)
@pytest.mark.parametrize("budget_mb", [1024, 0])  # in memory; all on disk
def test_cached_features_give_the_same_predictions(backbone, budget_mb, task_dir, tiny_models_dir, tmp_path):
    model, batch, roles = prompts(backbone, task_dir, tiny_models_dir)
    with torch.no_grad():
        plain = model(**batch).logits
    decoded = greedy_decode(model, batch, roles, None, 5, [-1], [])
    n_images = len(batch["image_grid_thw"])
    cache = VisionFeatureCache(model, budget_mb, tmp_path / "cache")
    with torch.no_grad():
        first, again = model(**batch).logits, model(**batch).logits
    assert (cache.misses, cache.hits) == (n_images, n_images), "each image computed once, then reused"
    torch.testing.assert_close(first, plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(again, plain, rtol=1e-5, atol=1e-5)
    assert greedy_decode(model, batch, roles, None, 5, [-1], []) == decoded
    assert (len(cache.memory), len(cache.on_disk)) == ((n_images, 0) if budget_mb else (0, n_images))
    assert (cache.disk_bytes > 0) == (budget_mb == 0) and (cache.memory_bytes > 0) == (budget_mb > 0)
    cache.close()
    assert not (tmp_path / "cache").exists() and "get_image_features" not in vars(model.model)


def test_the_key_is_the_processor_output(task_dir, tiny_models_dir, tmp_path):
    """Another image, or the same image under other processor settings (other pixels), is computed anew."""
    model, batch, _ = prompts("tiny-qwen2.5-vl", task_dir, tiny_models_dir)
    cache = VisionFeatureCache(model, 1024, tmp_path / "cache")
    with torch.no_grad():
        model(**batch)
        model(**{**batch, "pixel_values": batch["pixel_values"] * 0.5})
    n_images = len(batch["image_grid_thw"])
    assert (cache.misses, cache.hits) == (2 * n_images, 0)
    cache.close()


@pytest.mark.parametrize("finetune, cached", [("lora", True), ("full_lm", True), ("full", False), ("prompt", True)])
def test_the_cache_is_off_whenever_a_vision_weight_trains(finetune, cached, task_dir, tiny_models_dir, tmp_path):
    model, _ = load_backbone("tiny-qwen2.5-vl", tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    cfg = cfg_for("sft", task_dir, finetune=finetune)
    apply_finetune_mode(model, cfg, [0])
    cache = open_vision_cache(model, cfg, tmp_path)
    assert (cache is not None) == cached
    if cache:
        cache.close()
    assert open_vision_cache(model, replace(cfg, vision_cache_mb=None), tmp_path) is None


@pytest.mark.parametrize("backbone", FAMILIES)
def test_the_same_trained_weights_with_and_without_the_cache(backbone, task_dir, tiny_models_dir, tmp_path):
    runs = {}
    for name, budget in (("uncached", None), ("cached", 1024), ("on_disk", 0)):
        if name == "on_disk" and backbone != FAMILIES[0]:
            continue
        cfg = replace(
            cfg_for("livr", task_dir),
            backbone=backbone,
            max_train_examples=8,
            evals_per_epoch=2,
            vision_cache_mb=budget,
        )
        train_cell(cfg, tmp_path / name, tiny_models_dir)
        runs[name] = {s: load_file(tmp_path / name / s / "trainable.safetensors") for s in ("stage1", "stage2")}
        assert not list((tmp_path / name).glob("vision_cache*")), "the disk cache goes with the job"
    for name in runs.keys() - {"uncached"}:
        for stage in ("stage1", "stage2"):
            a, b = runs["uncached"][stage], runs[name][stage]
            assert a.keys() == b.keys() and a
            for k in a:
                torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5, msg=f"{name} {stage} {k}")
