"""A tiny threaded HTTP server on 127.0.0.1 for download tests, with scripted misbehaviour."""

from __future__ import annotations

import http.server
import threading
from contextlib import contextmanager


class Files:
    """path -> bytes, plus per-path behaviour scripts consumed one request at a time:
    "500" (answer HTTP 500), "cut" (send Content-Length but only half the body, then close),
    "ok". `ignore_range` makes the server answer 200 with the full body to Range requests.
    Ranges are "bytes=START-" or "bytes=START-END" (END inclusive); `sent` counts body bytes
    written per path."""

    def __init__(self):
        self.data: dict[str, bytes] = {}
        self.script: dict[str, list[str]] = {}
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []
        self.sent: dict[str, int] = {}


def _handler(files: Files):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            rng = self.headers.get("Range")
            files.requests.append((path, rng))
            if path not in files.data:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = files.data[path]
            action = files.script.get(path, []).pop(0) if files.script.get(path) else "ok"
            if action == "500":
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = 0, len(body) - 1
            if rng and not files.ignore_range:
                first, last = rng.split("=")[1].split("-")
                start = int(first)
                end = min(int(last), end) if last else end
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
            else:
                self.send_response(200)
            chunk = body[start : end + 1]
            self.send_header("Content-Length", str(len(chunk)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if action == "cut":
                self.wfile.write(chunk[: len(chunk) // 2])
                self.wfile.flush()
                self.close_connection = True
                files.sent[path] = files.sent.get(path, 0) + len(chunk) // 2
                return
            self.wfile.write(chunk)
            files.sent[path] = files.sent.get(path, 0) + len(chunk)

    return H


@contextmanager
def serve(files: Files):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(files))
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
