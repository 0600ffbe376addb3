"""The Twilio and OpenAI stand-ins as processes, stamped with the exact times the bench needs.

    python -m bench.standins twilio|openai --port N [same options as python -m localdev.standins]

Serves the very apps `python -m localdev.standins` serves, through a WSGI middleware, because the
Twilio stand-in's own `received_at` has whole seconds: too coarse for end-to-end latency. Here every
send the Twilio stand-in accepts (201) is stamped with `time.time()` (with its To and Body, which
carries the message's token), and every OpenAI completion's start and end are stamped, which gives
the completions in flight. `GET /_bench/events?since=N` returns the stamps from index N on;
`POST /_bench/reset` forgets them.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

EVENTS_PATH = "/_bench/events"
RESET_PATH = "/_bench/reset"


class StampingMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], kind: str) -> None:
        self.app = app
        self.kind = kind
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            since = int(parse_qs(environ.get("QUERY_STRING", "")).get("since", ["0"])[0])
            with self._lock:
                body = json.dumps({"total": len(self._events), "events": self._events[since:]}).encode()
            return _json(start_response, body)
        if path == RESET_PATH:
            with self._lock:
                self._events.clear()
            return _json(start_response, b"{}")
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        if self.kind == "twilio" and path.endswith("/Messages.json"):
            return self._twilio_send(environ, start_response)
        if self.kind == "openai" and path.endswith("/chat/completions"):
            return self._completion(environ, start_response)
        return self.app(environ, start_response)

    def _twilio_send(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode("utf-8", "replace"))
        status: list[str] = []

        def capture(code: str, headers: Any, *rest: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *rest)

        result = self.app(environ, capture)
        if status and status[0].startswith("201"):
            with self._lock:
                self._events.append({"t": time.time(), "to": form.get("To", [""])[0],
                                     "body": form.get("Body", [""])[0]})
        return result

    def _completion(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.time()
        result = self.app(environ, start_response)  # the stand-in's stall happens inside
        with self._lock:
            self._events.append({"start": started, "end": time.time()})
        return result


def _json(start_response: Callable[..., Any], body: bytes) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def main() -> None:
    from localdev.standins.__main__ import parse_args
    from localdev.standins.openai_api import create_openai_standin
    from localdev.standins.serving import serve_forever
    from localdev.standins.twilio_api import create_twilio_standin

    args = parse_args(sys.argv[1:])
    if args.kind == "twilio":
        app = create_twilio_standin(args.account_sid, args.auth_token)
    else:
        app = create_openai_standin(offline=args.offline, api_key=args.api_key)
    app.wsgi_app = StampingMiddleware(app.wsgi_app, args.kind)  # type: ignore[method-assign]
    serve_forever(app, args.host, args.port, label=args.kind)


if __name__ == "__main__":
    main()
