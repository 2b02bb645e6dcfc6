"""A released checkpoint evaluated without training (issue 19 item 5): a method whose weights come from a
hub id or local directory (`weights_from`), on its own backbone, with its own tokenizer and its declared
latent decoding. Offline, a local directory stands in for the hub: the tiny Qwen2.5-VL with LVR's tokens
added and its weights perturbed, so its answers are not the base model's."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

import livr.evaluate as ev
from livr import config as lc
from livr.decoding import LATENT_STEP, LatentMode, decode_responses, decode_rows, resolve_latent_mode
from livr.errors import InputError
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, load_images
from livr.model.latents import add_tokens
from livr.model.loading import load_backbone, load_trained
from livr.model.masks import ANSWER
from livr.model.processors import save_processor
from livr.model.reconstruction import LVR_TOKENS
from livr.ops.hub_weights import require_released_weights
from livr.settings import EvalConfig, replace
from livr.workflow import jobs

BACKBONE, OTHER, TASK, EXP = "tiny-qwen2.5-vl-pretrained", "tiny-qwen3-vl", "relative_reflectance", "released_test"
DECODING = {"start": "<|lvr_start|>", "steps": 2, "stop": None, "then": []}


@pytest.fixture(scope="module")
def released_dir(tiny_models_dir, tmp_path_factory):
    """The tiny backbone as a publisher would release it: LVR's tokens in its tokenizer, its own weights."""
    model, processor = load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")
    add_tokens(model, processor, list(LVR_TOKENS), seed=0)
    with torch.no_grad():
        gen = torch.Generator().manual_seed(0)
        for p in model.get_decoder().parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.3 * p.std().nan_to_num(0.02))
    out = tmp_path_factory.mktemp("released") / "tiny-lvr"
    model.save_pretrained(out)
    save_processor(processor, out)
    return out


def released_params(source, **method) -> dict:
    params = lc.load_params("params.yaml")
    params["methods"]["released_local"] = {
        "train": "none",
        "weights_from": str(source),
        "backbone": BACKBONE,
        "latent_decoding": DECODING,
        **method,
    }
    params["experiments"][EXP] = {
        "suite": "synthetic",
        "backbones": [BACKBONE, OTHER],
        "tasks": [TASK],
        "methods": ["zero_shot", "sft", "released_local"],
    }
    lc.validate_params(params)
    return params


def cell_cfg(params, task_dir) -> EvalConfig:
    cfg = EvalConfig.resolve(params, EXP, BACKBONE, TASK, "released_local", TASK)
    return replace(cfg, data_dir=str(task_dir), dtype="float32", batch_size=4, max_new_tokens=6)


