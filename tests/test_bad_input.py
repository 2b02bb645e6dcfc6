"""Bad input, through the CLI: exit status 2, one clear line on stderr naming the file, row or key
and the valid values, and nothing half-written left behind. Also the security boundaries:
remote model code only with the opt-in, user text never reaching SQL as SQL outside `livr sql`,
which is read-only and cannot touch other files."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from livr import config as livr_config
from livr.cli import main as cli
from livr.data.synthetic import build_synthetic_task
from livr.errors import InputError
from livr.layout import Layout
from livr.model.loading import CHECKPOINT_META, load_backbone
from livr.train import save_checkpoint

REPO = Path(__file__).resolve().parent.parent
BACKBONE, TASK = "tiny-qwen2.5-vl", "relative_reflectance"


@pytest.fixture(scope="module")
def env(tmp_path_factory, tiny_models_dir):
    """A params file (experiment ci, paths in a temp dir) and a small built task."""
    root = tmp_path_factory.mktemp("bad_input")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["paths"] = {
        "data": str(root / "data"),
        "models": str(tiny_models_dir),
        "runs": str(root / "runs"),
        "results": str(root / "results"),
    }
    params["experiment"] = "ci"
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    data = Path(livr_config.task_dir(livr_config.load_params(path), "ci", TASK))
    build_synthetic_task(TASK, data, n_train=4, n_val=2, n_test=3, seed=0)
    return {"root": root, "params": path, "data": data, "raw": params, "models": tiny_models_dir}


def fails(capsys, argv: list[str], *needles: str) -> str:
    """Run the CLI, expect exit 2 and an error line holding every needle; return that line."""
    assert cli(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "no error message"
    line = err[-1]
    assert line.startswith(f"livr {argv[0]}: error: "), line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def train_argv(env, out, params=None, **kw) -> list[str]:
    opts = {"backbone": BACKBONE, "train-set": TASK, "method": "sft", "experiment": "ci", "seed": "42", **kw}
    return [
        "train",
        "--params",
        str(params or env["params"]),
        *[a for k, v in opts.items() if v is not None for a in (f"--{k}", v)],
        "--out",
        str(out),
    ]


def eval_argv(env, out, **kw) -> list[str]:
    opts = {"backbone": BACKBONE, "train-set": TASK, "method": "zero_shot", "task": TASK, "experiment": "ci", **kw}
    return [
        "evaluate",
        "--params",
        str(env["params"]),
        *[a for k, v in opts.items() if v is not None for a in (f"--{k}", v)],
        "--out",
        str(out),
    ]


# ---------------------------------------------------------------- names
@pytest.mark.parametrize(
    "kw, needles",
    [
        ({"experiment": "nope"}, ["unknown experiment 'nope'", "valid experiments:", "ci", "demo"]),
        ({"backbone": "gpt-9"}, ["backbone 'gpt-9' is not in experiment 'ci'", "valid backbones: tiny-qwen2.5-vl"]),
        (
            {"backbone": "qwen3-vl-4b"},
            ["backbone 'qwen3-vl-4b' is not in experiment 'ci'"],
        ),  # real, but not in ci: no download
        ({"train-set": "sudoku"}, ["train set 'sudoku'", "valid train sets: relative_reflectance, counting"]),
        ({"method": "magic"}, ["method 'magic'", "valid trained methods: sft, livr"]),
        ({"method": "zero_shot"}, ["method 'zero_shot' is not a trained method", "sft, livr"]),
        ({"seed": "7"}, ["--seed 7 is not in experiment 'ci'", "valid seeds (experiments.ci.seeds): 42, 43"]),
        ({"seed": None}, ["method 'sft': experiment 'ci' trains seeds 42, 43; give --seed"]),
    ],
)
def test_train_refuses_unknown_names(env, capsys, tmp_path, kw, needles):
    fails(capsys, train_argv(env, tmp_path / "run", **kw), *needles)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "kw, needles",
    [
        ({"method": "magic"}, ["method 'magic' is not in experiment 'ci'", "valid methods: zero_shot, sft, livr"]),
        (
            {"task": "sudoku"},
            [
                "task 'sudoku' is not evaluated for train set 'relative_reflectance'",
                "valid tasks: relative_reflectance",
            ],
        ),
        ({"task": "counting"}, ["task 'counting' is not evaluated for train set 'relative_reflectance'"]),
        ({"backbone": "gpt-9"}, ["backbone 'gpt-9'", "valid backbones: tiny-qwen2.5-vl"]),
        ({"seed": "42"}, ["--seed 42: method 'zero_shot' evaluates the untrained base model, which has no seed"]),
        ({"method": "livr"}, ["method 'livr': experiment 'ci' trains seeds 42, 43; give --seed"]),
        ({"method": "livr", "seed": "44"}, ["--seed 44 is not in experiment 'ci'", "valid seeds"]),
    ],
)
def test_evaluate_refuses_unknown_names(env, capsys, tmp_path, kw, needles):
    fails(capsys, eval_argv(env, tmp_path / "cell.jsonl", **kw), *needles)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "variant, needles",
    [
        (
            "sft={out}",
            [
                "--variant sft: evaluates",
                "/sft/seed42/final, not --method livr's",
                "only methods on one checkpoint share a job",
            ],
        ),
        ("zero_shot={out}", ["--variant zero_shot: evaluates the base model, not --method livr's"]),
        ("magic={out}", ["method 'magic' is not in experiment 'ci'", "valid methods: zero_shot, sft, livr"]),
        ("sft", ["--variant 'sft': expected METHOD=OUT"]),
        ("livr={out}", ["each method and each predictions file once"]),
    ],
)
def test_evaluate_refuses_a_variant_on_another_checkpoint(env, capsys, tmp_path, variant, needles):
    """A merged evaluation job decodes only methods on --method's checkpoint, each into a file of its own:
    refused before anything is loaded or written."""
    fails(
        capsys,
        eval_argv(
            env, tmp_path / "cell.jsonl", method="livr", seed="42", variant=variant.format(out=tmp_path / "v.jsonl")
        ),
        *needles,
    )
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- params.yaml numbers and syntax
def _set(path: list, value):
    def mutate(p):
        node = p
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


BAD_PARAMS = {
    "negative lr": (_set(["training", "lr"], -0.001), ["key 'training.lr'", "-0.001", "minimum of 0"]),
    "zero epochs": (
        _set(["experiments", "ci", "training", "sft_epochs"], 0),
        ["experiments.ci.training.sft_epochs", "minimum of 0"],
    ),
    "negative epochs": (_set(["training", "sft_epochs"], -2), ["training.sft_epochs", "-2"]),
    "K < 1": (_set(["methods", "livr_k4", "num_latents"], 0), ["methods.livr_k4", "num_latents", "minimum of 1"]),
    "split not adding up to sft_epochs": (
        _set(["experiments", "ci", "training", "livr_stage_epochs"], [1, 3]),
        ["experiments.ci", "livr_stage_epochs [1, 3] add up to 4", "sft_epochs is 2"],
    ),
    "split adding up to nothing": (
        _set(["experiments", "ci", "training", "livr_stage_epochs"], [0, 0]),
        ["livr_stage_epochs [0, 0] must add up to more than 0"],
    ),
    "negative stage": (
        _set(["training", "livr_stage_epochs"], [-4, 14]),
        ["training.livr_stage_epochs.0", "minimum of 0"],
    ),
    "three stages": (_set(["training", "livr_stage_epochs"], [4, 3, 3]), ["training.livr_stage_epochs", "too long"]),
    "unknown key": (_set(["training", "learning_rate"], 0.1), ["key 'training'", "learning_rate"]),
}


@pytest.mark.parametrize("case", list(BAD_PARAMS))
def test_out_of_range_params_are_refused(env, capsys, tmp_path, case):
    mutate, needles = BAD_PARAMS[case]
    raw = json.loads(json.dumps(env["raw"]))
    mutate(raw)
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(raw, sort_keys=False))
    fails(capsys, ["cells", "--params", str(bad)], str(bad), *needles)
    fails(capsys, train_argv(env, tmp_path / "run", params=bad), *needles)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "text, needles",
    [
        ("experiment: [ci\n", [".yaml:2: not valid YAML", "expected"]),
        ("", ["expected a mapping"]),
        ("- just\n- a list\n", ["expected a mapping", "got list"]),
    ],
)
def test_unparsable_params_file(capsys, tmp_path, text, needles):
    bad = tmp_path / "params.yaml"
    bad.write_text(text)
    fails(capsys, ["cells", "--params", str(bad)], str(bad), *needles)
    fails(capsys, ["cells", "--params", str(tmp_path / "missing.yaml")], "params file not found")


# ---------------------------------------------------------------- built datasets
def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write_rows(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _break_missing_image(d):
    (d / _rows(d / "train.jsonl")[1]["images"][0]).unlink()
    return ["train.jsonl:2", "image", "is missing"]


def _break_corrupt_image(d):
    rel = _rows(d / "train.jsonl")[0]["images"][0]
    (d / rel).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return [rel, "cannot read image of record", "train-00000"]


def _break_answer(d):
    rows = _rows(d / "train.jsonl")
    rows[2]["answer"] = "E"
    _write_rows(d / "train.jsonl", rows)
    return ["train.jsonl:3", "key 'answer' is 'E'", "not among its choices ['A', 'B', 'C']"]


def _break_duplicate_id(d):
    rows = _rows(d / "train.jsonl")
    rows[3]["id"] = rows[0]["id"]
    _write_rows(d / "train.jsonl", rows)
    return ["train.jsonl:4", "duplicate id", "first on line 1"]


def _break_empty_split(d):
    (d / "val.jsonl").write_text("")
    return ["val.jsonl", "split is empty"]


def _break_bad_json(d):
    with open(d / "train.jsonl", "a") as f:
        f.write('{"id": "x", "task": \n')
    return ["train.jsonl:5", "not valid JSON"]


@pytest.mark.parametrize(
    "breaker",
    [
        _break_missing_image,
        _break_corrupt_image,
        _break_answer,
        _break_duplicate_id,
        _break_empty_split,
        _break_bad_json,
    ],
)
def test_broken_dataset_is_refused_before_anything_is_written(env, capsys, tmp_path, breaker):
    raw = json.loads(json.dumps(env["raw"]))
    raw["paths"]["data"] = str(tmp_path / "data")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    data = Path(livr_config.task_dir(livr_config.load_params(params), "ci", TASK))
    shutil.copytree(env["data"], data)
    needles = breaker(data)
    fails(capsys, train_argv(env, tmp_path / "run", params=params), *needles)
    assert not (tmp_path / "run").exists(), "a refused run writes nothing"


# ---------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def full_checkpoint(env):
    model, processor = load_backbone(BACKBONE, env["models"], {}, torch.float32, "sdpa", "cpu")
    meta = {
        "backbone": BACKBONE,
        "method": "sft",
        "train": "sft",
        "finetune": "full",
        "latents": [],
        "latent_ids": [],
        "latent_position": "after_prompt",
        "mask": "default",
        "stages": [],
    }
    path = env["root"] / "good_final"
    save_checkpoint(model, processor, meta, path)
    return path


def _truncate_weights(ck):
    w = ck / "model.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    return ["cannot load checkpoint", "rerun its training job"]


def _drop_weights(ck):
    (ck / "model.safetensors").unlink()
    return ["cannot load checkpoint"]


def _drop_meta(ck):
    (ck / "livr_checkpoint.json").unlink()
    return ["livr_checkpoint.json: not a finished LIVR checkpoint"]


def _corrupt_meta(ck):
    (ck / "livr_checkpoint.json").write_text('{"backbone": "tiny-')
    return ["livr_checkpoint.json: corrupt checkpoint metadata"]


def _meta_lacking_keys(ck):
    (ck / "livr_checkpoint.json").write_text(json.dumps({"backbone": BACKBONE}))
    return ["lacks key(s) ['finetune'", "it needs"]


def _other_backbone(ck):
    meta = json.loads((ck / "livr_checkpoint.json").read_text())
    (ck / "livr_checkpoint.json").write_text(json.dumps({**meta, "backbone": "tiny-qwen3-vl"}))
    return ["checkpoint is of backbone 'tiny-qwen3-vl', not 'tiny-qwen2.5-vl'"]


@pytest.mark.parametrize(
    "breaker", [_truncate_weights, _drop_weights, _drop_meta, _corrupt_meta, _meta_lacking_keys, _other_backbone]
)
def test_missing_or_corrupt_checkpoint(env, capsys, tmp_path, full_checkpoint, breaker):
    ck = tmp_path / "final"
    shutil.copytree(full_checkpoint, ck)
    needles = breaker(ck)
    out = tmp_path / "cells" / "cell.jsonl"
    fails(capsys, eval_argv(env, out, method="sft", seed="42", checkpoint=str(ck)), str(ck), *needles)
    assert not out.parent.exists() or not list(out.parent.iterdir())


def test_missing_default_checkpoint_names_the_training_job(env, capsys, tmp_path):
    fails(
        capsys,
        eval_argv(env, tmp_path / "cell.jsonl", method="livr", seed="43"),
        "runs/ci/tiny-qwen2.5-vl/relative_reflectance/livr/seed43/final",
        "rerun its training job",
    )


# ---------------------------------------------------------------- model outputs
def test_output_naming_no_valid_answer_counts_as_wrong(env, capsys, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    import livr.decoding as decoding

    tok = AutoTokenizer.from_pretrained(env["models"] / BACKBONE)
    texts = ["(E) surely", "banana", "", "A or B"]

    def fake_decode(model, batch, roles, mask, max_new_tokens, stop_ids, suppress_ids, latent=None):
        return [tok.encode(texts[i % len(texts)], add_special_tokens=False) for i in range(roles.shape[0])]

    monkeypatch.setattr(decoding, "greedy_decode", fake_decode)
    out = tmp_path / "cell.jsonl"
    assert cli(eval_argv(env, out)) == 0
    assert "0.00% (0/3, 3 unparsable)" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["raw_output"] for r in rows] == texts[:3]
    assert all(r["parsed"] is None and r["parse_method"] == "unparsable" and r["correct"] is False for r in rows)
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["n_unparsed"] == 3 and summary["accuracy"] == 0
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", str(out), "--out", str(db)]) == 0  # the collector accepts such cells


# ---------------------------------------------------------------- security
def test_names_with_quotes_are_data_not_sql(capsys, tmp_path):
    exp, method = "o'brien; DROP TABLE runs; --", 'it\'s "quoted"'
    path = tmp_path / "cells" / "x" / f"{TASK}.jsonl"
    path.parent.mkdir(parents=True)
    rows = [
        {
            "id": "a'1",
            "task": TASK,
            "raw_output": "A'); DROP TABLE predictions; --",
            "parsed": "A",
            "parse_method": "letter",
            "gold": "A",
            "correct": True,
        }
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "experiment": exp,
                "backbone": "tiny-a",
                "train_set": TASK,
                "method": method,
                "task": TASK,
                "seed": None,
                "weights": "base",
                "selected": True,
                "n": 1,
                "n_correct": 1,
                "n_unparsed": 0,
                "accuracy": 100.0,
            }
        )
    )
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", str(path), "--out", str(db)]) == 0
    assert cli(["tables", "--db", str(db), "--experiment", exp, "--out-dir", str(tmp_path / "t")]) == 0
    capsys.readouterr()
    assert cli(["sql", "--db", str(db), "--csv", "SELECT experiment, method FROM runs"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:] == [[exp, method]]
    assert cli(["sql", "--db", str(db), "--csv", "SELECT count(*) AS n FROM predictions"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["1"]
    # `livr sql` runs user SQL, but read-only and without access to other files.
    fails(capsys, ["sql", "--db", str(db), "DROP TABLE runs"], "query failed")
    fails(capsys, ["sql", "--db", str(db), f"COPY runs TO '{tmp_path / 'leak.csv'}'"], "query failed")
    fails(
        capsys,
        ["sql", "--db", str(db), "SELECT * FROM read_csv('/etc/passwd')"],
        "query failed",
        "/etc/passwd",
        "disabled",
    )
    assert not (tmp_path / "leak.csv").exists()


# ---------------------------------------------------------------- a real backbone that is not there
REAL, REAL_ID = "qwen2.5-vl-3b", "Qwen/Qwen2.5-VL-3B-Instruct"


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    """An empty Hugging Face cache and HF_HUB_OFFLINE=1; loading any model is a test failure."""
    from huggingface_hub import constants

    import livr.evaluate
    import livr.model.loading
    import livr.train

    cache = tmp_path / "hf"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_loading(*a, **k):
        raise AssertionError("a model was loaded")

    for mod, name in (
        (livr.model.loading, "load_backbone"),
        (livr.train, "load_backbone"),
        (livr.evaluate, "load_trained"),
    ):
        monkeypatch.setattr(mod, name, no_loading)
    return cache


def _real_env(env, tmp_path, experiment: str, build: dict[str, callable]) -> Path:
    """A params file whose data root is under tmp_path, with the named datasets of `experiment` built."""
    raw = json.loads(json.dumps(env["raw"]))
    raw["paths"]["data"] = str(tmp_path / "data")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    loaded = livr_config.load_params(params)
    for name, builder in build.items():
        builder(name, livr_config.task_dir(loaded, experiment, name))
    return params


def _synth(task, out):
    build_synthetic_task(task, out, n_train=2, n_val=1, n_test=1, seed=0)


def _standin(name, out):
    from livr.data.standins import build_standin

    build_standin(name, out, 2, 1, 6, 0)


def _weights_error(capsys, argv, random_weights: bool):
    import time

    t0 = time.monotonic()
    line = fails(
        capsys,
        argv,
        f"backbone {REAL}",
        REAL_ID,
        "not in the Hugging Face cache",
        "HF_HUB_OFFLINE is set",
        f"hf download {REAL_ID}",
    )
    assert time.monotonic() - t0 < 10
    assert ("--random-weights" in line) == random_weights


def test_real_backbone_not_cached_verify_bottleneck(capsys, tmp_path, no_weights):
    _weights_error(capsys, ["verify-bottleneck", "--backbone", REAL, "--json", str(tmp_path / "v.json")], True)
    assert not (tmp_path / "v.json").exists()


def test_real_backbone_not_cached_train_checks_its_data_first(env, capsys, tmp_path, no_weights):
    argv = [
        "train",
        "--params",
        str(_real_env(env, tmp_path, "table1", {})),
        "--experiment",
        "table1",
        "--backbone",
        REAL,
        "--train-set",
        "counting",
        "--method",
        "sft",
        "--out",
        str(tmp_path / "run"),
    ]
    fails(capsys, argv, "counting/train.jsonl: split file missing")  # the data, before any weights
    _real_env(env, tmp_path, "table1", {"counting": _synth})
    _weights_error(capsys, argv, False)
    assert not (tmp_path / "run").exists()


def test_real_backbone_not_cached_evaluate(env, capsys, tmp_path, no_weights):
    params = _real_env(env, tmp_path, "table3", {"blink3": _standin})
    out = tmp_path / "cells" / "blink3.jsonl"
    _weights_error(
        capsys,
        [
            "evaluate",
            "--params",
            str(params),
            "--experiment",
            "table3",
            "--backbone",
            REAL,
            "--train-set",
            "sat32k",
            "--method",
            "zero_shot",
            "--task",
            "blink3",
            "--out",
            str(out),
        ],
        False,
    )
    assert not out.parent.exists()


def test_real_backbone_not_cached_analyze(env, capsys, tmp_path, no_weights):
    params = _real_env(env, tmp_path, "table1", {"counting": _synth})
    raw = yaml.safe_load(params.read_text())
    raw["paths"]["runs"] = str(tmp_path / "runs")
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    argv = ["analyze", "--params", str(params), "--experiment", "table1", "--backbone", REAL]
    argv += ["--train-set", "counting", "--method", "livr", "--out", str(tmp_path / "analysis.json")]
    fails(capsys, argv, "not a finished LIVR checkpoint")  # the checkpoint, before any weights
    ckpt = Path(Layout.of(livr_config.load_params(params)).checkpoint_dir("table1", REAL, "counting", "livr", 42))
    ckpt.mkdir(parents=True)
    meta = {"backbone": REAL, "finetune": "lora", "latents": ["<l1>"], "latent_ids": [7]}
    meta |= {"latent_position": "after_prompt", "mask": "default"}
    (ckpt / CHECKPOINT_META).write_text(json.dumps(meta))
    _weights_error(capsys, argv, False)
    assert not (tmp_path / "analysis.json").exists()


def test_unreachable_hub_is_named_within_seconds(capsys, tmp_path, no_weights, monkeypatch):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    fails(
        capsys,
        ["verify-bottleneck", "--backbone", REAL],
        REAL_ID,
        "the hub is unreachable: connection refused",
        f"hf download {REAL_ID}",
        "--random-weights",
    )


def test_cached_real_weights_pass_the_check(tmp_path, monkeypatch):
    from huggingface_hub import constants

    from livr.ops.hub_weights import require_backbone_weights

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snap = tmp_path / ("models--" + REAL_ID.replace("/", "--")) / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text("a" * 40)
    (snap / "config.json").write_text("{}")
    with pytest.raises(InputError, match="not in the Hugging Face cache"):
        require_backbone_weights(REAL)  # config alone is not the weights
    (snap / "model.safetensors").write_bytes(b"x")
    require_backbone_weights(REAL)
    require_backbone_weights(BACKBONE)  # a tiny build never asks the hub


# ---------------------------------------------------------------- outputs that cannot be written
def _unwritable_argv(env, tmp_path, blocker: Path) -> dict[str, list[str]]:
    db = tmp_path / "missing.duckdb"
    return {
        "inspect": ["data", "inspect", "--task-dir", str(env["data"]), "--out", str(blocker / "sheet.png")],
        "synth": [
            "data",
            "synth",
            "--task",
            TASK,
            "--out",
            str(blocker / "task"),
            "--n-train",
            "1",
            "--n-val",
            "1",
            "--n-test",
            "1",
        ],
        "tables": ["tables", "--db", str(db), "--experiment", "ci", "--out-dir", str(blocker / "tables")],
        "report": ["report", "--db", str(db), "--out", str(blocker / "report.html")],
        "verify --json": [
            "verify-bottleneck",
            "--backbone",
            BACKBONE,
            "--models-dir",
            str(env["models"]),
            "--json",
            str(blocker / "v.json"),
        ],
        "train": train_argv(env, blocker / "run"),
        "evaluate": eval_argv(env, blocker / "cell.jsonl"),
    }


@pytest.mark.parametrize("command", ["inspect", "synth", "tables", "report", "verify --json", "train", "evaluate"])
def test_unwritable_output_is_refused_before_the_work(env, capsys, tmp_path, no_weights, command):
    blocker = tmp_path / "results.csv"  # an existing result file where a directory would have to be
    blocker.write_text("kept\n")
    argv = _unwritable_argv(env, tmp_path, blocker)[command]
    fails(capsys, argv, str(blocker), "cannot write", f"{blocker} is not a directory")
    assert blocker.read_text() == "kept\n" and sorted(p.name for p in tmp_path.iterdir()) == ["hf", "results.csv"]


def test_late_write_failure_is_one_line_and_keeps_the_old_output(env, capsys, tmp_path):
    out = tmp_path / "sheet.png"
    out.mkdir()  # passes the up-front check (its parent is writable); only the final rename fails
    (out / "kept").write_text("x")
    fails(capsys, ["data", "inspect", "--task-dir", str(env["data"]), "--out", str(out)], str(out), "cannot write")
    assert (out / "kept").read_text() == "x" and [p.name for p in tmp_path.iterdir()] == ["sheet.png"]


def test_evaluate_out_naming_a_directory_is_refused_before_decoding(env, capsys, tmp_path, no_weights):
    fails(capsys, eval_argv(env, tmp_path), str(tmp_path), "is a directory", "--out names the predictions .jsonl")


# ---------------------------------------------------------------- sql, bench, inspect
def test_sql_empty_query_and_a_file_that_is_no_database(capsys, tmp_path):
    fails(capsys, ["sql", "--db", str(REPO / "README.md"), ""], "empty query")
    fails(
        capsys,
        ["sql", "--db", str(REPO / "README.md"), "SELECT 1"],
        "README.md",
        "cannot open as a DuckDB results database",
    )


@pytest.mark.parametrize("k", ["0", "-1"])
def test_bench_refuses_fewer_than_one_latent(capsys, k):
    fails(capsys, ["bench", "--k", k], f"--k {k}: must be at least 1")


def test_inspect_names_a_truncated_image(env, capsys, tmp_path):
    data = tmp_path / "task"
    shutil.copytree(env["data"], data)
    rec = _rows(data / "test.jsonl")[0]
    image = data / rec["images"][0]
    image.write_bytes(image.read_bytes()[: image.stat().st_size // 2])
    fails(capsys, ["data", "inspect", "--task-dir", str(data), "--n", "5"], str(image), rec["id"], "cannot read image")
    assert not (data / "inspect.png").exists()


# ---------------------------------------------------------------- small things
def test_corrupt_jsonl_message_is_a_whole_phrase(env, capsys, tmp_path):
    data = tmp_path / "task"
    shutil.copytree(env["data"], data)
    with open(data / "train.jsonl", "a") as f:
        f.write('{"id": "bad\ttab"}\n')  # a raw control character inside a string
    fails(
        capsys,
        ["data", "inspect", "--task-dir", str(data)],
        "train.jsonl:5",
        "not valid JSON (Invalid control character at column 12)",
    )


@pytest.mark.parametrize(
    "sub", ["synth", "download", "import", "build", "build-comparison", "synth-comparison", "inspect"]
)
def test_data_subcommand_help_says_what_it_does(capsys, sub):
    with pytest.raises(SystemExit):
        cli(["data", sub, "--help"])
    usage, description = capsys.readouterr().out.split("\n\n")[:2]
    assert usage.startswith(f"usage: livr data {sub}") and description.split()[0] not in ("options:", "positional")


def test_sql_help_lists_every_table_and_view_of_the_database(env, capsys, tmp_path):
    path = tmp_path / "cells" / f"{TASK}.jsonl"
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "id": "a",
                "task": TASK,
                "raw_output": "A",
                "parsed": "A",
                "parse_method": "letter",
                "gold": "A",
                "correct": True,
            }
        )
        + "\n"
    )
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "experiment": "ci",
                "backbone": BACKBONE,
                "train_set": TASK,
                "method": "zero_shot",
                "task": TASK,
                "seed": None,
                "weights": "base",
                "selected": True,
                "n": 1,
                "n_correct": 1,
                "n_unparsed": 0,
                "accuracy": 100.0,
            }
        )
    )
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", str(path), "--out", str(db)]) == 0
    capsys.readouterr()
    assert cli(["sql", "--db", str(db), "--csv", "SELECT table_name FROM information_schema.tables"]) == 0
    names = capsys.readouterr().out.split()[1:]
    with pytest.raises(SystemExit):
        cli(["sql", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert len(names) >= 15 and [n for n in names if not re.search(rf"\b{n}\b", shown)] == []


def test_tables_say_what_they_cannot_show(capsys, tmp_path):
    """Issue 23: the demo evaluates only the weights each run kept (`evaluate_unselected: false`):
    `livr tables --weights last` must say so, not write a table of zero-shot rows and exit 0."""
    from test_results import make_cell

    cells = [make_cell(tmp_path, "e", "tiny-x", TASK, m, TASK) for m in ("zero_shot", "sft", "livr")]
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", *map(str, cells), "--out", str(db)]) == 0
    out = tmp_path / "t"
    assert cli(["tables", "--db", str(db), "--experiment", "e", "--out-dir", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # the tables this experiment cannot fill say why, one line each; table1 has rows
    said = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if "header only" in line}
    assert set(said) == {str(out / f"{t}.csv") for t in ("table2", "table3", "table4", "mirage_vsp")}
    assert "experiment 'e' has no cell trained on a mixture" in said[str(out / "table2.csv")]
    assert all((out / f"{t}.csv").read_text().count("\n") == 1 for t in ("table2", "table3", "table4", "mirage_vsp"))
    fails(
        capsys,
        ["tables", "--db", str(db), "--experiment", "e", "--out-dir", str(out), "--weights", "last"],
        "--weights last",
        "no trained cell evaluated at its last weights",
        "evaluate_unselected: false",
        "valid here: selected, best_val",
    )
    # the weights the runs kept here are best_val: that choice is valid
    assert (
        cli(["tables", "--db", str(db), "--experiment", "e", "--out-dir", str(tmp_path / "b"), "--weights", "best_val"])
        == 0
    )
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before, "existing tables untouched"
