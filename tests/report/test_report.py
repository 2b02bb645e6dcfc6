"""`livr report`: a page from a collected database and real (tiny, perturbed) LIVR checkpoints.

Two tiny backbones (the Qwen merged-grid path and the LLaVA patch-grid path), two synthetic tasks,
LIVR checkpoints made by moving every trainable tensor (a stand-in for training, as in
tests/test_training.py), and prediction files whose LIVR/SFT agreement is fixed per example, so the
failures the page must list are known.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from livr import config as livr_config
from livr.answers import extract_answer_with_method
from livr.attention_maps import example_figure, latent_image_attention
from livr.cli import main as cli
from livr.data.schema import TASKS as ALL_TASKS
from livr.data.schema import read_split
from livr.data.synthetic import build_synthetic_task
from livr.layout import Layout
from livr.model.backbones import REGISTRY, get_backbone
from livr.model.inputs import latent_token_strings, load_images
from livr.model.latents import add_latent_tokens
from livr.model.loading import load_backbone, load_trained
from livr.results.db import build_database
from livr.train import apply_finetune_mode, save_checkpoint

EXP = "report_test"
BACKBONES = {"tiny-qwen2.5-vl": "lora", "tiny-llava-ov-1.5": "full"}
TASKS = ("visual_correspondence", "counting")  # two images with 4 choices; one image, open-ended
N_TEST = 6
K = 4
MECHANISM = ("livr_eval_no_latents", "livr_eval_stage1_mask")  # cells of the first backbone only
DEMO_BACKBONE = "tiny-qwen2.5-vl-pretrained"


def livr_correct(i: int) -> bool:
    return i % 3 != 0


def sft_correct(i: int) -> bool:
    return i % 2 == 0


def expected_listed(ids: list[str]) -> list[str]:
    return [x for i, x in enumerate(ids) if not livr_correct(i) or livr_correct(i) != sft_correct(i)]


def wrong_answer(rec) -> str:
    if rec.choices:
        return next(c for c in "ABCDE"[: len(rec.choices)] if c != rec.answer)
    return str(int(rec.answer) + 1)


def write_cell(root: Path, backbone: str, task: str, method: str, records, selected: bool = True) -> Path:
    """A cell's predictions and sidecar; `selected=False`: the run's other (last-step) checkpoint,
    one more example right than the kept one."""
    rows = []
    for i, rec in enumerate(records):
        correct = {"livr": livr_correct, "sft": sft_correct}.get(method, lambda i: i == 0)(i) or (
            not selected and i == 3
        )
        raw = f"The answer is {rec.answer}." if correct else ("I am not sure." if i == 3 else wrong_answer(rec))
        parsed, how = extract_answer_with_method(raw, task, len(rec.choices) or None)
        assert (parsed == rec.answer) == correct
        rows.append(
            {
                "id": rec.id,
                "task": task,
                "raw_output": raw,
                "parsed": parsed,
                "parse_method": how,
                "gold": rec.answer,
                "correct": correct,
            }
        )
    path = (
        root / "cells" / EXP / backbone / task / method / (f"{task}.jsonl" if selected else f"{task}.unselected.jsonl")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    n_correct = sum(r["correct"] for r in rows)
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "experiment": EXP,
                "backbone": backbone,
                "train_set": task,
                "method": method,
                "task": task,
                "weights": "base" if method == "zero_shot" else "best_val" if selected else "last",
                "seed": None if method == "zero_shot" else 42,
                "selected": selected,
                "n": len(rows),
                # as `livr evaluate` writes them: the evaluated model, and how (the test-time variants)
                "checkpoint_method": {"zero_shot": None}.get(method, "livr" if method.startswith("livr") else method),
                "settings": {
                    "eval_latents": method != "livr_eval_no_latents",
                    "eval_mask": "bottleneck" if method == "livr_eval_stage1_mask" else "standard",
                },
                "n_correct": n_correct,
                "n_unparsed": sum(r["parsed"] is None for r in rows),
                "accuracy": 100.0 * n_correct / len(rows),
                "checkpoint": None,
            }
        )
    )
    return path


def write_metrics(runs: Path, backbone: str, task: str, method: str) -> Path:
    path = Path(Layout(runs=str(runs)).train_metrics(EXP, backbone, task, method, 42))
    path.parent.mkdir(parents=True, exist_ok=True)
    stages = [("stage1", "default"), ("stage2", "standard")] if method == "livr" else [("sft", "standard")]
    lines = []
    for s, (stage, mask) in enumerate(stages):
        for step in range(1, 5):
            lines.append({"stage": stage, "mask": mask, "step": step, "epoch": step / 2, "loss": 3.0 / (step + s)})
            lines.append(
                {
                    "stage": stage,
                    "mask": mask,
                    "step": step,
                    "epoch": step / 2,
                    "eval_accuracy": 10.0 * step + 20 * s + (5 if method == "livr" else 0),
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def make_livr_checkpoint(backbone: str, finetune: str, models_dir: Path, out: Path, seed: int, **meta) -> None:
    """A LIVR checkpoint with K latents whose every trainable tensor moved (a stand-in for training);
    `meta` adds to its checkpoint metadata."""
    model, processor = load_backbone(backbone, models_dir, {}, torch.float32, "sdpa", "cpu")
    ids = add_latent_tokens(model, processor, K, seed=seed)
    cfg = SimpleNamespace(
        finetune=finetune, lora_r=4, lora_alpha=8, lora_dropout=0.0, lora_targets=["q_proj", "k_proj", "v_proj"]
    )
    model = apply_finetune_mode(model, cfg, ids)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # stand-in for training: move every trainable tensor
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    meta = {
        "backbone": backbone,
        "method": "livr",
        "train": "livr",
        "finetune": finetune,
        "latents": latent_token_strings(K),
        "latent_ids": ids,
        "latent_position": "after_prompt",
        "mask": "default",
        "stages": [],
        **meta,
    }
    save_checkpoint(model, processor, meta, out)


def write_analysis(root: Path, backbone: str, task: str, records) -> Path:
    """A `livr analyze` file for the LIVR model of one cell: attention shares and t-SNE points."""
    rng = np.random.default_rng(0)
    points = [
        {"task": task, "id": rec.id, "kind": kind, "position": p, "x": float(x), "y": float(y)}
        for rec in records[:2]
        for kind in ("latent", "image", "text")
        for p, (x, y) in enumerate(rng.normal(size=(4, 2)))
    ]
    path = root / "analysis" / EXP / backbone / task / "livr.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "experiment": EXP,
                "backbone": backbone,
                "train_set": task,
                "method": "livr",
                "seed": 42,
                "weights": "best_val",
                "attention": [
                    {
                        "task": task,
                        "n": len(records),
                        "answer_to_latent": 0.05,
                        "answer_to_image": 0.3,
                        "predictor_to_latent": 0.07,
                        "predictor_to_image": 0.25,
                    }
                ],
                "tsne": {"points": points},
            }
        )
    )
    return path


def render(
    root: Path,
    models: Path,
    backbones: dict[str, str],
    tasks,
    mechanism: tuple[str, ...],
    attention_examples: int,
    both_weights: bool = False,
) -> dict:
    """Build the tasks, LIVR checkpoints and cells of an experiment, collect them and render its
    report. Test-time variants (`mechanism`) and training curves for the first backbone only;
    `both_weights`: SFT and LIVR also at their last-step checkpoint, and an analysis of one LIVR model."""
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["paths"] = {
        "data": str(root / "data"),
        "models": str(models),
        "runs": str(root / "runs"),
        "results": str(root / "results"),
    }
    params["experiments"][EXP] = {
        "suite": "synthetic",
        "backbones": list(backbones),
        "tasks": list(tasks),
        "methods": ["zero_shot", "sft", "livr"],
        "training": {"finetune": "full", "dtype": "float32", "num_latents": K},
    }
    params["experiment"] = EXP
    params_path = root / "params.yaml"
    params_path.write_text(yaml.safe_dump(params))
    params = livr_config.load_params(params_path)
    records = {}
    for task in tasks:
        d = Path(livr_config.task_dir(params, EXP, task))
        build_synthetic_task(task, d, n_train=1, n_val=1, n_test=N_TEST, seed=3)
        records[task] = read_split(d, "test")
    cells, metrics, analyses = [], [], []
    for b, (backbone, finetune) in enumerate(backbones.items()):
        for t, task in enumerate(tasks):
            make_livr_checkpoint(
                backbone,
                finetune,
                models,
                Path(Layout(runs=str(root / "runs")).checkpoint_dir(EXP, backbone, task, "livr", 42)),
                seed=10 * b + t,
            )
            for method in ("zero_shot", "sft", "livr") + (mechanism if b == 0 else ()):
                cells.append(write_cell(root / "results", backbone, task, method, records[task]))
            if b == 0:
                metrics += [write_metrics(root / "runs", backbone, task, m) for m in ("sft", "livr")]
            if both_weights:
                cells += [
                    write_cell(root / "results", backbone, task, m, records[task], selected=False)
                    for m in ("sft", "livr")
                ]
        if both_weights:
            analyses.append(write_analysis(root / "results", backbone, tasks[0], records[tasks[0]]))
    db = root / "results" / "livr.duckdb"
    build_database(db, cells, train_metrics=metrics, analyses=analyses)
    out = root / "results" / "report.html"
    assert (
        cli(
            [
                "report",
                "--params",
                str(params_path),
                "--db",
                str(db),
                "--out",
                str(out),
                "--max-examples",
                "100",
                "--attention-examples",
                str(attention_examples),
                "--threads",
                "1",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    return {"root": root, "params": params, "records": records, "html": out.read_text(), "path": out, "models": models}


@pytest.fixture(scope="module")
def setup(tiny_models_dir, tmp_path_factory):
    return render(tmp_path_factory.mktemp("report"), tiny_models_dir, BACKBONES, TASKS, MECHANISM, attention_examples=3)


@pytest.fixture(scope="module")
def demo(tiny_models_dir, tmp_path_factory):
    """The demo experiment's shape (its backbone, the nine tasks, its methods), one attention map per
    LIVR cell, and every optional section: both checkpoints of each trained cell and an analysis."""
    return render(
        tmp_path_factory.mktemp("demo_report"),
        tiny_models_dir,
        {DEMO_BACKBONE: "lora"},
        ALL_TASKS,
        MECHANISM,
        attention_examples=1,
        both_weights=True,
    )


def images_of(page: str, cls: str | None = None) -> list[tuple[dict, np.ndarray]]:
    out = []
    for tag in re.findall(r"<img [^>]*>", page):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if cls and attrs.get("class") != cls:
            continue
        src = attrs["src"]
        assert src.startswith("data:image/png;base64,"), "every image is an embedded PNG"
        data = base64.b64decode(src.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
        with Image.open(io.BytesIO(data)) as im:
            out.append((attrs, np.asarray(im.convert("RGB"), dtype=np.float32)))
    return out


def section(page: str, name: str) -> str:
    m = re.search(rf'<section id="{name}">(.*?)</section>', page, flags=re.S)
    assert m, name
    return m.group(1)


def test_every_image_is_a_nonconstant_png(setup):
    page = setup["html"]
    images = images_of(page)
    assert len(images) == page.count("<img ")
    for attrs, arr in images:
        assert arr.std() > 1.0, f"constant image: {attrs.get('alt')}"
    kinds = {a["class"] for a, _ in images}
    assert kinds == {"chart", "mech", "curve", "attn", "thumb"}
    assert "warning" not in page


def test_tables_and_charts(setup):
    page = setup["html"]
    tables = section(page, "tables")
    assert 'id="table1"' in tables and "Delta vs SFT" in tables
    # the backbone heads its rows (with the paper backbone it is compared with), not a column
    for backbone, paper in (("tiny-qwen2.5-vl", "qwen2.5-vl-3b"), ("tiny-llava-ov-1.5", "llava-ov-1.5-4b")):
        assert f'<b>{backbone}</b> <span class="note">· paper: {paper}</span>' in tables
    # every task column has one accuracy per row: zero-shot, SFT, LIVR, and LIVR - SFT with its interval
    rows = re.findall(r'<tr class="(\w+)"><th>[^<]*</th>(.*?)</tr>', tables.split("</table>")[0], flags=re.S)
    assert [m for m, _ in rows] == ["zero_shot", "sft", "livr", "delta_vs_sft"] * len(BACKBONES)
    assert all(cells.count("<td") == len(TASKS) + 1 for _, cells in rows)
    assert all(cells.count('class="ci"') == len(TASKS) for m, cells in rows if m == "delta_vs_sft")
    # no multi-task cells: Table 2 and every other table the experiment does not produce are left out
    assert 'id="table2"' not in page and "(no rows)" not in page and 'id="selection"' not in page
    charts = [a["data-key"] for a, _ in images_of(page, "chart")]
    assert sorted(charts) == sorted(f"{b}/" for b in BACKBONES)  # single-task cells: one chart per backbone
    curves = [a["data-key"] for a, _ in images_of(page, "curve")]
    assert sorted(curves) == sorted(f"tiny-qwen2.5-vl/{t}" for t in TASKS)


def test_vs_paper_table_has_ours_with_interval_and_the_papers_delta(setup):
    import pandas as pd

    vs = section(setup["html"], "vs_paper")
    con = duckdb.connect(str(setup["root"] / "results" / "livr.duckdb"), read_only=True)
    paper = con.execute("SELECT backbone, task, method, accuracy FROM paper WHERE table_name = 'table1'").fetchdf()
    con.close()
    livr_right, sft_right = sum(map(livr_correct, range(N_TEST))), sum(map(sft_correct, range(N_TEST)))
    groups = vs.split('<tr class="group">')[1:]
    assert [re.search(r"<b>([^<]+)</b>", g).group(1) for g in groups] == sorted(BACKBONES)
    for group, task in ((g, t) for g in groups for t in TASKS):
        paper_backbone = REGISTRY[re.search(r"<b>([^<]+)</b>", group).group(1)].paper_backbone
        row = re.search(rf'<tr data-task="{task}">(.*?)</tr>', group, flags=re.S).group(1)
        cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
        assert float(cells[1]) == pytest.approx(100 * sft_right / N_TEST, abs=0.005)
        assert float(cells[2]) == pytest.approx(100 * livr_right / N_TEST, abs=0.005)
        delta = re.escape(f"{100 * (livr_right - sft_right) / N_TEST:+.2f}")
        assert re.match(rf'<span[^>]*>{delta}</span><br><span class="ci">\[', cells[3])
        p = paper[(paper["backbone"] == paper_backbone) & (paper["task"] == task)].set_index("method")["accuracy"]
        want = p.get("livr") - p.get("sft") if {"livr", "sft"} <= set(p.index) else None
        assert cells[6] == ("n/a" if want is None or pd.isna(want) else f"{want:+.2f}")


def test_mechanism_section_charts_each_task_beside_chance(setup):
    from livr.data.registry import TASK_SPECS

    mech = section(setup["html"], "mechanism")
    assert "above chance" in mech and "carry task-relevant visual information" in mech
    backbone = next(iter(BACKBONES))  # only it has the variants
    charts = [a["data-key"] for a, _ in images_of(mech, "mech")]
    assert charts == [f"{backbone}/{t}/livr/{t}" for t in ALL_TASKS if t in TASKS]
    header = re.findall(r"<tr><th>task</th><th>chance</th>(.*?)</tr>", mech)[0]
    assert re.findall(r"<th>([^<]*)</th>", header) == [
        "as trained (latents, standard mask)",
        "under the Stage-1 mask",
        "without latents",
        "Direct SFT (reference)",
    ]
    livr_right = sum(map(livr_correct, range(N_TEST)))
    for task in TASKS:
        row = re.search(rf'<tr data-task="{task}"><th>[^<]*</th><td>([^<]*)</td>(.*?)</tr>', mech, flags=re.S)
        assert float(row.group(1)) == pytest.approx(TASK_SPECS[task].chance, abs=0.005)
        cells = re.findall(r'data-method="(\w+)" data-accuracy="([^"]*)" data-minus="([^"]*)"', row.group(2))
        assert [c[0] for c in cells] == ["livr", "livr_eval_stage1_mask", "livr_eval_no_latents", "sft"]
        by = {m: (float(a), d) for m, a, d in cells}
        assert by["livr"] == (pytest.approx(100 * livr_right / N_TEST, abs=0.005), "")  # the model itself
        # write_cell: only example 0 right under the Stage-1 mask, LIVR i % 3 != 0
        assert by["livr_eval_stage1_mask"][0] == pytest.approx(100 / N_TEST, abs=0.005)
        assert float(by["livr_eval_stage1_mask"][1]) == pytest.approx(100 * (1 - livr_right) / N_TEST, abs=0.005)


def test_attention_maps_cover_every_livr_cell_and_differ(setup):
    maps = images_of(setup["html"], "attn")
    assert len(maps) == len(BACKBONES) * len(TASKS) * 3
    for backbone in BACKBONES:
        for task in TASKS:
            arrs = [arr for a, arr in maps if a["data-backbone"] == backbone and a["data-task"] == task]
            ids = [a["data-id"] for a, _ in maps if a["data-backbone"] == backbone and a["data-task"] == task]
            assert ids == [r.id for r in setup["records"][task][:3]]
            for i in range(len(arrs)):
                for j in range(i + 1, len(arrs)):
                    assert arrs[i].shape != arrs[j].shape or np.abs(arrs[i] - arrs[j]).max() > 10


@pytest.mark.parametrize("backbone", list(BACKBONES))
def test_attention_grids_differ_across_examples(setup, backbone):
    params, task = setup["params"], "visual_correspondence"
    ckpt = Path(Layout.of(params).checkpoint_dir(EXP, backbone, task, "livr", 42))
    model, processor, meta = load_trained(backbone, ckpt, setup["models"], {}, torch.float32, "eager", "cpu")
    d = Path(livr_config.task_dir(params, EXP, task))
    results = []
    for rec in setup["records"][task][:3]:
        images = load_images(rec, d)
        att = latent_image_attention(model, processor, get_backbone(backbone), meta, rec, images)
        assert [g.shape for g in att.grids] == [(8, 8), (8, 8)]  # 112 px: 8x8 merged tokens / base patches
        assert 0 < att.image_share < 1 and att.n_latents == K
        assert all(g.std() > 0 for g in att.grids)
        fig = np.asarray(example_figure(images, att.grids), dtype=np.float32)
        assert fig.std() > 1.0
        results.append(np.concatenate([g.ravel() for g in att.grids]))
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.allclose(results[i], results[j], rtol=1e-3, atol=0), "maps must depend on the example"
    # One layer alone is a different reduction from the mean over all layers.
    one = latent_image_attention(
        model,
        processor,
        get_backbone(backbone),
        meta,
        setup["records"][task][0],
        load_images(setup["records"][task][0], d),
        layers=[-1],
    )
    assert one.layers == [len(att.per_layer_share) - 1]
    assert not np.allclose(np.concatenate([g.ravel() for g in one.grids]), results[0])


def test_failures_list_the_disagreeing_and_wrong_ids(setup):
    fails = section(setup["html"], "failures")
    listed = re.findall(r'<tr class="fail-row (\w+)" data-id="([^"]+)"', fails)
    for task in TASKS:
        ids = [r.id for r in setup["records"][task]]
        want = expected_listed(ids)
        assert want and len(want) < len(ids)
    got = [i for _, i in listed]
    want_all = [i for _ in BACKBONES for task in TASKS for i in expected_listed([r.id for r in setup["records"][task]])]
    assert sorted(got) == sorted(want_all)
    cats = {i: c for c, i in listed}
    ids = [r.id for r in setup["records"]["counting"]]
    assert cats[ids[0]] == "livr_wrong_sft_right" and cats[ids[1]] == "livr_right_sft_wrong"
    assert cats[ids[3]] == "both_wrong" and cats[ids[5]] == "livr_right_sft_wrong"
    assert ids[2] not in cats and ids[4] not in cats  # both right: not a failure
    # Regressions first within a cell; the question, gold and both raw outputs are shown.
    first = re.search(r'<tr class="fail-row (\w+)" data-id="([^"]+)"(.*?)</tr>', fails, flags=re.S)
    assert first.group(1) == "livr_wrong_sft_right"
    assert "<pre" in first.group(3) and 'class="thumb"' in first.group(3)
    assert "(unparsable)" in fails and ">nan<" not in fails  # i=3: "I am not sure." has no answer


# Measures the laid-out page once loaded, every <details> opened: the page and every box that can
# overflow (a table, a cell, a figure, an image, preformatted text) must end inside the viewport,
# and none may hold content wider than itself.
OVERFLOW_PROBE = """<script>
window.addEventListener("load", () => {
  for (const d of document.querySelectorAll("details")) d.open = true;
  const root = document.documentElement, width = root.clientWidth, bad = [];
  if (root.scrollWidth > width) bad.push(`page: ${root.scrollWidth} px wide`);
  for (const el of document.querySelectorAll("table, th, td, img, figure, pre, div.grid, section, summary")) {
    const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`;
    const where = `${name} in #${el.closest("section")?.id}`
      + ` (${(el.getAttribute("alt") || el.textContent || "").trim().slice(0, 40)})`;
    const right = el.getBoundingClientRect().right;
    if (right > width + 0.5) bad.push(`${where}: right edge at ${Math.round(right)} px`);
    if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== "IMG")
      bad.push(`${where}: content ${el.scrollWidth} px in ${el.clientWidth} px`);
  }
  const out = document.createElement("pre");
  out.id = "overflow"; out.textContent = JSON.stringify({width, bad});
  document.body.appendChild(out);
});
</script>"""
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="chromium is not installed (Debian: apt-get install chromium); CI installs it and runs this test",
)


def overflows(page: Path, tmp: Path, width: int) -> list[str]:
    """What overflows `page` horizontally in headless Chromium with a `width` px wide window."""
    probe = tmp / f"probe_{page.name}"
    probe.write_text(page.read_text().replace("</body>", OVERFLOW_PROBE + "</body>"))
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--window-size={width},1000",
            "--hide-scrollbars",
            "--virtual-time-budget=20000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    found = re.search(r'<pre id="overflow">(.*?)</pre>', proc.stdout, flags=re.S)
    assert found, f"chromium did not lay the page out (exit {proc.returncode}): {proc.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))
    assert result["width"] == width
    return result["bad"]


@needs_chromium
@pytest.mark.parametrize("page", ["demo", "setup"])
def test_nothing_overflows_at_1280_px(page, request, tmp_path):
    assert CHROMIUM, "CI=true: chromium must be installed (.ci/run installs it)"
    report = request.getfixturevalue(page)
    for name in ("tables", "vs_paper", "mechanism", "curves", "attention", "failures") + (
        ("analysis", "selection") if page == "demo" else ()
    ):
        section(report["html"], name)  # every section is there to be measured
    assert overflows(report["path"], tmp_path, 1280) == []
    # the probe finds overflow where there is some
    assert any(b.startswith("page:") for b in overflows(report["path"], tmp_path, 640))


def test_demo_page_has_the_sections_the_experiment_produces(demo, setup):
    def nav(page):
        return re.findall(r'href="#(\w+)"', re.search(r"<nav>(.*?)</nav>", page, flags=re.S).group(1))

    assert nav(demo["html"]) == [
        "tables",
        "vs_paper",
        "mechanism",
        "analysis",
        "selection",
        "curves",
        "attention",
        "failures",
    ]
    assert nav(setup["html"]) == ["tables", "vs_paper", "mechanism", "curves", "attention", "failures"]  # no analysis
    page = demo["html"]
    assert "(no rows)" not in page and 'id="table2"' not in page and 'id="table3"' not in page
    # the test-time variants are ablation methods: one row each, a column per task
    ablations = re.search(r'<h3 id="ablations">.*?</table>', page, flags=re.S).group(0)
    assert ablations.count("<tr>") == 5 and all(t.replace("_", " ") in ablations for t in ALL_TASKS)
    # checkpoint selection: the cells evaluated at both weights (SFT and LIVR of every task)
    assert section(page, "selection").count("<tr>") == 2 * len(ALL_TASKS)
    assert len(images_of(section(page, "mechanism"), "mech")) == len(ALL_TASKS)
    assert len(images_of(section(page, "attention"), "attn")) == len(ALL_TASKS)