def test_released_method_evaluates_its_own_weights_with_its_latent_decoding(
    released_dir, task_dir, tiny_models_dir, tmp_path, monkeypatch
):
    cfg = cell_cfg(released_params(released_dir), task_dir)
    assert (cfg.weights_from, cfg.latent_decoding, cfg.checkpoint, cfg.seed) == (
        str(released_dir),
        DECODING,
        None,
        None,
    )
    seen = []
    decode = ev.decode_responses
    monkeypatch.setattr(ev, "decode_responses", lambda *a: seen.append(a) or decode(*a))
    out = tmp_path / "released.jsonl"
    (summary,) = ev.evaluate_cells([cfg], None, [out], tiny_models_dir)
    assert summary["checkpoint"] == str(released_dir) and summary["weights"] == "base" and summary["seed"] is None
    assert json.loads(out.with_suffix(".json").read_text()) == summary

    # its own tokenizer (LVR's tokens), and the declared mode resolved against it reaches the decoder
    model, processor, _ = load_trained(
        BACKBONE, None, tiny_models_dir, {}, torch.float32, "sdpa", "cpu", str(released_dir)
    )
    start = processor.tokenizer.convert_tokens_to_ids("<|lvr_start|>")
    assert start >= len(load_backbone(BACKBONE, tiny_models_dir, {}, torch.float32, "sdpa", "cpu")[1].tokenizer)
    ((used, used_processor, _, _, how, _),) = seen
    assert len(used_processor.tokenizer) == len(processor.tokenizer)
    assert all(torch.equal(a, b) for a, b in zip(used.state_dict().values(), model.state_dict().values()))
    assert how.latent_mode == LatentMode(start, 2) and how.suppress_ids == () and how.latents == ()
    spec = get_backbone(BACKBONE)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    items = [(r, task_dir) for r in ev.read_split(task_dir, "test")]
    direct = decode_responses(model, processor, spec, items, how, torch.float32)
    assert [r["raw_output"] for r in records] == direct

    # the released weights, not the backbone's: the base model answers otherwise
    base = ev.evaluate_cells(
        [replace(cfg, weights_from=None, latent_decoding=None)], None, [tmp_path / "b.jsonl"], tiny_models_dir
    )
    base_out = [json.loads(line)["raw_output"] for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert base[0]["checkpoint"] is None and base_out != direct


def test_latent_decoding_changes_the_continuation_once_the_start_token_is_fed(released_dir, task_dir):
    """The decoding path: a prompt ending in the start token decodes latent steps first, which changes
    what follows; without the mode the same prompt decodes tokens only."""
    spec = get_backbone(BACKBONE)
    model, processor, _ = load_trained(BACKBONE, None, None, {}, torch.float32, "sdpa", "cpu", str(released_dir))
    mode = resolve_latent_mode(DECODING, processor.tokenizer, "test")
    records = ev.read_split(task_dir, "test")[:2]
    encoded = [
        encode(r, load_images(r, task_dir), processor, spec, [], "after_prompt", with_answer=False) for r in records
    ]
    batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, None, padding_side="left").collate(encoded)
    batch.pop("labels")
    # feed the start token as the prompt's last token (as if the model had emitted it)
    n = roles.shape[0]
    batch["input_ids"] = torch.cat([batch["input_ids"], torch.full((n, 1), mode.start_id)], dim=1)
    batch["attention_mask"] = torch.cat(
        [batch["attention_mask"], torch.ones(n, 1, dtype=batch["attention_mask"].dtype)], dim=1
    )
    batch["position_ids"] = torch.cat([batch["position_ids"], batch["position_ids"][..., -1:] + 1], dim=-1)
    roles = torch.cat([roles, torch.full((n, 1), ANSWER, dtype=roles.dtype)], dim=1)
    with_mode = decode_rows(model, batch, roles, None, 4, [], [], mode)
    without = decode_rows(model, batch, roles, None, 4, [], [], None)
    assert all(r.inputs[:2] == [LATENT_STEP, LATENT_STEP] for r in with_mode)
    assert all(LATENT_STEP not in r.inputs for r in without)
    assert [r.tokens for r in with_mode] != [r.tokens for r in without]


def test_cells_one_base_like_cell_per_released_method_on_its_backbone_only(released_dir):
    params = released_params(released_dir)
    cells = [c for c in lc.cells(params, EXP) if c.method == "released_local"]
    assert cells == [lc.Cell(BACKBONE, TASK, "released_local", TASK, None)]
    assert lc.method_seeds(params, EXP, "released_local") == [None]
    jobs_of = [j for j in jobs.evaluate_jobs(params, EXP) if "released_local" in j.methods]
    assert [(j.backbone, j.methods, j.seed) for j in jobs_of] == [(BACKBONE, ("released_local",), None)]
    assert "released_local" not in [m for _, _, m, _ in jobs.train_jobs(params, EXP)]
    lc.check_cell(params, EXP, BACKBONE, TASK, "released_local", TASK)
    with pytest.raises(lc.ConfigError, match=f"released weights of backbone '{BACKBONE}'.*not '{OTHER}'"):
        lc.check_cell(params, EXP, OTHER, TASK, "released_local", TASK)
    # the shipped ones: LVR-7B in table4, the VSP direct SFT in mirage_vsp at 7B only (not 3B)
    shipped = lc.load_params("params.yaml")
    assert {(c.backbone, c.seed) for c in lc.cells(shipped, "table4") if c.method == "lvr_7b_released"} == {
        ("qwen2.5-vl-7b", None)
    }
    vsp = [c for c in lc.cells(shipped, "mirage_vsp") if c.method == "vsp_direct_sft_released"]
    assert [(c.backbone, c.task, c.seed) for c in vsp] == [("qwen2.5-vl-7b", "mirage_vsp_test", None)]
    assert shipped["methods"]["lvr_7b_released"]["latent_decoding"]["steps"] == 8


