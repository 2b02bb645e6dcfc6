"""Bad input, through the CLI: exit status 2, one clear line on stderr naming the file, row or key
and the valid values, and nothing half-written left behind. Also the security boundaries:
remote model code only with the opt-in, user text never reaching SQL as SQL outside `livr sql`,
which is read-only and cannot touch other files."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from livr import config as livr_config
from livr.cli import main as cli
from livr.data.synthetic import build_synthetic_task
from livr.model.loading import load_backbone
from livr.train import save_checkpoint

REPO = Path(__file__).resolve().parent.parent
BACKBONE, TASK = "tiny-qwen2.5-vl", "relative_reflectance"


@pytest.fixture(scope="module")
def env(tmp_path_factory, tiny_models_dir):
    """A params file (experiment ci, paths in a temp dir) and a small built task."""
    root = tmp_path_factory.mktemp("bad_input")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["paths"] = {"data": str(root / "data"), "models": str(tiny_models_dir), "runs": str(root / "runs"),
                       "results": str(root / "results")}
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
    opts = {"backbone": BACKBONE, "train-set": TASK, "method": "sft", "experiment": "ci", **kw}
    return ["train", "--params", str(params or env["params"]), *[a for k, v in opts.items() for a in (f"--{k}", v)],
            "--out", str(out)]


def eval_argv(env, out, **kw) -> list[str]:
    opts = {"backbone": BACKBONE, "train-set": TASK, "method": "zero_shot", "task": TASK, "experiment": "ci", **kw}
    return ["evaluate", "--params", str(env["params"]), *[a for k, v in opts.items() for a in (f"--{k}", v)], "--out", str(out)]


# ---------------------------------------------------------------- names
@pytest.mark.parametrize("kw, needles", [
    ({"experiment": "nope"}, ["unknown experiment 'nope'", "valid experiments:", "ci", "demo"]),
    ({"backbone": "gpt-9"}, ["backbone 'gpt-9' is not in experiment 'ci'", "valid backbones: tiny-qwen2.5-vl"]),
    ({"backbone": "qwen3-vl-4b"}, ["backbone 'qwen3-vl-4b' is not in experiment 'ci'"]),  # real, but not in ci: no download
    ({"train-set": "sudoku"}, ["train set 'sudoku'", "valid train sets: relative_reflectance, counting"]),
    ({"method": "magic"}, ["method 'magic'", "valid trained methods: sft, livr"]),
    ({"method": "zero_shot"}, ["method 'zero_shot' is not a trained method", "sft, livr"]),
])
def test_train_refuses_unknown_names(env, capsys, tmp_path, kw, needles):
    fails(capsys, train_argv(env, tmp_path / "run", **kw), *needles)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kw, needles", [
    ({"method": "magic"}, ["method 'magic' is not in experiment 'ci'", "valid methods: zero_shot, sft, livr"]),
    ({"task": "sudoku"}, ["task 'sudoku' is not evaluated for train set 'relative_reflectance'", "valid tasks: relative_reflectance"]),
    ({"task": "counting"}, ["task 'counting' is not evaluated for train set 'relative_reflectance'"]),
    ({"backbone": "gpt-9"}, ["backbone 'gpt-9'", "valid backbones: tiny-qwen2.5-vl"]),
])
def test_evaluate_refuses_unknown_names(env, capsys, tmp_path, kw, needles):
    fails(capsys, eval_argv(env, tmp_path / "cell.jsonl", **kw), *needles)
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
    "zero epochs": (_set(["experiments", "ci", "training", "sft_epochs"], 0), ["experiments.ci.training.sft_epochs", "minimum of 0"]),
    "negative epochs": (_set(["training", "sft_epochs"], -2), ["training.sft_epochs", "-2"]),
    "K < 1": (_set(["methods", "livr_k4", "num_latents"], 0), ["methods.livr_k4", "num_latents", "minimum of 1"]),
    "split not adding up to sft_epochs": (_set(["experiments", "ci", "training", "livr_stage_epochs"], [1, 3]),
                                          ["experiments.ci", "livr_stage_epochs [1, 3] add up to 4", "sft_epochs is 2"]),
    "split adding up to nothing": (_set(["experiments", "ci", "training", "livr_stage_epochs"], [0, 0]),
                                   ["livr_stage_epochs [0, 0] must add up to more than 0"]),
    "negative stage": (_set(["training", "livr_stage_epochs"], [-4, 14]), ["training.livr_stage_epochs.0", "minimum of 0"]),
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


@pytest.mark.parametrize("text, needles", [
    ("experiment: [ci\n", [".yaml:2: not valid YAML", "expected"]),
    ("", ["expected a mapping"]),
    ("- just\n- a list\n", ["expected a mapping", "got list"]),
])
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


@pytest.mark.parametrize("breaker", [_break_missing_image, _break_corrupt_image, _break_answer, _break_duplicate_id,
                                     _break_empty_split, _break_bad_json])
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
    meta = {"backbone": BACKBONE, "method": "sft", "train": "sft", "finetune": "full", "latents": [], "latent_ids": [],
            "latent_position": "after_prompt", "mask": "default", "stages": []}
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


@pytest.mark.parametrize("breaker", [_truncate_weights, _drop_weights, _drop_meta, _corrupt_meta, _meta_lacking_keys,
                                     _other_backbone])
def test_missing_or_corrupt_checkpoint(env, capsys, tmp_path, full_checkpoint, breaker):
    ck = tmp_path / "final"
    shutil.copytree(full_checkpoint, ck)
    needles = breaker(ck)
    out = tmp_path / "cells" / "cell.jsonl"
    fails(capsys, eval_argv(env, out, method="sft", checkpoint=str(ck)), str(ck), *needles)
    assert not out.parent.exists() or not list(out.parent.iterdir())


def test_missing_default_checkpoint_names_the_training_job(env, capsys, tmp_path):
    fails(capsys, eval_argv(env, tmp_path / "cell.jsonl", method="livr"),
          "runs/ci/tiny-qwen2.5-vl/relative_reflectance/livr/final", "rerun its training job")


# ---------------------------------------------------------------- model outputs
def test_output_naming_no_valid_answer_counts_as_wrong(env, capsys, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    import livr.evaluate as ev

    tok = AutoTokenizer.from_pretrained(env["models"] / BACKBONE)
    texts = ["(E) surely", "banana", "", "A or B"]

    def fake_decode(model, batch, roles, mask, max_new_tokens, stop_ids, suppress_ids):
        return [tok.encode(texts[i % len(texts)], add_special_tokens=False) for i in range(roles.shape[0])]

    monkeypatch.setattr(ev, "greedy_decode", fake_decode)
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
    exp, method = "o'brien; DROP TABLE runs; --", "it's \"quoted\""
    path = tmp_path / "cells" / "x" / f"{TASK}.jsonl"
    path.parent.mkdir(parents=True)
    rows = [{"id": "a'1", "task": TASK, "raw_output": "A'); DROP TABLE predictions; --", "parsed": "A",
             "parse_method": "letter", "gold": "A", "correct": True}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path.with_suffix(".json").write_text(json.dumps({"experiment": exp, "backbone": "tiny-a", "train_set": TASK,
                                                     "method": method, "task": TASK, "weights": "base", "selected": True, "n": 1, "n_correct": 1,
                                                     "n_unparsed": 0, "accuracy": 100.0}))
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
    fails(capsys, ["sql", "--db", str(db), "SELECT * FROM read_csv('/etc/passwd')"], "query failed", "/etc/passwd", "disabled")
    assert not (tmp_path / "leak.csv").exists()


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
    fails(capsys, ["tables", "--db", str(db), "--experiment", "e", "--out-dir", str(out), "--weights", "last"],
          "--weights last", "no trained cell evaluated at its last weights", "evaluate_unselected: false",
          "valid here: selected, best_val")
    # the weights the runs kept here are best_val: that choice is valid
    assert cli(["tables", "--db", str(db), "--experiment", "e", "--out-dir", str(tmp_path / "b"), "--weights",
                "best_val"]) == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before, "existing tables untouched"
