"""The stand-in account's load: requests in flight (and the most seen), a latency per endpoint, a concurrency limit.

Twilio refuses an account's REST requests past its concurrency limit with 429 and error 20429; the
stand-in does the same once a limit is set, and counts what it sees so a test can show that a
limit of ours held across every worker:

    GET  /_standin/load   {"in_flight": {"create": 2, "all": 3}, "max_in_flight": {...},
                           "latency_seconds": {"create": 0.3}, "concurrency_limit": null}
    POST /_standin/load   {"latency_seconds": {"create": 0.3}, "concurrency_limit": 5}

`all` counts every endpoint, as Twilio's limit does. A reset forgets the most seen, the latency
and the limit (requests still in flight stay counted until they end) and wakes delayed requests.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from flask import Flask, Response, g, jsonify, request

ALL = "all"
MAX_LATENCY_SECONDS = 60.0


class AccountLoad:
    """Counts the account's requests in flight per endpoint; one lock, as the server answers on many threads."""

    def __init__(self, endpoints: tuple[str, ...]) -> None:
        self.endpoints = endpoints
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._most: Counter[str] = Counter()
        self._latency: dict[str, float] = {}
        self._limit: int | None = None
        self._wake = threading.Event()

    def enter(self, endpoint: str) -> bool:
        """Count this request in flight until the request ends; True when it is past the concurrency limit."""
        with self._lock:
            over = self._limit is not None and self._in_flight[ALL] >= self._limit
            for name in (endpoint, ALL):
                self._in_flight[name] += 1
                self._most[name] = max(self._most[name], self._in_flight[name])
        g.standin_load_endpoint = endpoint  # ended by the teardown add_load_control registers
        return over

    def leave(self) -> None:
        endpoint = g.pop("standin_load_endpoint", None)
        if endpoint is None:
            return
        with self._lock:
            for name in (endpoint, ALL):
                self._in_flight[name] -= 1

    def delay(self, endpoint: str) -> bool:
        """Take the endpoint's latency; True if a reset cut it short (the request must not act on new state)."""
        with self._lock:
            seconds, wake = self._latency.get(endpoint, 0.0), self._wake
        return seconds > 0 and wake.wait(seconds)

    def configure(self, data: dict[str, Any]) -> None:
        """Apply a POSTed {"latency_seconds": {endpoint: s}, "concurrency_limit": n or null}; ValueError if bad."""
        unknown = set(data) - {"latency_seconds", "concurrency_limit"}
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        latency = data.get("latency_seconds", {})
        if not isinstance(latency, dict) or not all(
            name in self.endpoints and isinstance(s, int | float) and 0 <= s <= MAX_LATENCY_SECONDS
            for name, s in latency.items()
        ):
            raise ValueError(f"latency_seconds: {{endpoint: 0 to {MAX_LATENCY_SECONDS:g}}}, endpoints {list(self.endpoints)}")
        limit = data.get("concurrency_limit", self._limit)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ValueError("concurrency_limit: a positive count, or null for none")
        with self._lock:
            self._latency.update({name: float(s) for name, s in latency.items()})
            self._limit = limit

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            # Unary plus drops the zero counts: endpoints idle since the reset are not listed.
            return {"in_flight": dict(+self._in_flight), "max_in_flight": dict(+self._most),
                    "latency_seconds": dict(self._latency), "concurrency_limit": self._limit}

    def reset(self) -> None:
        with self._lock:
            self._most = Counter(self._in_flight)
            self._latency.clear()
            self._limit = None
            self._wake.set()
            self._wake = threading.Event()


def add_load_control(app: Flask, load: AccountLoad) -> None:
    """`GET|POST /_standin/load` (see the module), and the teardown that ends each request's count."""

    @app.teardown_request
    def end_request(_: BaseException | None) -> None:
        load.leave()

    @app.route("/_standin/load", methods=["GET", "POST"])
    def load_settings() -> Response | tuple[Response, int]:
        if request.method == "POST":
            data = request.get_json(force=True, silent=True)
            try:
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                load.configure(data)
            except ValueError as exc:
                return jsonify({"error": str(exc)}), 400
        return jsonify(load.snapshot())
