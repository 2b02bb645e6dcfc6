"""workflow/scripts/gpu_checks.py: the prepared GPU run. Its plan calls real `livr` options, and its
CPU smoke path (shrunk real configs) runs every kind of step and writes the JSON it promises."""

from __future__ import annotations

import argparse
import json
import sys

import pytest
from workflow_helpers import REPO

from livr.cli import build_parser

sys.path.insert(0, str(REPO / "workflow" / "scripts"))
import gpu_checks  # noqa: E402


def test_plan_covers_every_config_and_parses_as_livr_commands(capsys):
    args = argparse.Namespace(
        device="cuda",
        backbones=list(gpu_checks.BACKBONES),
        k=16,
        reps=10,
        verify_limit=60,
        bench_limit=90,
        shrink=False,
        out="results/bench",
        released=False,
    )
    steps = gpu_checks.plan(args)
    assert [s["name"] for s in steps] == [f"verify-{b}" for b in gpu_checks.BACKBONES] + [
        f"bench-{b}-b1" for b in gpu_checks.BACKBONES
    ] + ["bench-qwen3-vl-4b-b8"]
    for step in steps:
        parsed = build_parser(step["argv"][0]).parse_args(step["argv"])  # every option exists
        assert parsed.random_weights and parsed.device == "cuda" and parsed.dtype == "bfloat16"
        assert parsed.json.startswith("results/bench/") and parsed.json.endswith(".json")
    assert {json.loads(line)["name"] for line in _dry_run(capsys)} == {s["name"] for s in steps}
    shipped = {p.stem for p in (REPO / "livr" / "model" / "configs").glob("*.json")}
    assert set(gpu_checks.BACKBONES) == shipped, "one verify and one bench per shipped real-size config"


def test_released_checkpoints_are_livr_evaluate_steps_skipped_offline_with_a_reason(tmp_path, monkeypatch, capsys):
    """--released: one `livr evaluate` of each released checkpoint (params.yaml weights_from) on its
    experiment's first benchmark; where its weights cannot be had, the step is `unavailable` (one line
    saying why), which is not a failed check."""
    args = argparse.Namespace(device="cuda", out="results/bench", released_limit=300)
    steps = gpu_checks.released_steps(args)
    assert [s["name"] for s in steps] == [
        "released-lvr_7b_released-mmvp",
        "released-vsp_direct_sft_released-mirage_vsp_test",
    ]
    for step in steps:
        parsed = build_parser("evaluate").parse_args(step["argv"])  # every option exists
        assert parsed.backbone == "qwen2.5-vl-7b" and parsed.device == "cuda" and parsed.out.endswith(".jsonl")
    assert steps[0]["requires"]["weights"] == "vincentleebang/LVR-7B"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    out = tmp_path / "bench"
    gpu_checks.main(["--released", "--backbones", "qwen2.5-vl-7b", "--budget", "0", "--out", str(out)])
    summary = {s["name"]: s for s in json.loads((out / "gpu_checks.json").read_text())["steps"]}
    released = [summary[s["name"]] for s in steps]
    assert {s["status"] for s in released} == {"unavailable"}
    assert "vincentleebang/LVR-7B not in the Hugging Face cache and HF_HUB_OFFLINE is set" in released[0]["reason"]
    printed = capsys.readouterr().out
    assert f"unavailable {steps[0]['name']} (0 s): vincentleebang/LVR-7B not in" in printed
    assert "not ok: verify-qwen2.5-vl-7b, bench-qwen2.5-vl-7b-b1;" in printed, "unavailable is not a failure"


def _dry_run(capsys):
    assert gpu_checks.main(["--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "budget of 420 s" in lines[-1]
    return lines[:-1]


@pytest.mark.slow
def test_cpu_smoke_path_writes_every_json(tmp_path):
    out = tmp_path / "bench"
    assert (
        gpu_checks.main(["--device", "cpu", "--shrink", "--backbones", "qwen3-vl-4b", "--reps", "1", "--out", str(out)])
        == 0
    )
    summary = json.loads((out / "gpu_checks.json").read_text())
    assert [s["status"] for s in summary["steps"]] == ["ok", "ok", "ok"]
    verify = json.loads((out / "verify-qwen3-vl-4b.json").read_text())
    assert verify["passed"] and verify["shrunk"] and verify["with_latents"]["answer_predictor"]["max_logit_change"] > 0
    for name, batch in (("qwen3-vl-4b-b1", 1), ("qwen3-vl-4b-b8", 8)):
        bench = json.loads((out / f"{name}.json").read_text())
        assert bench["batch_size"] == batch and bench["k"] == 16 and bench["shrunk"]
    # a step that cannot fit in what is left of the budget is skipped, not started
    assert (
        gpu_checks.main(
            [
                "--device",
                "cpu",
                "--shrink",
                "--backbones",
                "qwen3-vl-4b",
                "--budget",
                "10",
                "--out",
                str(tmp_path / "none"),
            ]
        )
        == 1
    )
    skipped = json.loads((tmp_path / "none" / "gpu_checks.json").read_text())
    assert {s["status"] for s in skipped["steps"]} == {"skipped"}
