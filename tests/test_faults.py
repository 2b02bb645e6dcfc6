"""Faults: killed jobs resume to the same result, torn files are never used, no half-written output.

The kill tests send a real SIGKILL to a `livr` subprocess at planted points (tests/_kill_hook.py),
so nothing of the killed process runs afterwards, then rerun the very same command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import torch
import yaml
from safetensors.torch import load_file

from livr import config as livr_config
from livr.checkpoints import COMPLETE, TRAINABLE, checkpoint_problem, last_checkpoint, mark_checkpoint_complete
from livr.cli import main as cli
from livr.data.synthetic import build_synthetic_task
from livr.io import _HOST, atomic_dir, atomic_path, remove_stale_temps
from livr.settings import EvalConfig, TrainConfig, replace
from livr.train import discard_stale_run

REPO = Path(__file__).resolve().parent.parent
KILL_HOOK = Path(__file__).resolve().parent / "_kill_hook.py"
BACKBONE, TASK, EXP = "tiny-qwen2.5-vl", "relative_reflectance", "faults"
TIMING_KEYS = ("runtime", "per_second", "seconds")


def faults_params(root: Path, models_dir: Path) -> Path:
    """A params file whose experiment `faults` trains 4 + 4 steps with a checkpoint every 2 steps."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["paths"] = {
        "data": str(root / "data"),
        "models": str(models_dir),
        "runs": str(root / "runs"),
        "results": str(root / "results"),
    }
    training = {
        **params["experiments"]["ci"]["training"],
        "batch_size": 8,
        "sft_epochs": 4,
        "livr_stage_epochs": [2, 2],
        "evals_per_epoch": 1,
        "num_latents": 4,
        "threads": 1,
    }
    params["experiments"][EXP] = {
        "suite": "synthetic",
        "backbones": [BACKBONE],
        "tasks": [TASK],
        "methods": ["zero_shot", "sft", "livr"],
        "training": training,
    }
    params["experiment"] = EXP
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    data = Path(livr_config.task_dir(livr_config.load_params(path), EXP, TASK))
    build_synthetic_task(TASK, data, n_train=16, n_val=8, n_test=8, seed=0)
    return path


