"""params.yaml is the one config: every section matches the code that reads it."""

import importlib

import yaml

from livr import config as livr_config
from livr.data.sources import SOURCES
from livr.data.tasks import BUILDERS


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
                livr_config.train_config(params, name, c.backbone, c.train_set, src)
            livr_config.eval_config(params, name, c.backbone, c.train_set, c.method, c.task)


def test_paper_data_sections_are_the_builders_parameters():
    raw = yaml.safe_load(open("params.yaml"))
    for task, module in BUILDERS.items():
        defaults = importlib.import_module(module).DEFAULTS
        section = raw["paper_data"][task]
        assert set(section) <= set(defaults), f"paper_data.{task}: unknown keys {set(section) - set(defaults)}"


def test_source_sections_name_real_sources():
    raw = yaml.safe_load(open("params.yaml"))
    assert set(raw["sources"]) <= set(SOURCES)


def test_table_experiments_use_the_paper_recipe():
    params = load()
    cfg = livr_config.train_config(params, "table1", "qwen3-vl-4b", "counting", "livr")
    assert (cfg["finetune"], cfg["lora_r"], cfg["lora_alpha"], cfg["lora_dropout"]) == ("lora", 16, 32, 0.05)
    assert (cfg["lr"], cfg["weight_decay"], cfg["batch_size"], cfg["grad_accum"]) == (1e-4, 0.01, 1, 8)
    assert cfg["livr_stage_epochs"] == [4, 6] and cfg["num_latents"] == 16 and cfg["seed"] == 42
    assert livr_config.train_config(params, "table1", "qwen3-vl-4b", "counting", "sft")["sft_epochs"] == 10
    t2 = livr_config.train_config(params, "table2", "qwen3-vl-4b", "multitask6", "livr")
    assert t2["livr_stage_epochs"] == [2, 3] and t2["select"] == "final" and len(t2["data_dirs"]) == 6
