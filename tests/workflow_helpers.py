"""Helpers for the workflow tests: a copy of the repository, dry-run parsing, a stub `livr`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's snakemake, dvc, livr


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def copy_repo(dest: Path, git: bool = False) -> Path:
    """The working tree's files that git tracks or would track (not ignored outputs)."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    if git:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        }
        for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "copy"]):
            subprocess.run(cmd, cwd=dest, check=True, env=env, capture_output=True)
    return dest


def run(cmd: list[str], cwd: Path, path_first: Path | None = None, check: bool = True, timeout: int = 1800):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(str(p) for p in [path_first, BIN] if p) + os.pathsep + env.get("PATH", "")
    env.setdefault("LIVR_PROGRESS", "0")
    if path_first:  # a stub livr (or doctor's fake tools): a warm server would import torch for nothing
        env["LIVR_WARM_JOBS"] = "0"
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def dry_run_jobs(output: str) -> list[tuple[str, tuple[str, ...]]]:
    """(rule, outputs) of every job a `snakemake -n` output lists."""
    jobs, rule = [], None
    for line in output.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line)
        if m:
            rule = m.group(1)
            continue
        m = re.match(r"^\s+output: (.*)$", line)
        if m and rule:
            jobs.append((rule, tuple(s.strip() for s in m.group(1).split(","))))
            rule = None
    return jobs


def snakemake_dry_run(cwd: Path, experiment: str, extra: list[str] = (), path_first: Path | None = None):
    proc = run(
        [tool("snakemake"), "-n", "results/table1.csv", *extra, "--config", f"experiment={experiment}"],
        cwd,
        path_first=path_first,
    )
    return dry_run_jobs(proc.stdout + proc.stderr)


def set_experiment(params_file: Path, experiment: str) -> None:
    text = params_file.read_text()
    new, n = re.subn(r"^experiment: \S+", f"experiment: {experiment}", text, count=1, flags=re.M)
    assert n == 1, "params.yaml has no top-level `experiment:` line"
    params_file.write_text(new)


STUB_LIVR = r'''#!/usr/bin/env python3
"""Stands in for the livr CLI in workflow tests: creates each command's outputs, nothing else."""
import argparse, json, pathlib, sys

args = sys.argv[1:]
cmd = args[0] if args[0] != "data" else "data " + args[1]
rest = args[1:] if args[0] != "data" else args[2:]
p = argparse.ArgumentParser()
for opt in ("--out", "--raw-dir", "--source", "--out-dir", "--task"):
    p.add_argument(opt)
p.add_argument("--variant", action="append", default=[])
known, _ = p.parse_known_args(rest)
with open(pathlib.Path(__file__).parent / "calls.log", "a") as log:
    log.write(" ".join(args) + "\n")
if cmd in ("build-tiny", "data synth", "data build", "data synth-comparison", "data build-comparison"):
    pathlib.Path(known.out).mkdir(parents=True, exist_ok=True)
    (pathlib.Path(known.out) / "manifest.json").write_text("{}")
elif cmd == "data download":
    d = pathlib.Path(known.raw_dir) / known.source
    d.mkdir(parents=True, exist_ok=True)
    (d / "manifest.json").write_text("{}")
elif cmd == "train":
    out = pathlib.Path(known.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    (out / "metrics.jsonl").write_text("{}\n")
    for kept in ("final", "unselected"):
        (out / kept).mkdir(exist_ok=True)
        (out / kept / "model.bin").write_text("stub")
elif cmd == "analyze":
    pathlib.Path(known.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(known.out).write_text("{}")
elif cmd == "evaluate":
    for out in [pathlib.Path(known.out)] + [pathlib.Path(v.partition("=")[2]) for v in known.variant]:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("{}\n")
        out.with_suffix(".json").write_text(json.dumps({"task": known.task}))
elif cmd == "collect":
    pathlib.Path(known.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(known.out).write_text("db")
elif cmd == "tables":
    d = pathlib.Path(known.out_dir)
    d.mkdir(parents=True, exist_ok=True)
    for name in ("table1", "table1_vs_paper", "table2", "table2_vs_paper", "datasets", "table3", "table4", "mirage_vsp",
                 "selection"):
        (d / f"{name}.csv").write_text("backbone,task\n")
    (d / "metrics" / "b" / "t" / "sft").mkdir(parents=True, exist_ok=True)
    (d / "metrics" / "b" / "t" / "sft" / "t.json").write_text(json.dumps({"accuracy": 50.0, "n": 2}))
    (d / "val_curves").mkdir(exist_ok=True)
    (d / "val_curves" / "b__t.csv").write_text("epoch,sft,livr\n1,50,40\n2,60,70\n")
else:
    sys.exit(f"stub livr: unknown command {args}")
'''


def stub_livr(bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "livr"
    exe.write_text(textwrap.dedent(STUB_LIVR))
    exe.chmod(0o755)
    return bin_dir
