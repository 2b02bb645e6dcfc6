"""Warm job starts (livr/ops/warm_jobs.py): a `livr` command forked from the warm server behaves as
the same command started cold: output, exit status, trained weights bit for bit; it starts cold
whenever the server cannot serve it; a killed client's job is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file
from test_faults import BACKBONE, EXP, TASK, faults_params, metrics_without_timings

from livr import config as livr_config
from livr.ops import warm_jobs
from livr.workflow import jobs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running warm server for one-thread jobs; this test process is not pointed at it."""
    started = warm_jobs.start(tmp_path_factory.mktemp("warm") / "warm_jobs.log", threads=1, export=False)
    started.wait(timeout=120)
    yield started
    warm_jobs.stop(started)
    assert started.proc.poll() is not None and not started.socket.parent.exists()


def job_env(server, warm: bool = True, **extra) -> dict:
    """A one-thread job's environment (the server's: tests may set variables in this process later);
    pointed at the server when `warm`."""
    return {**(server.job_env() if warm else server.env), "LIVR_PROGRESS": "0", **extra}


def livr(args, env, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "livr", *args], env=env, cwd=REPO, capture_output=True, text=True, **kwargs
    )


def jobs_logged(server) -> list[str]:
    return [line for line in server.log.read_text().splitlines() if line.startswith("job ")]


def test_a_warm_command_prints_and_exits_as_a_cold_one(server):
    for args in (["cells", "--experiment", "ci"], ["cells", "--experiment", "nope"], ["train", "--bogus"]):
        before = len(jobs_logged(server))
        warm, cold = livr(args, job_env(server)), livr(args, job_env(server, warm=False))
        assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
        assert jobs_logged(server)[before:] == [jobs_logged(server)[-1]]  # it ran in the server's fork
        assert jobs_logged(server)[-1].endswith("livr " + " ".join(args))


def test_it_starts_cold_when_the_server_cannot_serve(server, tmp_path):
    reference = livr(["cells", "--experiment", "ci"], job_env(server, warm=False))
    before = len(jobs_logged(server))
    # OpenMP read the server's thread count at import: a two-thread job is refused, and runs cold
    two = livr(["cells", "--experiment", "ci"], job_env(server, OMP_NUM_THREADS="2"))
    assert (two.returncode, two.stdout) == (0, reference.stdout)
    assert "cold start for ['cells', '--experiment', 'ci']" in server.log.read_text()
    assert "differ from the server's: OMP_NUM_THREADS" in server.log.read_text()
    # no server at the named socket
    gone = job_env(server, warm=False, **{warm_jobs.SOCKET_ENV: str(tmp_path / "no-socket")})
    assert livr(["cells", "--experiment", "ci"], gone).stdout == reference.stdout
    assert len(jobs_logged(server)) == before


@pytest.mark.slow
def test_warm_training_and_evaluation_equal_cold_bit_for_bit(server, tmp_path, tiny_models_dir):
    runs, predictions = {}, {}
    for mode in ("cold", "warm"):
        (tmp_path / mode).mkdir()
        params_file = faults_params(tmp_path / mode, tiny_models_dir)
        params = livr_config.load_params(params_file)
        seed = livr_config.seeds(params, EXP)[0]
        runs[mode] = Path(jobs.layout(params).run_dir(EXP, BACKBONE, TASK, "livr", seed))
        cell = ["--params", str(params_file), "--backbone", BACKBONE, "--train-set", TASK, "--method", "livr"]
        env = job_env(server, warm=mode == "warm")
        done = livr(["train", *cell, "--out", str(runs[mode]), "--threads", "1"], env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        predictions[mode] = tmp_path / mode / "predictions.jsonl"
        evaluate = ["evaluate", *cell, "--seed", str(seed), "--task", TASK, "--out", str(predictions[mode])]
        done = livr([*evaluate, "--threads", "1"], env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    logged = " ".join(jobs_logged(server))
    assert f"livr train {' '.join(cell)}" in logged and "livr evaluate" in logged, server.log.read_text()
    kept = ("final", "unselected")
    files = sorted(p.relative_to(runs["cold"]) for k in kept for p in (runs["cold"] / k).glob("*.safetensors"))
    assert {f.parent.name for f in files} == set(kept)
    for weights in files:
        cold, warm = load_file(runs["cold"] / weights), load_file(runs["warm"] / weights)
        assert cold.keys() == warm.keys() and all(cold[k].equal(warm[k]) for k in cold)
    assert metrics_without_timings(runs["cold"]) == metrics_without_timings(runs["warm"])
    assert predictions["cold"].read_text() == predictions["warm"].read_text()


@pytest.mark.slow
def test_a_killed_client_stops_its_job(server, tmp_path, tiny_models_dir):
    params = faults_params(tmp_path, tiny_models_dir)
    long = yaml.safe_load(params.read_text())
    long["experiments"][EXP]["training"]["sft_epochs"] = 500  # minutes of steps: still running when killed
    params.write_text(yaml.safe_dump(long, sort_keys=False))
    args = ["train", "--params", str(params), "--backbone", BACKBONE, "--train-set", TASK, "--method", "sft"]
    before = len(jobs_logged(server))
    client = subprocess.Popen(
        [sys.executable, "-m", "livr", *args, "--out", str(tmp_path / "run"), "--threads", "1"],
        env=job_env(server),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(jobs_logged(server)) == before:
        assert time.monotonic() < deadline and client.poll() is None, server.log.read_text()
        time.sleep(0.1)
    job = int(jobs_logged(server)[-1].split()[1].rstrip(":"))
    os.kill(job, 0)  # running
    client.send_signal(signal.SIGKILL)  # as Snakemake's kill of a job's shell reaches the client
    client.wait()
    deadline = time.monotonic() + warm_jobs.GRACE_S + 10
    while True:
        try:
            os.kill(job, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, f"job {job} still runs after its client was killed"
        time.sleep(0.1)
    assert not (tmp_path / "run" / "final").exists()


def test_only_runs_of_tiny_backbones_start_warm(monkeypatch):
    params = livr_config.load_params(REPO / "params.yaml")
    assert jobs.starts_warm(params, "demo") and jobs.starts_warm(params, "ci")
    assert not jobs.starts_warm(params, "table1")
    monkeypatch.setenv("LIVR_WARM_JOBS", "0")
    assert not jobs.starts_warm(params, "demo")