def livr_run(args: list[str], kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIVR_PROGRESS": "0"}
    if kill_at:
        env["LIVR_TEST_KILL_AT"] = kill_at
        cmd = [sys.executable, str(KILL_HOOK), *args]
    else:
        cmd = [sys.executable, "-m", "livr", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def metrics_without_timings(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not any(t in k for t in TIMING_KEYS)} for r in rows]


def temps_under(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*") if ".tmp" in p.name]


@pytest.mark.slow
def test_killed_livr_training_resumes_to_the_uninterrupted_result(tmp_path, tiny_models_dir, monkeypatch):
    """Killed after a checkpoint, mid-checkpoint (torn), mid-step in stage 2 and while writing
    final/: each rerun of the same command resumes, and the final weights and every logged metric
    equal those of an uninterrupted run bit for bit (CPU, one thread, same seed)."""
    params = faults_params(tmp_path, tiny_models_dir)

    def args(out):
        return [
            "train",
            "--params",
            str(params),
            "--backbone",
            BACKBONE,
            "--train-set",
            TASK,
            "--method",
            "livr",
            "--out",
            str(out),
            "--threads",
            "1",
        ]

    ref, run = tmp_path / "ref", tmp_path / "run"
    done = livr_run(args(ref))
    assert done.returncode == 0, done.stderr[-3000:]
    # Logs: per-stage start/end with steps and val accuracy, a one-line summary, no progress bars.
    for stage in ("stage1", "stage2"):
        assert f"{stage}: start" in done.stderr and f"{stage}: done, 4 steps" in done.stderr
    assert "val accuracy" in done.stderr and "trained tiny-qwen2.5-vl/relative_reflectance/livr" in done.stdout
    assert "it/s]" not in done.stderr and "\r" not in done.stderr and "{'loss'" not in done.stdout + done.stderr

    # 1. Killed right after stage 1's checkpoint-2 was written.
    assert livr_run(args(run), "stage1:after_save:2").returncode == -9
    assert checkpoint_problem(run / "stage1/checkpoints/checkpoint-2") is None
    # 2. Resumed, then killed while writing checkpoint-4: torn, and checkpoint-2 is still there.
    assert livr_run(args(run), "stage1:torn_save:4").returncode == -9
    torn = run / "stage1/checkpoints/checkpoint-4"
    assert (torn / TRAINABLE).is_file() and not (torn / COMPLETE).exists()
    assert checkpoint_problem(run / "stage1/checkpoints/checkpoint-2") is None
    # 3. Resumed from checkpoint-2 (the torn one is removed), then killed inside stage 2's step 3.
    third = livr_run(args(run), "stage2:mid_step:3")
    assert third.returncode == -9
    assert "torn checkpoint" in third.stderr and "resuming from" in third.stderr
    assert (run / "stage1/done.json").is_file() and not (run / "stage2/done.json").exists()
    # 4. Resumed stage 2 from its checkpoint-2, then killed while final/ was being written.
    fourth = livr_run(args(run), "final:mid_save:0")
    assert fourth.returncode == -9
    assert "stage1: already done" in fourth.stderr and "stage2/checkpoints/checkpoint-2" in fourth.stderr
    assert not (run / "final").exists() and temps_under(run), "a killed final save leaves only a hidden temp"
    # 5. The same command once more finishes; the stale temp of the killed writer is gone.
    last = livr_run(args(run))
    assert last.returncode == 0, last.stderr[-3000:]
    assert temps_under(run) == []

    a, b = load_file(ref / "final/model.safetensors"), load_file(run / "final/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "final weights differ"
    assert metrics_without_timings(ref) == metrics_without_timings(run)
    for stage in ("stage1", "stage2"):
        assert json.loads((ref / stage / "best.json").read_text()) == json.loads(
            (run / stage / "best.json").read_text()
        )

    # Resume loads optimizer and scheduler state only through weights-only torch.load (the RNG state
    # too, in transformers' _load_rng_state; not reached here: no step is left to run).
    calls, real_load = [], torch.load

    def recording_load(f, *a, **k):
        calls.append((Path(str(f)).name, k.get("weights_only")))
        return real_load(f, *a, **k)

    monkeypatch.setattr(torch, "load", recording_load)
    for p in (run / "stage2/done.json", run / "metrics.jsonl"):
        p.unlink()
    assert cli(args(run)) == 0  # resumes stage 2 from its complete checkpoint-4
    loaded = {name for name, _ in calls}
    assert {"optimizer.pt", "scheduler.pt"} <= loaded and all(w is True for _, w in calls), calls
    c = load_file(run / "final/model.safetensors")
    assert all(torch.equal(a[k], c[k]) for k in a)


def _fake_checkpoint(d: Path, step: int, complete: bool = True) -> Path:
    ckpt = d / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / TRAINABLE).write_bytes(b"w" * 64)
    (ckpt / "optimizer.pt").write_bytes(b"o" * 64)
    (ckpt / "trainer_state.json").write_text("{}")
    if complete:
        mark_checkpoint_complete(ckpt, step)
    return ckpt


def test_torn_checkpoints_are_never_resumed_from(tmp_path):
    d = tmp_path / "checkpoints"
    assert last_checkpoint(d) is None
    good = _fake_checkpoint(d, 2)
    truncated = _fake_checkpoint(d, 4)
    (truncated / "optimizer.pt").write_bytes(b"o" * 10)  # cut short after the marker was written
    corrupt = _fake_checkpoint(d, 6)
    (corrupt / COMPLETE).write_text('{"step": 6, "fil')
    unmarked = _fake_checkpoint(d, 8, complete=False)  # killed before the marker
    assert "no livr_complete.json" in checkpoint_problem(unmarked)
    assert "corrupt" in checkpoint_problem(corrupt)
    assert "optimizer.pt has 10 bytes, 64" in checkpoint_problem(truncated)
    assert last_checkpoint(d) == str(good)
    assert sorted(p.name for p in d.iterdir()) == ["checkpoint-2"], "torn checkpoints are removed"


def test_changed_settings_discard_stale_stage_state(tmp_path):
    run = tmp_path / "run"
    params = livr_config.load_params(REPO / "params.yaml")
    cfg = TrainConfig.resolve(params, "ci", BACKBONE, TASK, "livr", 42)
    for name in ("stage1", "stage2", "final"):
        (run / name).mkdir(parents=True)
    (run / "config.json").write_text(cfg.as_json())
    discard_stale_run(run, cfg)
    assert (run / "stage1").is_dir(), "same settings: resume"
    discard_stale_run(run, replace(cfg, lr=cfg.lr * 2))
    assert not any((run / n).exists() for n in ("stage1", "stage2", "final")), "changed settings: start over"


def test_atomic_writes_sweep_only_dead_writers_temps(tmp_path):
    target = tmp_path / "out.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    prefix = f".out.json.{_HOST}"
    stale = tmp_path / f"{prefix}-{pid}.abc.tmp"
    stale_wal = tmp_path / f"{prefix}-{pid}.abc.tmp.wal"
    live = tmp_path / f"{prefix}-{os.getppid()}.abc.tmp"
    other_host = tmp_path / f".out.json.elsewhere-{pid}.abc.tmp"
    for p in (stale, stale_wal, live, other_host):
        p.write_text("x")
    with atomic_path(target) as tmp:
        tmp.write_text("{}")
    assert not stale.exists() and not stale_wal.exists()
    assert live.exists() and other_host.exists(), "temps of live processes or other hosts are not ours to remove"
    assert remove_stale_temps(target) == []
    # A directory write that fails leaves the old directory and no temp.
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "old").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "d") as tmp:
        (tmp / "new").write_text("new")
        raise RuntimeError("killed")
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["old"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".d.")]


