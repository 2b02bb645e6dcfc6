"""Warm job starts: `livr` jobs forked from a process that has already imported torch and transformers.

A tiny-backbone job of the offline demo computes for 2-60 s, and importing torch, transformers, peft
and the Trainer costs ~5 s of every one of its ~45 train and evaluate jobs. For a run on this
machine (Snakemake, local execution, every backbone of the experiment tiny: the Snakefile's
`onstart`), a server is started that imports them once; each `livr` command of the run then
connects to it (the socket named by LIVR_WARM_SOCKET), and the server forks a job process that runs
the command exactly as the console would: the client's argv, working directory, environment and
stdin/stdout/stderr (passed over the socket), its exit status returned. The result is bit-identical
to a cold start (tests/ops/test_warm_jobs.py): the server runs no computation and starts no thread,
so each job sets its own thread count and seeds as a cold one does.

A cold start happens instead, with the same result, whenever the server is absent or not yet
listening, or the client runs another interpreter or `livr` checkout, or an environment variable
that the preloaded libraries read at import differs (IMPORT_ENV). Real backbones never use it: they
run on GPUs, often on other nodes, and their `timings/` must measure the job's own memory.

One caveat: Snakemake's `benchmark:` measures the process tree of the job's shell, which holds only
the client, so for a warm job `timings/` (table job_timings) has the wall time right and the memory
and CPU columns of the client alone.

Processes: the server forks a supervisor per job, which forks the job, waits for it and sends its
exit status; when the client goes away (Snakemake killed the job) the supervisor kills the job's
process group. The server ends with the Snakemake run (`stop`) or when its parent process is gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livr.ops.warm_client import SOCKET_ENV, identity, send

# What a job imports before it computes (train, evaluate, analyze, the Trainer, peft and the image
# processor every family uses), with every backbone family's classes (`preload`): each job would pay
# for these itself.
PRELOAD = (
    "torch",
    "transformers",
    "transformers.trainer",
    "peft",
    "transformers.models.qwen2_vl.image_processing_pil_qwen2_vl",
    "livr.cli",
    "livr.train",
    "livr.stage_trainer",
    "livr.evaluate",
    "livr.decoding",
)
# What Snakemake sets to a job's thread count in the job's environment (snakemake/shell.py).
SNAKEMAKE_THREAD_ENV = (
    "OMP_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
# Environment variables read when those libraries are imported: a job whose value differs from the
# server's starts cold.
IMPORT_ENV = (
    "HF_",
    "HUGGINGFACE",
    "TRANSFORMERS_",
    "TORCH",
    "PYTORCH_",
    "CUDA_",
    "OMP_",
    "MKL_",
    "KMP_",
    "TOKENIZERS_",
    "PYTHON",
    "LD_",
    *SNAKEMAKE_THREAD_ENV,
)
GRACE_S = 10  # a killed client's job gets SIGTERM, then SIGKILL after this long


def enabled() -> bool:
    return os.environ.get("LIVR_WARM_JOBS", "1") != "0"


def _import_env(env) -> dict:
    return {k: v for k, v in env.items() if k.startswith(IMPORT_ENV)}


# ---- server ------------------------------------------------------------------------------------


def preload() -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    from livr.model.families import FAMILIES

    for family in FAMILIES.values():
        family.classes()
        family.processor_class()


def _refusal(request: dict, fds: list[int], import_env: dict) -> str | None:
    if len(fds) != 3:
        return "stdin, stdout and stderr were not passed"
    for key, value in identity().items():
        if request.get(key) != value:
            return f"{key} {request.get(key)!r} is not the server's {value!r}"
    theirs = _import_env(request["env"])
    differ = sorted(k for k in set(theirs) | set(import_env) if theirs.get(k) != import_env.get(k))
    if differ:
        return f"variables read at import differ from the server's: {', '.join(differ)}"
    return None


def _run_job(request: dict, fds: list[int]) -> None:
    """In the job process: become the client's command, run it, exit with its status."""
    os.setpgid(0, 0)  # the supervisor stops the job and anything it started as one group
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # line-buffered on a terminal, as a cold start's
    sys.stdout = os.fdopen(1, "w", buffering=1 if os.isatty(1) else -1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # read TMPDIR again
    sys.argv = ["livr", *request["argv"]]
    code = 1
    try:
        from livr.cli import main

        code = main(request["argv"]) or 0
    except SystemExit as e:  # argparse's errors and --help
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _supervise(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the supervisor process: fork the job, send its exit status; stop it if the client goes."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it; this process waits
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    job = os.fork()
    if job == 0:
        conn.close()
        _run_job(request, fds)
    for fd in fds:
        os.close(fd)
    print(f"job {job}: livr {' '.join(request['argv'])}", flush=True)
    send(conn, {"pid": job})
    status = None
    while status is None:
        ready, _, _ = select.select([conn], [], [], 0.5)
        if ready and not conn.recv(1):  # the client is gone: stop the job
            with contextlib.suppress(ProcessLookupError):
                os.killpg(job, signal.SIGTERM)
                deadline = time.monotonic() + GRACE_S
                while time.monotonic() < deadline and os.waitpid(job, os.WNOHANG) == (0, 0):
                    time.sleep(0.1)
                os.killpg(job, signal.SIGKILL)
            os._exit(0)
        pid, raw = os.waitpid(job, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(raw)
    # a job killed by signal N exits as a shell reports it: 128 + N
    with contextlib.suppress(OSError):
        send(conn, {"exit": status if status >= 0 else 128 - status})
    os._exit(0)


def serve(path: str | Path) -> None:
    """Import what jobs import (`preload`), then listen on `path` until terminated or the parent
    process is gone."""
    parent = os.getppid()
    import_env = _import_env(os.environ)  # before the imports, some of which set variables
    preload()
    path = Path(path)
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path) + ".tmp")
    server.listen(16)
    os.replace(str(path) + ".tmp", path)  # clients see the socket only once it accepts
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.settimeout(1.0)
    try:
        while os.getppid() == parent:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(10)
                try:
                    message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                    request = json.loads(message)
                except (OSError, ValueError):
                    continue
                why = _refusal(request, fds, import_env)
                if why is not None:
                    print(f"cold start for {request.get('argv')}: {why}", flush=True)
                    for fd in fds:
                        os.close(fd)
                    with contextlib.suppress(OSError):
                        send(conn, {"refused": why})
                    continue
                conn.settimeout(None)
                sys.stdout.flush()
                sys.stderr.flush()
                if os.fork() == 0:
                    server.close()
                    _supervise(conn, request, fds)
                for fd in fds:
                    os.close(fd)
    finally:
        path.unlink(missing_ok=True)


# ---- the Snakemake run's side ------------------------------------------------------------------


@dataclasses.dataclass
class Server:
    proc: subprocess.Popen
    socket: Path
    log: Path
    env: dict  # its environment at start: that of a job it serves, but for the socket

    def job_env(self) -> dict:
        """The environment of a job this server serves: the server's own, pointed at its socket."""
        return {**self.env, SOCKET_ENV: str(self.socket)}

    def wait(self, timeout: float) -> None:
        """Until it listens (a job started earlier starts cold)."""
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the warm job server is not listening after {timeout} s: {self.log}")
            time.sleep(0.2)


def start(log: str | Path, threads: int, export: bool = True) -> Server:
    """Start the server in the background; with `export`, point this process's later jobs at it.
    Its thread variables are those Snakemake gives a job of `threads` threads (OpenMP reads them when
    torch is imported): jobs of another thread count start cold."""
    path = Path(tempfile.mkdtemp(prefix="livr-warm-")) / "socket"  # short: AF_UNIX paths end at ~100 bytes
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **dict.fromkeys(SNAKEMAKE_THREAD_ENV, str(threads))}
    env.pop(SOCKET_ENV, None)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "livr.ops.warm_jobs", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=path.parent,  # not the run's directory: `-m` puts the cwd first on sys.path, and the
            # server must import the livr that the `livr` command imports (each job then chdirs)
            start_new_session=True,  # a Ctrl-C of the run reaches it through `stop`, not mid-import
        )
    if export:
        os.environ[SOCKET_ENV] = str(path)
    return Server(proc, path, log, env)


def stop(server: Server) -> None:
    if os.environ.get(SOCKET_ENV) == str(server.socket):
        del os.environ[SOCKET_ENV]
    server.proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.proc.wait(timeout=10)
    shutil.rmtree(server.socket.parent, ignore_errors=True)


if __name__ == "__main__":
    serve(sys.argv[1])
