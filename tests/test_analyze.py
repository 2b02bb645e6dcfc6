"""`livr analyze`: the answer->latent attention share recomputed independently from the model's own
attention outputs, the t-SNE points, and the path through collect, tables and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from test_report import K, make_livr_checkpoint
from test_results import make_cell

from livr import config as livr_config
from livr.analyze import analyze_model
from livr.cli import main as cli
from livr.data.schema import read_split
from livr.data.synthetic import build_synthetic_task
from livr.layout import Layout
from livr.model.backbones import get_backbone
from livr.model.inputs import Collator, encode, load_images
from livr.model.loading import load_trained
from livr.model.masks import ANSWER, IMAGE, LATENT, POST, TEXT

EXP, BACKBONE, TASK, N_TEST = "analysis_test", "tiny-qwen2.5-vl", "localization", 5
SETTINGS = {"attention_examples": None, "tsne_examples": 3, "tsne_tokens_per_kind": 5, "tsne_perplexity": 30, "seed": 0}


@pytest.fixture(scope="module")
def setup(tiny_models_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis")
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["paths"] = {
        "data": str(root / "data"),
        "models": str(tiny_models_dir),
        "runs": str(root / "runs"),
        "results": str(root / "results"),
    }
    params["analysis"] = SETTINGS
    params["experiments"][EXP] = {
        "suite": "synthetic",
        "backbones": [BACKBONE],
        "tasks": [TASK],
        "methods": ["zero_shot", "sft", "livr"],
        "training": {"finetune": "full", "dtype": "float32", "num_latents": K},
    }
    params_path = root / "params.yaml"
    params_path.write_text(yaml.safe_dump(params))
    params = livr_config.load_params(params_path)
    data = Path(livr_config.task_dir(params, EXP, TASK))
    build_synthetic_task(TASK, data, n_train=1, n_val=1, n_test=N_TEST, seed=5)
    checkpoint = Path(Layout(runs=str(root / "runs")).checkpoint_dir(EXP, BACKBONE, TASK, "livr", 42))
    make_livr_checkpoint(
        BACKBONE, "full", tiny_models_dir, checkpoint, 0, image_copies=1, weights="best_val", selected=True
    )
    return {"root": root, "params_path": params_path, "data": data, "checkpoint": checkpoint, "models": tiny_models_dir}


@torch.no_grad()
def independent_shares(model, processor, spec, meta, records, data):
    """Pooled mean over examples, layers, heads and answer positions of the attention mass on the
    latent and image keys, from the model's own `output_attentions`."""
    sums, count = {"latent": 0.0, "image": 0.0}, 0
    for rec in records:
        enc = encode(rec, load_images(rec, data), processor, spec, meta["latents"], meta["latent_position"])
        batch, roles = Collator(model, processor.tokenizer.pad_token_id, spec, None).collate([enc])
        batch.pop("labels")
        att = torch.stack(model(**batch, output_attentions=True).attentions)[:, 0]  # [layers, heads, L, L]
        roles = roles[0]
        answer = att[:, :, roles == ANSWER]  # [layers, heads, A, L]
        sums["latent"] += float(answer[..., roles == LATENT].sum())
        sums["image"] += float(answer[..., roles == IMAGE].sum())
        count += answer.shape[0] * answer.shape[1] * answer.shape[2]
    return {k: v / count for k, v in sums.items()}


def test_attention_share_and_tsne_points(setup):
    model, processor, meta = load_trained(
        BACKBONE, setup["checkpoint"], setup["models"], {}, torch.float32, "eager", "cpu"
    )
    spec = get_backbone(BACKBONE)
    records = read_split(setup["data"], "test")
    result = analyze_model(model, processor, spec, meta, {TASK: (setup["data"], records)}, SETTINGS)
    (att,) = result["attention"]
    want = independent_shares(model, processor, spec, meta, records, setup["data"])
    assert att["n"] == N_TEST
    assert att["answer_to_latent"] == pytest.approx(want["latent"], rel=1e-5)
    assert att["answer_to_image"] == pytest.approx(want["image"], rel=1e-5)
    assert 0 < att["answer_to_latent"] < 1 and 0 < att["predictor_to_latent"] < 1
    assert att["answer_to_latent"] + att["answer_to_image"] < 1
    # t-SNE: every latent and 5 image / 5 text tokens of each of the first 3 examples, at their real positions
    points = result["tsne"]["points"]
    for rec in records[:3]:
        enc = encode(rec, load_images(rec, setup["data"]), processor, spec, meta["latents"], meta["latent_position"])
        mine = [p for p in points if p["id"] == rec.id]
        by_kind = {k: [p["position"] for p in mine if p["kind"] == k] for k in ("latent", "image", "text")}
        assert by_kind["latent"] == [i for i, r in enumerate(enc.roles) if r == LATENT]
        assert len(by_kind["image"]) == len(by_kind["text"]) == 5
        assert all(enc.roles[i] == IMAGE for i in by_kind["image"])
        assert all(enc.roles[i] in (TEXT, POST) for i in by_kind["text"])
    assert {p["id"] for p in points} == {r.id for r in records[:3]}
    xy = np.array([[p["x"], p["y"]] for p in points])
    assert np.isfinite(xy).all() and xy.std(axis=0).min() > 0