@pytest.mark.parametrize(
    ("method", "match"),
    [
        ({"train": "sft"}, r"methods\.released_local\.weights_from: .*train: none .*\(got train: sft\)"),
        ({"checkpoint_of": "sft"}, r"weights_from: .*no checkpoint_of \(got checkpoint_of: sft\)"),
        ({"lr": 1.0e-5}, r"methods\.released_local: training key\(s\) lr do not apply to released weights"),
        ({"backbone": "qwen9"}, r"methods\.released_local\.backbone: unknown name 'qwen9'; valid backbones: "),
        ({"latent_decoding": {"start": "<|lvr_start|>", "step": 8}}, r"latent_decoding'?: .*'step' was unexpected"),
        ({"latent_decoding": {"steps": 8}}, r"latent_decoding'?: 'start' is a required property"),
        ({"latent_decoding": {"start": "<|lvr_start|>", "steps": 0}}, r"latent_decoding\.steps'?: 0 is less than"),
    ],
)
def test_config_errors_name_the_key(released_dir, method, match):
    with pytest.raises(lc.ConfigError, match=match):
        released_params(released_dir, **method)


def test_released_keys_need_weights_from_and_the_backbone_in_the_experiment(released_dir):
    params = released_params(released_dir)
    for key, value in (("latent_decoding", DECODING), ("backbone", BACKBONE)):
        bad = copy.deepcopy(params)
        bad["methods"]["zero_shot"][key] = value
        with pytest.raises(lc.ConfigError, match=rf"methods\.zero_shot\.{key}: only a released checkpoint's method"):
            lc.validate_params(bad)
    bad = copy.deepcopy(params)
    bad["methods"]["variant"] = {"train": "none", "checkpoint_of": "released_local", "eval_latents": False}
    with pytest.raises(lc.ConfigError, match=r"methods\.variant\.checkpoint_of: 'released_local' evaluates released"):
        lc.validate_params(bad)
    bad = copy.deepcopy(params)
    del bad["methods"]["released_local"]["backbone"]
    with pytest.raises(lc.ConfigError, match=r"weights_from needs `backbone`"):
        lc.validate_params(bad)
    bad = copy.deepcopy(params)
    bad["experiments"][EXP]["backbones"] = [OTHER]
    with pytest.raises(lc.ConfigError, match=rf"experiments\.{EXP}: method 'released_local' has weights of backbone"):
        lc.validate_params(bad)


def test_schema_latent_decoding_keys_are_the_decoders():
    from livr.decoding import LATENT_DECODING_KEYS

    schema = lc._schema()["properties"]["methods"]["additionalProperties"]["properties"]["latent_decoding"]
    assert tuple(schema["properties"]) == LATENT_DECODING_KEYS


def test_preflight_knows_released_weights(released_dir, tmp_path, monkeypatch):
    require_released_weights("released_local", str(released_dir))  # a saved local directory: nothing to fetch
    with pytest.raises(InputError, match=r"no config\.json; methods\.released_local\.weights_from"):
        require_released_weights("released_local", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(
        InputError, match=r"method lvr_7b_released \(released checkpoint\): weights vincentleebang/LVR-7B"
    ):
        require_released_weights("lvr_7b_released", "vincentleebang/LVR-7B")

    from livr.ops.doctor import MISSING, READY, run_checks

    rows = {r.item: r for r in run_checks(lc.load_params("params.yaml"), "table4") if r.area == "weights"}
    assert (
        rows["lvr_7b_released (released)"].status == MISSING
        and "vincentleebang/LVR-7B" in rows["lvr_7b_released (released)"].fix
    )
    local = {r.item: r for r in run_checks(released_params(released_dir), EXP) if r.area == "weights"}
    assert local["released_local (released)"].status == READY


def test_livr_evaluate_runs_a_released_cell_and_refuses_a_trained_checkpoint_for_it(
    released_dir, task_dir, tmp_path, capsys
):
    import yaml

    from livr.cli import build_parser

    params = released_params(released_dir)
    params["paths"] = {**params["paths"], "data": str(tmp_path / "data")}
    built = Path(lc.task_dir(params, EXP, TASK))
    built.parent.mkdir(parents=True)
    built.symlink_to(task_dir)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    argv = ["evaluate", "--params", str(path), "--experiment", EXP, "--backbone", BACKBONE, "--train-set", TASK]
    argv += ["--method", "released_local", "--task", TASK, "--device", "cpu", "--out", str(tmp_path / "o.jsonl")]
    assert ev.main(build_parser("evaluate").parse_args(argv)) == 0
    sidecar = json.loads((tmp_path / "o.json").read_text())
    assert (sidecar["checkpoint"], sidecar["weights"], sidecar["seed"], sidecar["n"]) == (
        str(released_dir),
        "base",
        None,
        8,
    )
    assert "(base weights)" in capsys.readouterr().out
    with pytest.raises(InputError, match=r"--checkpoint: method 'released_local' evaluates released weights"):
        ev.main(build_parser("evaluate").parse_args([*argv, "--checkpoint", str(tmp_path)]))
