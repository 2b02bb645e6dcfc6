"""The `livr` command's side of warm job starts (livr/ops/warm_jobs.py has the server): send the
command to the run's warm server and wait for its exit status, or say there is none. Light on
purpose: every `livr` command of a run imports it before anything else."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

SOCKET_ENV = "LIVR_WARM_SOCKET"


def identity() -> dict:
    import livr

    # the environment (a venv's prefix), its interpreter, and the livr checkout
    return {
        "prefix": sys.prefix,
        "python": os.path.realpath(sys.executable),
        "livr": str(Path(livr.__file__).resolve().parent),
    }


def send(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def lines(conn: socket.socket):
    buffer = b""
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)


def run_remote(argv: list[str]) -> int | None:
    """Run `livr argv` in a job forked by the warm server; its exit status, or None when there is no
    usable server (the caller then runs the command itself)."""
    path = os.environ.get(SOCKET_ENV)
    if not path:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), **identity()}
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        replies = lines(conn)
        first = next(replies, None)
    except OSError:
        conn.close()
        return None
    if first is None or "refused" in first:  # another interpreter, checkout or import environment
        conn.close()
        return None
    # The job runs; a signal that ends this process closes the connection, and the supervisor then
    # stops the job.
    done = next(replies, None)
    conn.close()
    return 1 if done is None else done["exit"]
