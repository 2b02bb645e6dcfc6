"""SFT and LIVR start from the same LoRA weights: adding the latent rows draws nothing from the
global RNG that LoRA's initialisation uses next."""

import pytest
import torch

from livr import config as livr_config
from livr import train
from livr.data.synthetic import build_synthetic_task
from livr.settings import TrainConfig, replace

BACKBONE = "tiny-qwen2.5-vl"
APPLY_FINETUNE_MODE = train.apply_finetune_mode


class _Stop(Exception):
    pass


def _initial_lora(monkeypatch, cfg, models_dir, tmp_path):
    """The LoRA tensors train_cell creates, captured right after get_peft_model (training stops there)."""
    captured = {}

    def capture(model, cfg, latent_ids):
        peft_model = APPLY_FINETUNE_MODE(model, cfg, latent_ids)
        captured.update({n: p.detach().clone() for n, p in peft_model.named_parameters() if "lora_" in n})
        raise _Stop

    monkeypatch.setattr(train, "apply_finetune_mode", capture)
    with pytest.raises(_Stop):
        train.train_cell(cfg, tmp_path / cfg.method, models_dir)
    return captured


def test_sft_and_livr_get_identical_lora_initialisation(tiny_models_dir, tmp_path, monkeypatch):
    data = tmp_path / "relative_reflectance"
    build_synthetic_task("relative_reflectance", data, n_train=2, n_val=1, n_test=1, seed=0)
    params = livr_config.load_params("params.yaml")
    lora = {}
    for method in ("sft", "livr"):
        cfg = TrainConfig.resolve(params, "ci", BACKBONE, "relative_reflectance", method, 42)
        cfg = replace(cfg, data_dirs=[str(data)], finetune="lora", lora_dropout=0.0)
        lora[method] = _initial_lora(monkeypatch, cfg, tiny_models_dir, tmp_path)
    sft, livr = lora["sft"], lora["livr"]
    assert sft.keys() == livr.keys() and len(sft) > 0
    assert any(n.endswith("lora_A.default.weight") for n in sft)
    assert any(n.endswith("lora_B.default.weight") for n in sft)
    for name in sft:
        assert torch.equal(sft[name], livr[name]), name
    # LoRA A is random (B starts at zero): equal A matrices mean the same draws, not a trivial match
    a = [t for n, t in sft.items() if n.endswith("lora_A.default.weight")]
    assert all(t.abs().sum() > 0 for t in a)
