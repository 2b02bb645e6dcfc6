"""`livr pretrain-tiny`: a short run writes a base that loads through the normal backbone path,
records how it was made, and a killed run resumes to the same weights."""

import json

import pytest
import torch
from safetensors.torch import load_file

from livr import cli, pretrain
from livr.data.schema import read_split
from livr.data.synthetic import build_synthetic_task
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, load_images
from livr.model.loading import load_backbone

SMALL = [
    "--hidden",
    "64",
    "--heads",
    "2",
    "--kv-heads",
    "1",
    "--intermediate",
    "128",
    "--layers",
    "1",
    "--vision-hidden",
    "32",
    "--vision-depth",
    "1",
    "--batch-size",
    "2",
    "--warmup-steps",
    "1",
    "--tokenizer-examples",
    "40",
    "--eval-examples",
    "4",
    "--eval-every",
    "2",
    "--log-every",
    "1",
    "--workers",
    "0",
]


def run(out, work, steps, *extra):
    return cli.main(
        ["pretrain-tiny", "--out", str(out), "--work-dir", str(work), "--steps", str(steps), *SMALL, *extra]
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrained")
    out = root / "models" / "tiny-qwen2.5-vl"  # where load_backbone looks for this architecture
    assert run(out, root / "work", 4) == 0
    return out


def test_manifest_says_how_it_was_made(base):
    m = json.loads((base / "manifest.json").read_text())
    assert m["architecture"] == "tiny-qwen2.5-vl" and m["family"] == "qwen2_5_vl"
    assert m["corpus"]["seed"] == 0 and m["corpus"]["examples_seen"] == 4 * 2
    assert m["training"]["steps"] == 4 and m["training"]["batch_size"] == 2
    assert [h["step"] for h in m["history"]] == [1, 2, 3, 4]
    assert m["final_loss"] == m["history"][-1]["loss"] and m["final_loss"] > 0
    assert m["final_held_out_accuracy"]["all"] == m["history"][-1]["held_out"]["all"]
    assert m["dims"]["hidden"] == 64 and m["dims"]["layers"] == 1
    assert m["versions"]["torch"] == torch.__version__ and m["wall_seconds"] > 0
    assert m["command"].startswith("livr pretrain-tiny --architecture tiny-qwen2.5-vl --seed 0 --steps 4 ")
    assert m["parameters"] == sum(t.numel() for t in load_file(base / "model.safetensors").values())


def test_loads_as_a_backbone_and_answers(base, tmp_path):
    model, processor = load_backbone("tiny-qwen2.5-vl", base.parent, {}, torch.float32, "sdpa", "cpu")
    saved = load_file(base / "model.safetensors")
    state = model.state_dict()

    # the file is in the hub's checkpoint layout (model.* = the language model, visual.*); the loaded
    # model nests both under model.: every saved tensor must arrive unchanged
    def loaded_name(k):
        return "model." + k if k.startswith("visual.") else k.replace("model.", "model.language_model.", 1)

    assert saved and {loaded_name(k) for k in saved} <= state.keys()
    assert all(torch.equal(state[loaded_name(k)], v) for k, v in saved.items())
    assert model.config.text_config.hidden_size == 64
    build_synthetic_task("counting", tmp_path / "c", 1, 1, 2, seed=0)
    recs = read_split(tmp_path / "c", "test")
    spec = get_backbone("tiny-qwen2.5-vl")
    batch = Collator(model, processor.tokenizer.pad_token_id, spec, None)(
        [encode(r, load_images(r, tmp_path / "c"), processor, spec, []) for r in recs]
    )
    with torch.no_grad():
        out = model(**batch)
    assert torch.isfinite(out.loss) and out.logits.shape[-1] == len(processor.tokenizer)


def test_killed_run_resumes_to_the_same_weights(base, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = pretrain.answer_correct

    def dies_in_step_4(*a):
        calls["n"] += 1
        if calls["n"] == 5:  # steps 1-3 and one held-out batch at step 2 have run; state saved at step 3
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(pretrain, "answer_correct", dies_in_step_4)
    out, work = tmp_path / "out", tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        run(out, work, 4, "--save-every", "3")
    assert (work / pretrain.STATE).is_file() and not out.exists()
    monkeypatch.setattr(pretrain, "answer_correct", real)
    assert run(out, work, 4, "--save-every", "3") == 0
    assert not (work / pretrain.STATE).exists()
    resumed, uninterrupted = load_file(out / "model.safetensors"), load_file(base / "model.safetensors")
    assert resumed.keys() == uninterrupted.keys()
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in resumed)
    history = json.loads((out / "manifest.json").read_text())["history"]
    assert [h["step"] for h in history] == [1, 2, 3, 4]


def test_refuses_a_pretrained_or_real_architecture(tmp_path, capsys):
    assert cli.main(["pretrain-tiny", "--out", str(tmp_path / "x"), "--architecture", "qwen2.5-vl-3b"]) == 2
    err = capsys.readouterr().err
    assert "must be a tiny backbone built from config; valid: tiny-qwen2.5-vl, tiny-qwen3-vl, tiny-llava-ov-1.5" in err
    assert (
        cli.main(["pretrain-tiny", "--out", str(tmp_path / "x"), "--architecture", "tiny-qwen2.5-vl-pretrained"]) == 2
    )
    assert not (tmp_path / "x").exists()


def test_refuses_more_than_one_data_worker(tmp_path, capsys):
    # the example stream is not split across workers: two would each replay it, training every batch twice
    assert cli.main(["pretrain-tiny", "--out", str(tmp_path / "x"), "--workers", "2"]) == 2
    assert "--workers 2: 0 or 1" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
