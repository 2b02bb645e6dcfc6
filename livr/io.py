"""Atomic file and directory writes: a killed job never leaves output that looks finished."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from livr.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)
_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def _temp_prefix(path: Path) -> str:
    """Temp siblings are named .<name>.<host>-<pid>.<random>.tmp, so a later writer of the same
    target can tell the leftovers of a killed process (SIGKILL runs no cleanup) from live ones."""
    return f".{path.name}.{_HOST}-{os.getpid()}."


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete temp siblings of `path` left by dead processes of this host; the paths removed.

    Temps of live processes and of other hosts are never touched (no two jobs write one target,
    so a stale temp can only come from an earlier, killed writer of this very target)."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.{re.escape(_HOST)}-(\d+)\..+\.tmp(\.wal)?$")
    removed = []
    for sibling in path.parent.iterdir():
        m = pattern.match(sibling.name)
        if not m or _alive(int(m.group(1))):
            continue
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)
        removed.append(sibling)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputError(InputError):
    """An output path that cannot be written (a read-only or full disk, a file where a directory
    must be, no permission): one line naming the path, as for any bad input."""


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """OSErrors of this module's own file operations on `path` as one OutputError line."""
    try:
        yield
    except OSError as e:
        raise OutputError(f"{path}: cannot write ({e.strerror or e})") from None


def check_writable(path: str | os.PathLike) -> None:
    """Fail now, before any work, when `path` (a file or a directory to be written) could not be:
    its nearest existing ancestor must be a directory in which a file can be created. Creates
    nothing that outlives the check (the probe file has no name, or is removed at once)."""
    path = Path(path)
    parent = path.parent if path.name else path
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{path}: cannot write ({ancestor} is not a directory)")
    with _writing(path), tempfile.TemporaryFile(dir=ancestor):
        pass


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
        os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with _writing(path):
            if tmp.exists():
                os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs should read like any file
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling directory; swap it in for `path` only if the block succeeds."""
    path = Path(path)
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        with _writing(path):
            replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(tmp: Path, dest: Path) -> None:
    """Swap a finished sibling directory in for `dest` (the old one moved aside, then removed)."""
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def progress_enabled() -> bool:
    """Progress bars only on a TTY (not in CI or Snakemake logs), and never when LIVR_PROGRESS=0."""
    if os.environ.get("LIVR_PROGRESS", "1") == "0":
        return False
    return sys.stderr.isatty()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp, _writing(Path(path)):
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    with atomic_path(path) as tmp:
        with _writing(Path(path)), open(tmp, "w") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def json_lines(path: str | os.PathLike) -> Iterator[tuple[str, object]]:
    """("<path>:<line>", parsed JSON) for each non-blank line; a line that is not JSON is an
    InputError naming it."""
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield f"{path}:{lineno}", json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"{path}:{lineno}: {json_error(e)}") from None


def json_error(e: json.JSONDecodeError) -> str:
    """The parser's complaint as a whole phrase with its column: json's own `msg` of some errors
    ends in a dangling "at" ("Invalid control character at") that its position completes."""
    where = f"column {e.colno}" if e.lineno == 1 else f"line {e.lineno} column {e.colno}"
    return f"not valid JSON ({e.msg} {where})" if e.msg.endswith(" at") else f"not valid JSON ({e.msg} at {where})"
