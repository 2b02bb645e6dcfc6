"""params.yaml is the one config: every section matches the code that reads it."""

import yaml

from livr import config as livr_config
from livr.data.sources import SOURCES
from livr.settings import TRAINING_KEYS, EvalConfig, TrainConfig


def load():
    return livr_config.load_params("params.yaml")


def test_params_file_validates_and_every_experiment_has_cells():
    params = load()
    for name in params["experiments"]:
        cells = livr_config.cells(params, name)
        assert cells, name
        for c in cells:
            src = livr_config.checkpoint_method(params, c.method)
            if src:
                assert TrainConfig.resolve(params, name, c.backbone, c.train_set, src, c.seed).seed == c.seed
            ev = EvalConfig.resolve(params, name, c.backbone, c.train_set, c.method, c.task, seed=c.seed)
            assert ev.seed == c.seed and (c.seed is None) == (src is None)


def test_training_settings_are_the_schemas_training_keys():
    schema = yaml.safe_load(livr_config.SCHEMA.read_text())
    assert set(TRAINING_KEYS) == set(schema["$defs"]["training"]["properties"])
    assert set(load()["training"]) == set(TRAINING_KEYS), "params.yaml sets every training key"


def test_source_sections_name_real_sources():
    raw = yaml.safe_load(open("params.yaml"))
    assert set(raw["sources"]) <= set(SOURCES)


def test_table_experiments_use_the_paper_recipe():
    params = load()
    cfg = TrainConfig.resolve(params, "table1", "qwen3-vl-4b", "counting", "livr")
    assert (cfg.finetune, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout) == ("lora", 16, 32, 0.05)
    assert (cfg.lr, cfg.weight_decay, cfg.batch_size, cfg.grad_accum) == (1e-4, 0.01, 1, 8)
    assert cfg.livr_stage_epochs == (4, 6) and cfg.num_latents == 16 and cfg.seed == 42
    assert TrainConfig.resolve(params, "table1", "qwen3-vl-4b", "counting", "sft").sft_epochs == 10
    t2 = TrainConfig.resolve(params, "table2", "qwen3-vl-4b", "multitask6", "livr")
    assert t2.livr_stage_epochs == (2, 3) and t2.select == "final" and len(t2.data_dirs) == 6


def test_resolution_order_is_defaults_then_experiment_then_method():
    params = load()
    params["training"]["lr"] = 1.0
    params["experiments"]["table1"]["training"] = {"lr": 2.0, "num_latents": 3}
    params["methods"]["livr_k4"] = {"train": "livr", "num_latents": 4}
    params["experiments"]["table1"]["methods"] = ["sft", "livr", "livr_k4"]
    livr_config.validate_params(params)
    assert TrainConfig.resolve(params, "table1", "qwen3-vl-4b", "counting", "sft").lr == 2.0
    assert TrainConfig.resolve(params, "table1", "qwen3-vl-4b", "counting", "livr").num_latents == 3
    assert TrainConfig.resolve(params, "table1", "qwen3-vl-4b", "counting", "livr_k4").num_latents == 4
    assert TrainConfig.resolve(params, "table2", "qwen3-vl-4b", "multitask6", "livr").lr == 1.0


def test_evaluation_takes_precision_and_kernel_from_the_run_it_evaluates():
    params = load()
    params["methods"]["livr"] = {"train": "livr", "dtype": "float16", "attn_implementation": "eager"}
    e = EvalConfig.resolve(params, "table1", "qwen3-vl-4b", "counting", "livr", "counting")
    assert (e.dtype, e.attn_implementation, e.checkpoint) == (
        "float16",
        "eager",
        "runs/table1/qwen3-vl-4b/counting/livr/seed42/final",
    )
    z = EvalConfig.resolve(params, "table1", "qwen3-vl-4b", "counting", "zero_shot", "counting")
    assert (z.dtype, z.attn_implementation, z.checkpoint) == ("bfloat16", "sdpa", None)


def test_settings_are_frozen():
    import dataclasses

    import pytest

    cfg = TrainConfig.resolve(load(), "table1", "qwen3-vl-4b", "counting", "livr")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0