def test_analyze_collect_tables_and_report(setup, tmp_path, capsys):
    out = setup["root"] / Layout().analysis_file(EXP, BACKBONE, TASK, "livr", 42)
    assert (
        cli(
            [
                "analyze",
                "--params",
                str(setup["params_path"]),
                "--experiment",
                EXP,
                "--backbone",
                BACKBONE,
                "--train-set",
                TASK,
                "--method",
                "livr",
                "--out",
                str(out),
                "--device",
                "cpu",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    assert "answer->latent attention localization" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert (data["method"], data["weights"], len(data["attention"])) == ("livr", "best_val", 1)
    # a method without latents is refused with a clear message
    assert (
        cli(
            [
                "analyze",
                "--params",
                str(setup["params_path"]),
                "--experiment",
                EXP,
                "--backbone",
                BACKBONE,
                "--train-set",
                TASK,
                "--method",
                "sft",
                "--out",
                str(tmp_path / "x.json"),
            ]
        )
        == 2
    )
    assert "trains no latent tokens" in capsys.readouterr().err and not (tmp_path / "x.json").exists()
    # collect: a cell is needed for the experiment to exist in the database
    cell = make_cell(tmp_path, EXP, BACKBONE, TASK, "livr", TASK, n=1)
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", str(cell), "--analyses", str(out), "--out", str(db)]) == 0
    assert (
        cli(
            [
                "tables",
                "--db",
                str(db),
                "--experiment",
                EXP,
                "--out-dir",
                str(tmp_path / "t"),
                "--paper-backbone",
                f"{BACKBONE}=qwen3-vl-4b",
            ]
        )
        == 0
    )
    import pandas as pd

    shares = pd.read_csv(tmp_path / "t" / "attention_shares.csv")
    (row,) = shares.to_dict("records")
    assert row["answer_to_latent"] == pytest.approx(data["attention"][0]["answer_to_latent"], abs=5e-5)
    assert row["paper_answer_to_latent"] == 0.076 and row["paper_backbone"] == "qwen3-vl-4b"
    # the report draws one t-SNE scatter for the model and lists the share
    from livr.report.analysis import analysis_section
    from livr.results.db import connect_read_only

    con = connect_read_only(db)
    html = analysis_section(con, EXP, {BACKBONE: "qwen3-vl-4b"})
    con.close()
    assert html.count('class="tsne"') == 1 and f'data-key="{BACKBONE}/{TASK}/livr"' in html
    assert "0.076" in html


def test_bad_analysis_file_is_rejected_naming_file_and_key(tmp_path):
    from livr.results.db import build_database

    bad = tmp_path / "a.json"
    bad.write_text(
        json.dumps(
            {
                "experiment": "e",
                "backbone": "b",
                "train_set": TASK,
                "method": "livr",
                "seed": 42,
                "weights": "last",
                "attention": [
                    {
                        "task": TASK,
                        "n": 2,
                        "answer_to_latent": "lots",
                        "answer_to_image": 0.1,
                        "predictor_to_latent": 0.1,
                        "predictor_to_image": 0.1,
                    }
                ],
                "tsne": {"points": []},
            }
        )
    )
    with pytest.raises(
        ValueError, match=rf"{bad}: attention\[0\]: key 'answer_to_latent' is 'lots'; expected a number"
    ):
        build_database(tmp_path / "x.duckdb", [], analyses=[bad])
    assert not (tmp_path / "x.duckdb").exists()
