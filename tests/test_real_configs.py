"""Real backbones' shipped architecture configs: real-size builds (on the meta device), shrunk
random-weight builds that pass the bottleneck check, the bench's CPU path, LLaVA-OV-1.5 opt-in."""

import json

import pytest
import torch

from livr.model.backbones import REGISTRY, get_backbone
from livr.model.loading import backbone_source, load_backbone
from livr.model.real_configs import load_real_config, parameter_counts, random_weight_model, shipped_backbones
from livr.verify import verify

REAL = [n for n, b in REGISTRY.items() if not b.tiny]
# Published totals (hub model cards / safetensors sizes), billions of parameters.
PUBLISHED_TOTAL_B = {"qwen2.5-vl-3b": 3.75, "qwen2.5-vl-7b": 8.29, "qwen3-vl-4b": 4.44}


def test_every_real_backbone_ships_a_config():
    assert sorted(REAL) == shipped_backbones()
    for name in REAL:
        cfg = load_real_config(name)
        assert cfg["hf_id"] == get_backbone(name).hf_id and cfg["family"] == get_backbone(name).family
        assert cfg["sources"] and cfg["chat_template"]


@pytest.mark.parametrize("name", REAL)
def test_real_size_build_matches_the_published_size(name):
    model, processor = random_weight_model(name, "meta", torch.bfloat16)
    counts = parameter_counts(model)
    cfg = load_real_config(name)
    assert model.get_input_embeddings().weight.shape[0] == cfg["model"]["text_config"]["vocab_size"]
    assert model.config.get_text_config().num_hidden_layers == cfg["model"]["text_config"]["num_hidden_layers"]
    if name in PUBLISHED_TOTAL_B:
        assert counts["total"] / 1e9 == pytest.approx(PUBLISHED_TOTAL_B[name], rel=0.01)
    ip = processor.image_processor
    assert (ip.patch_size, ip.merge_size, ip.temporal_patch_size) == tuple(
        cfg["image_processor"][k] for k in ("patch_size", "merge_size", "temporal_patch_size"))


@pytest.fixture(scope="module", params=["qwen2.5-vl-3b", "qwen3-vl-4b", "llava-ov-1.5-4b"])  # one per family
def shrunk(request):
    return request.param, *random_weight_model(request.param, shrink=True)


def test_shrunk_build_keeps_vocab_tokens_and_template(shrunk):
    name, model, processor = shrunk
    cfg = load_real_config(name)
    tok = processor.tokenizer
    assert model.get_input_embeddings().weight.shape[0] == cfg["model"]["text_config"]["vocab_size"]
    assert model.config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    text = processor.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q?"}]}],
                                         add_generation_prompt=True, tokenize=False)
    assert "<|vision_start|><|image_pad|><|vision_end|>Q?<|im_end|>\n<|im_start|>assistant\n" in text
    assert text.startswith("<|im_start|>system\n") == (cfg["family"] != "qwen3_vl")


def test_verify_bottleneck_passes_on_shrunk_builds(shrunk):
    name, model, processor = shrunk
    ok, report = verify(model, processor, name, k=4)
    assert ok, report["checks"]


@pytest.mark.parametrize("shrunk", ["llava-ov-1.5-4b"], indirect=True)
def test_llava_ov_1_5_uses_1d_positions(shrunk):
    """The remote LLaVA-OV-1.5 forward drops position_ids and uses cache_position (1D RoPE)."""
    from livr.model.inputs import Collator

    name, model, processor = shrunk
    assert not get_backbone(name).mrope
    from test_bottleneck import images, two_image_record
    from livr.model.inputs import encode

    enc = encode(two_image_record(), images(0), processor, get_backbone(name), [])
    batch = Collator(model, processor.tokenizer.pad_token_id, get_backbone(name), None)([enc])
    assert batch["position_ids"].tolist() == [list(range(len(enc.input_ids)))]
    n_image = sum(t == processor.tokenizer.convert_tokens_to_ids("<|image_pad|>") for t in enc.input_ids)
    assert n_image == int(batch["image_grid_thw"].prod(-1).sum()) // 4  # h*w/merge^2 per image, temporal patch 1


def test_bench_cpu_path_on_a_shrunk_build(tmp_path, capsys):
    from livr.cli import main

    out = tmp_path / "bench.json"
    rc = main(["bench", "--backbone", "qwen2.5-vl-3b", "--random-weights", "--shrink", "--batch-size", "2", "--reps", "1",
               "--k", "2", "--new-tokens", "2", "--threads", "1", "--peak-tflops", "1", "--json", str(out)])
    assert rc == 0
    r = json.loads(out.read_text())
    assert r["shrunk"] and set(r["mfu"]) == {"sft", "livr_stage1", "livr_stage2", "eval_sft", "eval_livr"}
    assert all(v > 0 for v in r["tokens_per_second"].values()) and all(0 < v for v in r["mfu"].values())
    assert "MFU" in capsys.readouterr().out


def test_real_backbone_bench_needs_random_weights():
    from livr.cli import main

    assert main(["bench", "--backbone", "qwen3-vl-4b"]) == 2


def test_llava_ov_1_5_refuses_remote_code_without_opt_in(monkeypatch):
    import transformers

    def no_download(*a, **k):  # loading must stop before any hub access
        raise AssertionError("tried to load")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_download)
    with pytest.raises(ValueError, match="trust_remote_code: true"):
        backbone_source(get_backbone("llava-ov-1.5-4b"), "models", {})
    with pytest.raises(ValueError, match="trust_remote_code"):
        load_backbone("llava-ov-1.5-4b", "models", {"trust_remote_code": False}, torch.bfloat16, "sdpa", "cpu")
    assert backbone_source(get_backbone("llava-ov-1.5-4b"), "models", {"trust_remote_code": True}) == "lmms-lab/LLaVA-OneVision-1.5-4B-Instruct"
    import yaml

    params = yaml.safe_load(open("params.yaml"))
    assert params["backbones"]["llava-ov-1.5-4b"]["trust_remote_code"] is False
