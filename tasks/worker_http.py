"""The worker's metrics port: Prometheus `/metrics` and `/healthz` (503 naming the SQS faults it sees)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

Faults = Callable[[], dict[str, str]]


def health(faults: Faults) -> tuple[int, dict[str, object]]:
    """200 while this worker sees no SQS configuration fault; 503 naming each queue and its cause."""
    current = faults()
    return (503 if current else 200), {"healthy": not current, "sqs_faults": current}


def serve(address: str, port: int, faults: Faults) -> ThreadingHTTPServer:
    """Start serving on a daemon thread; returns the server (its `server_address` has the real port)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                status, body = health(faults)
                self._send(status, json.dumps(body).encode(), "application/json")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - scrapes are not news
            return

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server
