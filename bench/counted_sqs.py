"""moto's SQS server with a tally of requests by action: the SQS endpoint of a bench run.

    python -m bench.counted_sqs --port N

The same app and server as `moto_server` (moto's DomainDispatcherApplication under werkzeug's
threaded `run_simple` with moto's request handler, and localdev/moto_fixes.py applied), wrapped in a WSGI middleware that counts every
request by its action: the `X-Amz-Target` header (JSON protocol, what boto3 and kombu send) or
`Action=` (query protocol). `GET /_bench/sqs-counts` returns the tally. Counting in the server
instead of in a proxy in front of it adds no network hop; the bench still measures what it costs
(SendMessage floor against this server and against a plain `moto_server`).
"""

from __future__ import annotations

import argparse
import io
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from localdev import moto_fixes

COUNTS_PATH = "/_bench/sqs-counts"


class CountingMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == COUNTS_PATH:
            with self._lock:
                body = json.dumps(dict(self._counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        action = request_action(environ)
        with self._lock:
            self._counts[action] += 1
        return self.app(environ, start_response)


def request_action(environ: dict[str, Any]) -> str:
    """'SendMessage', 'ReceiveMessage', … for one SQS request; reads (and restores) a form body if need be."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rpartition(".")[2]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if environ.get("REQUEST_METHOD") == "POST" and "form" in environ.get("CONTENT_TYPE", ""):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.counted_sqs", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    moto_fixes.apply()  # FIFO long polls as on Amazon, as in every emulator the project runs
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]  # as moto_server sets it
    run_simple(args.host, args.port, CountingMiddleware(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
