"""`livr doctor`: the preflight table, its exit status and stamp, offline behaviour, and the
Snakemake rule that makes the GPU jobs of real backbones wait for it."""

from __future__ import annotations

import importlib
import json
import re
import socket
import sys
import time
from pathlib import Path

import pytest
import yaml
from workflow_helpers import REPO, copy_repo, run, stub_livr, tool

from livr.cli import main
from livr.data.download import MANIFEST, write_manifest
from livr.data.sources import SOURCES
from livr.ops import doctor

PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
TABLE2_SOURCES = ["pixmo_count", "coco2017", "blink", "hpatches", "spair71k", "funkpoint", "mid"]


def params_at(tmp_path, **backbones) -> Path:
    p = dict(PARAMS)
    p["paths"] = {k: str(tmp_path / v) for k, v in PARAMS["paths"].items()}
    p["backbones"] = {**PARAMS["backbones"], **backbones}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p, sort_keys=False))
    return path


def fake_hf_cache(cache: Path, repo_id: str, shards: int = 2) -> Path:
    """The hub cache layout of a sharded model: refs/main -> snapshots/<sha>/{config.json, index, shards}."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    (snap / "config.json").write_text("{}")
    names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
    index = {"weight_map": {f"w{i}": n for i, n in enumerate(names)}}
    (snap / "model.safetensors.index.json").write_text(json.dumps(index))
    for n in names:
        (snap / n).write_bytes(b"x")
    return snap


@pytest.fixture
def offline(monkeypatch):
    """No host answers (as on this machine); the HF cache is empty."""
    calls = []
    monkeypatch.setattr(doctor, "probe", lambda url, timeout=5.0: calls.append(url) or "name resolution failed")
    monkeypatch.setattr(doctor, "visible_gpus", lambda: [])
    return calls


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    cache = tmp_path / "hf"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return cache


def rows_by(rows):
    return {(r.area, r.item): r for r in rows}


def test_offline_table1_fails_with_a_fix_for_every_missing_row(tmp_path, offline, hf_cache, capsys):
    p = params_at(tmp_path)
    assert main(["doctor", "--params", str(p), "--experiment", "table1", "--stamp", str(tmp_path / "ok.json")]) == 1
    out = capsys.readouterr().out
    assert not (tmp_path / "ok.json").exists()
    rows = doctor.run_checks(yaml.safe_load(p.read_text()), "table1", params_file=str(p))
    by = rows_by(rows)
    missing = [r for r in rows if r.status == doctor.MISSING]
    assert all(r.fix for r in missing)
    assert by[("hub", "https://huggingface.co")].status == doctor.MISSING
    assert "HF_HUB_OFFLINE unset" in by[("hub", "https://huggingface.co")].detail
    for b, repo in (("qwen2.5-vl-3b", "Qwen/Qwen2.5-VL-3B-Instruct"), ("qwen3-vl-4b", "Qwen/Qwen3-VL-4B-Instruct")):
        assert by[("weights", b)].status == doctor.MISSING and by[("weights", b)].fix.startswith(f"hf download {repo}")
    assert not any(area == "remote code" for area, _ in by)  # every backbone runs on transformers' own classes
    raw = tmp_path / "data" / "raw"
    assert by[("manual step", "funkpoint")].fix == f"livr data import funkpoint --from PATH --raw-dir {raw}"
    assert by[("manual step", "mid")].fix == f"livr data import mid --from PATH --raw-dir {raw}"
    assert "agi-labs.github.io/FuncCorr" in by[("manual step", "funkpoint")].detail
    assert "sharepoint.com" in by[("manual step", "mid")].detail
    for s in ("coco2017", "hpatches", "nights", "pixmo_count", "blink"):
        assert by[("source", s)].status == doctor.MISSING
        assert by[("source", s)].fix.startswith(f"livr data download --source {s} --raw-dir {raw} --params {p}")
    assert "huggingface.co (name resolution failed), icvl.ee.ic.ac.uk" in by[("source", "hpatches")].detail
    assert by[("gpu", "devices")].status == doctor.MISSING
    # datasets wait for their sources (the sources are what block)
    assert by[("dataset", "counting")].status == doctor.PENDING and "pixmo_count" in by[("dataset", "counting")].detail
    # the table: one line per check, fixes under them, a summary
    assert f"{len(missing)} missing" in out
    for r in missing:
        assert "fix: " + r.fix in out


@pytest.mark.parametrize(
    "exp, datasets, sources",
    [
        ("table3", ["sat32k", "sat_val", "blink3", "robospatial_home"], ["vigorl", "blink", "robospatial_home"]),
        ("table4", ["viscot", "mmvp", "vstar", "blink5"], ["visual_cot", "mmvp", "vstar", "blink"]),
        ("mirage_vsp", ["mirage_vsp", "mirage_vsp_test"], ["mirage"]),
    ],
)
def test_comparison_experiments_check_their_training_sets_benchmarks_and_sources(
    exp, datasets, sources, tmp_path, offline, hf_cache
):
    p = params_at(tmp_path)
    by = rows_by(doctor.run_checks(yaml.safe_load(p.read_text()), exp, params_file=str(p)))
    assert sorted(item for area, item in by if area == "dataset") == sorted(datasets)
    assert sorted(item for area, item in by if area == "source") == sorted(sources)
    assert all(by[("source", s)].status == doctor.MISSING for s in sources)  # offline: nothing reachable
    assert all(by[("dataset", d)].status == doctor.PENDING for d in datasets)


def test_hf_hub_offline_is_named_and_the_hub_not_probed(tmp_path, offline, hf_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    p = params_at(tmp_path)
    rows = rows_by(doctor.run_checks(yaml.safe_load(p.read_text()), "table2", params_file=str(p)))
    assert "HF_HUB_OFFLINE=1" in rows[("hub", "https://huggingface.co")].detail
    assert "HF_HUB_OFFLINE=1" in rows[("weights", "qwen3-vl-4b")].detail
    assert not any("huggingface.co/api" in u for u in offline)


def _all_in_place(tmp_path, params_file):
    params = yaml.safe_load(params_file.read_text())
    raw = Path(params["paths"]["data"]) / "raw"
    for s in TABLE2_SOURCES:
        write_manifest(raw / s, {"source": s})
    write_manifest(raw / "mid" / "albedo", {"source": "mid"})
    for t in params["mixtures"]["multitask6"]:
        d = Path(params["paths"]["data"]) / "built" / "paper" / t
        d.mkdir(parents=True)
        (d / MANIFEST).write_text("{}")
    return params


def test_everything_in_place_passes_and_writes_a_stable_stamp(tmp_path, hf_cache, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "probe", lambda url, timeout=5.0: None)
    monkeypatch.setattr(doctor, "visible_gpus", lambda: [80.0])
    fake_hf_cache(hf_cache, "Qwen/Qwen3-VL-4B-Instruct")
    p = params_at(tmp_path)
    _all_in_place(tmp_path, p)
    stamp = tmp_path / "results" / "table2" / "doctor.json"
    assert main(["doctor", "--params", str(p), "--experiment", "table2", "--stamp", str(stamp)]) == 0
    out = capsys.readouterr().out
    assert "0 missing, 0 pending" in out
    first = stamp.read_bytes()
    assert json.loads(first)["experiment"] == "table2"
    assert main(["doctor", "--params", str(p), "--experiment", "table2", "--stamp", str(stamp)]) == 0
    assert stamp.read_bytes() == first  # no times or sizes: a rerun does not change it
    # a weight shard goes missing from the cache: not ready any more, and the stamp is removed
    next(hf_cache.rglob("model-00002-of-00002.safetensors")).unlink()
    assert main(["doctor", "--params", str(p), "--experiment", "table2", "--stamp", str(stamp)]) == 0
    assert "pending  weights" in capsys.readouterr().out  # hub reachable: downloaded on first use
    monkeypatch.setattr(doctor, "probe", lambda url, timeout=5.0: "connection refused")
    assert main(["doctor", "--params", str(p), "--experiment", "table2", "--stamp", str(stamp)]) == 1
    assert not stamp.exists()


def test_gpu_smaller_than_the_estimate_is_missing_with_the_knob_to_turn(tmp_path, hf_cache, monkeypatch):
    from livr.ops.job_memory import gpu_memory_gib
    from livr.settings import resolve_training

    monkeypatch.setattr(doctor, "probe", lambda url, timeout=5.0: None)
    monkeypatch.setattr(doctor, "visible_gpus", lambda: [12.0, 12.0])
    p = params_at(tmp_path)
    params = _all_in_place(tmp_path, p)
    rows = rows_by(doctor.run_checks(params, "table2", params_file=str(p)))
    training = resolve_training(params, "table2", "livr")
    need = gpu_memory_gib("qwen3-vl-4b", params["backbones"]["qwen3-vl-4b"]["max_pixels"], 2, training, "livr")
    row = rows[("gpu", "qwen3-vl-4b")]
    assert row.status == doctor.MISSING and f"~{need['total']:.1f} GiB" in row.detail  # multitask6: at most 2 images
    assert "(estimate; method livr, 2 images x max_pixels" in row.detail
    assert row.fix.startswith(f"experiment table2, qwen3-vl-4b, method livr: training needs ~{need['total']:.0f} GiB")
    assert "more than this machine's largest GPU (12 GiB)" in row.fix
    assert f"a lower backbones.qwen3-vl-4b.max_pixels in {p}" in row.fix
    assert rows[("gpu", "devices")].detail == "2 visible: 12 GiB, 12 GiB"
    # under a cluster executor the need is reported, not checked here
    rows = rows_by(doctor.run_checks(params, "table2", gpus="cluster", params_file=str(p)))
    assert rows[("gpu", "qwen3-vl-4b")].status == doctor.PENDING and ("gpu", "devices") not in rows


def test_full_lm_over_one_80_gb_gpu_is_named_with_what_to_do(tmp_path, monkeypatch):
    # table4 with LVR (full LM fine-tuning) at four times the pixel budget: ~85 GiB, over one 80 GB GPU
    params = yaml.safe_load(params_at(tmp_path).read_text())
    params["experiments"]["table4"]["methods"] = ["zero_shot", "sft", "livr", "lvr"]
    params["backbones"]["qwen2.5-vl-7b"]["max_pixels"] *= 4
    need = doctor._training_need(params, "table4", ["qwen2.5-vl-7b"])
    gib, images, seq, pixels, method, training = need["qwen2.5-vl-7b"]
    assert (method, training.finetune, images) == ("lvr", "full_lm", 1) and 80 < gib < 100
    # cluster: a WARNING that does not block, its one line naming experiment, backbone and method
    (row,) = doctor.gpu_checks("table4", need, "cluster", "my.yaml")
    assert row.status == doctor.WARNING and f">= {gib:.0f} GiB (estimate; method lvr, 1 images" in row.detail
    assert row.fix.startswith(f"experiment table4, qwen2.5-vl-7b, method lvr: training needs ~{gib:.0f} GiB")
    assert "`finetune: lora` on methods.lvr (a declared deviation from its recipe) in my.yaml" in row.fix
    assert "1 warnings (they do not block)" in doctor.format_table([row])
    # a machine with one 80 GB GPU: MISSING with the same advice; an H200 runs it
    monkeypatch.setattr(doctor, "visible_gpus", lambda: [79.2])
    row = rows_by(doctor.gpu_checks("table4", need, "local", "my.yaml"))[("gpu", "qwen2.5-vl-7b")]
    assert row.status == doctor.MISSING and "more than this machine's largest GPU (79 GiB)" in row.fix
    monkeypatch.setattr(doctor, "visible_gpus", lambda: [139.8])
    row = rows_by(doctor.gpu_checks("table4", need, "local", "my.yaml"))[("gpu", "qwen2.5-vl-7b")]
    assert row.status == doctor.READY and row.fix == ""
    # at the shipped pixel budget LVR fits one 80 GB GPU (~70 GiB): no warning
    params["backbones"]["qwen2.5-vl-7b"]["max_pixels"] //= 4
    need = doctor._training_need(params, "table4", ["qwen2.5-vl-7b"])
    (row,) = doctor.gpu_checks("table4", need, "cluster", "my.yaml")
    assert row.status == doctor.PENDING and need["qwen2.5-vl-7b"][4] == "lvr" and row.fix == ""


def test_pending_downloads_need_disk(tmp_path, hf_cache, monkeypatch):
    monkeypatch.setattr(doctor, "probe", lambda url, timeout=5.0: None)
    monkeypatch.setattr(doctor, "visible_gpus", lambda: [80.0])
    fake_hf_cache(hf_cache, "Qwen/Qwen3-VL-4B-Instruct")
    p = params_at(tmp_path)
    params = yaml.safe_load(p.read_text())
    raw = Path(params["paths"]["data"]) / "raw"
    write_manifest(raw / "funkpoint", {"source": "funkpoint"})
    write_manifest(raw / "mid" / "albedo", {"source": "mid"})
    monkeypatch.setattr(doctor, "_free_gb", lambda path: 10_000.0)  # not this machine's disk: the test's own figures
    rows = rows_by(doctor.run_checks(params, "table2", params_file=str(p)))
    pending = {s for (a, s), r in rows.items() if a == "source" and r.status == doctor.PENDING}
    assert pending == set(TABLE2_SOURCES) - {"funkpoint"}
    expect = sum(importlib.import_module(SOURCES[s]).DISK_GB for s in TABLE2_SOURCES if s != "funkpoint")
    disk = rows[("disk", str(Path(params["paths"]["data"])))]
    assert disk.status == doctor.READY and f"~{expect:.0f} GB still to download" in disk.detail
    monkeypatch.setattr(doctor, "_free_gb", lambda path: 10.0)
    rows = rows_by(doctor.run_checks(params, "table2", params_file=str(p)))
    disk = rows[("disk", str(Path(params["paths"]["data"])))]
    assert disk.status == doctor.MISSING and disk.fix.startswith(f"free {expect - 10:.0f} GB there")


def test_synthetic_experiment_needs_nothing_from_the_network(tmp_path, offline):
    p = params_at(tmp_path)
    rows = doctor.run_checks(yaml.safe_load(p.read_text()), "demo", params_file=str(p))
    assert offline == [] and not [r for r in rows if r.status == doctor.MISSING]
    assert {r.area for r in rows} == {"weights", "dataset"}


def test_demo_lists_each_dataset_once_and_its_shipped_base_as_ready(tmp_path, offline):
    p = params_at(tmp_path)
    params = yaml.safe_load(p.read_text())
    rows = doctor.run_checks(params, "demo", params_file=str(p))
    datasets = [r.item for r in rows if r.area == "dataset"]
    assert sorted(datasets) == sorted(params["experiments"]["demo"]["tasks"]) and len(set(datasets)) == len(datasets)
    (base,) = [r for r in rows if r.area == "weights"]
    assert base.item == "tiny-qwen2.5-vl-pretrained" and base.status == doctor.READY
    assert "shipped with the package" in base.detail and "build-tiny" not in base.detail


def test_doctor_summary_names_what_it_checks():
    from livr.cli import COMMANDS

    summary = COMMANDS["doctor"][1]
    assert "remote code" not in summary  # no hub code runs for any backbone (livr/model/loading.py)
    assert all(word in summary for word in ("weights", "data", "GPUs", "disk"))


def test_probe_returns_within_its_timeout_when_a_host_never_answers():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)  # connections are queued, never answered
    try:
        t0 = time.monotonic()
        err = doctor.probe(f"http://127.0.0.1:{srv.getsockname()[1]}/x", timeout=0.5)
        assert time.monotonic() - t0 < 3 and err is not None
    finally:
        srv.close()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert doctor.probe(f"http://127.0.0.1:{port}/x", timeout=1) == "connection refused"


def test_doctor_on_this_machine_answers_in_seconds(tmp_path):
    """The real probes, no monkeypatching: whatever the network, the answer comes quickly."""
    p = params_at(tmp_path)
    t0 = time.monotonic()
    proc = run([tool("livr"), "doctor", "--params", str(p), "--experiment", "table1"], tmp_path, check=False)
    assert time.monotonic() - t0 < 60
    assert proc.returncode == 1  # no weights cached, manual steps not done: something is missing anywhere
    assert re.search(r"^MISSING  manual step  funkpoint", proc.stdout, flags=re.M)


# ---- the workflow hook ------------------------------------------------------------------


def test_gpu_jobs_of_real_backbones_wait_for_the_preflight(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=table1"], repo)
    blocks = re.findall(r"^rule (train|evaluate):\n(.*?)(?=^\S|\Z)", proc.stdout, flags=re.M | re.S)
    assert blocks and all("results/table1/doctor.json" in body for _, body in blocks)
    assert re.search(r"^(?:local)?rule doctor:\n\s+output: results/table1/doctor.json", proc.stdout, flags=re.M)
    proc = run([tool("snakemake"), "-n", "results/table1.csv", "--config", "experiment=ci"], repo)
    assert "doctor" not in proc.stdout  # tiny backbones run on the CPU: no preflight


DOCTOR_STUB = """#!/usr/bin/env python3
import os, pathlib, sys
args = sys.argv[1:]
if args[0] == "doctor":  # the preflight passes: write the stamp
    out = pathlib.Path(args[args.index("--stamp") + 1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("{}")
    sys.exit(0)
os.execv(sys.executable, [sys.executable, str(pathlib.Path(__file__).with_name("livr_stub")), *args])
"""


def test_preflight_rerun_does_not_rerun_gpu_jobs(tmp_path):
    """The stamp is an ancient() input: a newer stamp (the doctor rerun) reruns no GPU job."""
    repo = copy_repo(tmp_path / "repo")
    bin_dir = stub_livr(tmp_path / "bin")
    (bin_dir / "livr").rename(bin_dir / "livr_stub")
    (bin_dir / "livr").write_text(DOCTOR_STUB)
    (bin_dir / "livr").chmod(0o755)
    target = ["results/table1.csv", "--config", "experiment=table2"]
    run([tool("snakemake"), "--cores", "2", *target], repo, path_first=bin_dir)
    stamp = repo / "results" / "table2" / "doctor.json"
    assert stamp.exists() and (repo / "results" / "table1.csv").exists()
    time.sleep(1.1)
    stamp.touch()
    proc = run([tool("snakemake"), "-n", *target], repo, path_first=bin_dir)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_cluster_executor_checks_the_gpu_need_only(tmp_path):
    import importlib.util

    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[slurm]')")
    repo = copy_repo(tmp_path / "repo")
    proc = run(
        [
            tool("snakemake"),
            "-n",
            "-p",
            "--cores",
            "16",
            "--workflow-profile",
            "workflow/profiles/slurm",
            "results/table1.csv",
            "--config",
            "experiment=table1",
        ],
        repo,
    )
    assert "livr doctor --params params.yaml --experiment table1 --gpus cluster" in proc.stdout
    proc = run([tool("snakemake"), "-n", "-p", "results/table1.csv", "--config", "experiment=table1"], repo)
    assert "livr doctor --params params.yaml --experiment table1 --gpus local" in proc.stdout


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_gpu_need_is_sized_by_what_a_run_trains_on():
    # table4 trains on Visual-CoT (one image per example) and tests on BLINK-5 (up to three): the
    # training estimate must follow the training data, as the job's own memory request does
    need = doctor._training_need(PARAMS, "table4", ["qwen2.5-vl-7b"])
    assert need["qwen2.5-vl-7b"][1] == 1
