"""`livr report` for an experiment of several training seeds: each cell's seeds as dots, LIVR - SFT
as a forest plot (each seed, pooled, the paper's) and each seed's delta in the table; nothing
overflows. Cells are written directly (no model is trained or loaded)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from test_report import images_of, needs_chromium, overflows, section

from livr import config as livr_config
from livr.report import build_report
from livr.results.db import build_database

EXP, BACKBONE = "seeds_report", "tiny-qwen2.5-vl"
TASKS = ("counting", "relative_reflectance")
N, SEEDS = 20, (42, 43, 44)
RIGHT = {  # examples right (the first k), per method and seed
    "zero_shot": {None: 4},
    "sft": dict(zip(SEEDS, (10, 12, 14))),
    "livr": dict(zip(SEEDS, (13, 11, 18))),
    "livr_eval_no_latents": dict(zip(SEEDS, (6, 8, 10))),  # the LIVR model of each seed without its latents
}


def write_cell(root: Path, task: str, method: str, seed: int | None, right: int) -> Path:
    gold = "3" if task == "counting" else "A"
    wrong = "4" if task == "counting" else "B"
    rows = [
        {
            "id": f"{task}-{i:03d}",
            "task": task,
            "raw_output": gold if i < right else wrong,
            "parsed": gold if i < right else wrong,
            "parse_method": "direct",
            "gold": gold,
            "correct": i < right,
        }
        for i in range(N)
    ]
    path = root / "cells" / EXP / BACKBONE / task / method / f"seed{seed}" / f"{task}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    sidecar = {
        "experiment": EXP,
        "backbone": BACKBONE,
        "train_set": task,
        "method": method,
        "seed": seed,
        "task": task,
        "weights": "base" if method == "zero_shot" else "best_val",
        "selected": True,
        "n": N,
        "n_correct": right,
        "n_unparsed": 0,
        "accuracy": 100 * right / N,
        "checkpoint": None,
        "checkpoint_method": None if method == "zero_shot" else "livr" if method.startswith("livr") else method,
        "settings": {"eval_latents": method != "livr_eval_no_latents", "eval_mask": "standard"},
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds_report")
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["paths"] = {k: str(root / k) for k in ("data", "models", "runs", "results")}
    params["experiments"][EXP] = {
        "suite": "synthetic",
        "backbones": [BACKBONE],
        "tasks": list(TASKS),
        "methods": ["zero_shot", "sft", "livr"],
    }
    params_path = root / "params.yaml"
    params_path.write_text(yaml.safe_dump({**params, "experiment": EXP}))
    params = livr_config.load_params(params_path)
    cells = [
        write_cell(root, task, m, s, k) for task in TASKS for m, by_seed in RIGHT.items() for s, k in by_seed.items()
    ]
    db = root / "livr.duckdb"
    build_database(db, cells)
    out = root / "report.html"
    build_report(params, EXP, db, out, attention_examples=0)
    return {"html": out.read_text(), "path": out}


def test_seeds_are_dots_and_deltas_a_forest_plot(page):
    html = page["html"]
    seeds = section(html, "seeds")
    (chart,) = images_of(seeds, "seeds")
    assert chart[0]["data-key"] == f"{BACKBONE}/" and chart[0]["data-seeds"] == "42,43,44"
    assert chart[1].std() > 1.0
    vs = section(html, "vs_paper")
    (forest,) = images_of(vs, "chart")
    assert forest[0]["data-seeds"] == "42,43,44" and "per seed and pooled" in forest[0]["alt"]
    # the table: the pooled delta (mean of the seeds' +3, -1, +4 of 20) and each seed's beside it
    row = re.search(r'<tr data-task="counting">(.*?)</tr>', vs, flags=re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    assert float(cells[1]) == pytest.approx(60.0) and float(cells[2]) == pytest.approx(70.0)
    assert re.match(r"<span[^>]*>\+10\.00</span>", cells[3])
    assert cells[4] == "42: +15.00<br>43: -5.00<br>44: +20.00"
    assert "<th>LIVR − SFT per seed</th>" in vs
    # the mechanism: each evaluation's mean over seeds, and its pooled difference to the model as trained
    mech = section(html, "mechanism")
    row = re.search(r'<tr data-task="counting">(.*?)</tr>', mech, flags=re.S).group(1)
    by = dict(re.findall(r'data-method="(\w+)" data-accuracy="([^"]*)"', row))
    assert by == {"livr": "70.00", "livr_eval_no_latents": "40.00", "sft": "60.00"}
    assert 'data-method="livr_eval_no_latents" data-accuracy="40.00" data-minus="-30.00"' in row
    # the detail tables name each row's seed
    tables = section(html, "tables")
    assert tables.count("<th>seed</th>") == 2  # every cell, and every method minus SFT


@needs_chromium
def test_nothing_overflows_at_1280_px(page, tmp_path):
    assert overflows(page["path"], tmp_path, 1280) == []