def _cell(root: Path, method: str) -> Path:
    path = root / "cells" / "e" / "tiny-a" / TASK / method / f"{TASK}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "id": f"r{i}",
            "task": TASK,
            "raw_output": "A",
            "parsed": "A",
            "parse_method": "letter",
            "gold": "AB"[i % 2],
            "correct": i % 2 == 0,
        }
        for i in range(4)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path.with_suffix(".json").write_text(
        json.dumps(
            {
                "experiment": "e",
                "backbone": "tiny-a",
                "train_set": TASK,
                "method": method,
                "task": TASK,
                "seed": 42,
                "weights": "best_val",
                "selected": True,
                "n": 4,
                "n_correct": 2,
                "n_unparsed": 0,
                "accuracy": 50.0,
            }
        )
    )
    return path


def test_collect_killed_mid_build_keeps_the_old_database(tmp_path, capsys):
    db = tmp_path / "livr.duckdb"
    assert cli(["collect", "--cells", str(_cell(tmp_path, "sft")), "--out", str(db)]) == 0
    assert "wrote" in capsys.readouterr().out
    killed = livr_run(["collect", "--cells", str(_cell(tmp_path, "livr")), "--out", str(db)], "collect:mid_build:0")
    assert killed.returncode == -9
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT method FROM runs").fetchall() == [("sft",)], "the old database is intact"
    con.close()
    assert temps_under(tmp_path), "SIGKILL leaves the temp database (nothing can remove it then)"
    assert cli(["collect", "--cells", str(_cell(tmp_path, "livr")), "--out", str(db)]) == 0
    assert temps_under(tmp_path) == [], "the next collect removes the killed one's temp"


def test_evaluate_never_pairs_new_predictions_with_an_old_sidecar(tmp_path, tiny_models_dir, monkeypatch):
    import livr.evaluate as ev

    data = tmp_path / TASK
    build_synthetic_task(TASK, data, n_train=1, n_val=1, n_test=2, seed=0)
    params = livr_config.load_params(REPO / "params.yaml")
    cfg = EvalConfig.resolve(params, "ci", BACKBONE, TASK, "zero_shot", TASK)
    cfg = replace(cfg, data_dir=str(data), dtype="float32", attn_implementation="sdpa", max_new_tokens=2)
    out = tmp_path / "cell.jsonl"
    out.write_text("old\n")
    out.with_suffix(".json").write_text('{"n": 99}')

    def killed_write(path, rows):
        raise KeyboardInterrupt  # stands in for a kill while the predictions are written

    monkeypatch.setattr(ev, "write_jsonl", killed_write)
    with pytest.raises(KeyboardInterrupt):
        ev.evaluate_cell(cfg, None, out, tiny_models_dir)
    assert not out.with_suffix(".json").exists(), "no sidecar: the cell does not look finished"


@pytest.mark.parametrize("exp", ["demo", "ablations", "demo_seeds"])  # demo_seeds: three seeds of each run
def test_no_two_snakemake_jobs_write_the_same_file(tmp_path, exp):
    from workflow_helpers import copy_repo, run, tool

    repo = copy_repo(tmp_path)
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", f"experiment={exp}"], repo)
    owner: dict[str, str] = {}
    rule, jobs = None, 0
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            rule, jobs = line.split()[1][:-1], jobs + 1
            continue
        key, _, value = line.strip().partition(": ")
        if rule and key in ("output", "log", "benchmark"):  # benchmark: Snakemake's name for the job timing
            for path in (s.strip() for s in value.split(",")):
                assert path not in owner, f"{path} written by both {owner[path]} and {rule}"
                owner[path] = f"{rule} (job {jobs})"
    assert jobs > 5 and any(p.endswith("/final") for p in owner)
    assert any(p.startswith("logs/") for p in owner) and any(p.startswith("timings/") for p in owner)
    dirs = [p for p, r in owner.items() if r.startswith("train")]
    for p in owner:
        for d in dirs:
            assert p == d or not p.startswith(d + "/"), f"{p} lies inside another job's output {d}"
