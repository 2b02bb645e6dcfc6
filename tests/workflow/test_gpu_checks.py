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
