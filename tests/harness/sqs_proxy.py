"""A threaded HTTP proxy in front of an SQS endpoint that answers chosen calls with faults, switchable live."""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.harness.sqs_faults import DropConnection, EmptyBody, ErrorAnswer, FailEntry, Fault, GarbledBody, Hang

# Never forwarded: they describe one hop, not the request.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "content-length"}


@dataclass
class Rule:
    """Answer `fault` to a share `rate` of the calls whose action is in `actions` (None: every action)."""

    fault: Fault
    actions: frozenset[str] | None = None
    rate: float = 1.0
    hits: int = 0
    switched_off: threading.Event = field(default_factory=threading.Event, repr=False)

    def matches(self, action: str) -> bool:
        return self.actions is None or action in self.actions


@dataclass(frozen=True)
class Call:
    """One request as it arrived: which protocol spoke, which action, what we did with it."""

    protocol: str  # "json" (X-Amz-Target) or "query" (Action=)
    action: str
    fault: str | None  # the rule's fault class name, None when forwarded untouched


class SqsProxy:
    """`endpoint_url` is what a process under test uses as SQS_ENDPOINT_URL; the test holds this object.

    The Host header is forwarded unchanged, so moto builds queue URLs that point back at the proxy
    and a process that asked through the proxy keeps using it.
    """

    def __init__(self, upstream_url: str, seed: int = 8, host: str = "127.0.0.1") -> None:
        upstream = urlsplit(upstream_url)
        self.upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
        self.host = host
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self.calls: list[Call] = []
        self._server = ThreadingHTTPServer((host, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sqs-proxy", daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> SqsProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.clear()
        self._server.shutdown()
        self._server.server_close()

    def inject(self, fault: Fault, actions: Iterable[str] | None = None, rate: float = 1.0) -> Rule:
        """Start answering `fault`; takes effect on the next call that arrives."""
        rule = Rule(fault, None if actions is None else frozenset(actions), rate)
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        """Stop answering `rule`'s fault; calls it holds (Hang) are released and forwarded."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)
        rule.switched_off.set()

    def clear(self) -> None:
        with self._lock:
            rules, self._rules = self._rules, []
        for rule in rules:
            rule.switched_off.set()

    @contextmanager
    def injecting(self, fault: Fault, actions: Iterable[str] | None = None, rate: float = 1.0) -> Iterator[Rule]:
        rule = self.inject(fault, actions, rate)
        try:
            yield rule
        finally:
            self.remove(rule)

    def seen(self) -> Counter[tuple[str, str]]:
        """How many calls arrived per (protocol, action)."""
        with self._lock:
            return Counter((call.protocol, call.action) for call in self.calls)

    def faulted(self) -> Counter[tuple[str, str]]:
        """How many calls got a fault, per (action, fault)."""
        with self._lock:
            return Counter((call.action, call.fault) for call in self.calls if call.fault)

    def _choose(self, protocol: str, action: str) -> Rule | None:
        """The first active rule that matches and whose dice say yes; records the call either way."""
        with self._lock:
            chosen = None
            for rule in self._rules:
                if rule.matches(action) and (rule.rate >= 1 or self._random.random() < rule.rate):
                    rule.hits += 1
                    chosen = rule
                    break
            self.calls.append(Call(protocol, action, type(chosen.fault).__name__ if chosen else None))
            return chosen


def _handler_for(proxy: SqsProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        owner = proxy

    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: SqsProxy
    # Keep-alive, as boto3 and pycurl expect from SQS; every answer carries a Content-Length.
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    def do_GET(self) -> None:  # noqa: N802
        self._handle()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet: tests read `calls`
        return

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        protocol, action = _action_of(self.headers.get("X-Amz-Target"), self.path, body)
        rule = self.owner._choose(protocol, action)
        fault = rule.fault if rule else None
        if isinstance(fault, ErrorAnswer):
            if protocol == "json":
                self._answer(fault.status, fault.json_body(), fault.json_headers())
            else:
                self._answer(fault.status, fault.query_body(), {"Content-Type": "text/xml"})
            return
        if isinstance(fault, EmptyBody | GarbledBody):
            if fault.forward:
                self._forward(body)
            garbled = b'{"Messages": [{"MessageId": "' if protocol == "json" else b"<ReceiveMessageResponse><Rec"
            self._answer(200, garbled if isinstance(fault, GarbledBody) else b"", {"Content-Type": _content_type(protocol)})
            return
        if isinstance(fault, FailEntry) and protocol == "json":
            self._fail_entry(fault, body)
            return
        if isinstance(fault, Hang):
            assert rule is not None
            rule.switched_off.wait(fault.seconds)
        status, reason, headers, answer = self._forward(body)
        if isinstance(fault, DropConnection):
            self._reset_mid_answer(status, reason, headers, answer)
            return
        self._answer(status, answer, headers, reason)

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.owner.upstream, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, response.reason, kept, answer
        finally:
            connection.close()

    def _fail_entry(self, fault: FailEntry, body: bytes) -> None:
        """Forward the batch without the chosen entry, then answer it in `Failed` beside SQS's own answer."""
        request = json.loads(body)
        entries = request.get("Entries") or []
        if fault.index >= len(entries):
            status, reason, headers, answer = self._forward(body)
            self._answer(status, answer, headers, reason)
            return
        failed = fault.entry(str(entries.pop(fault.index).get("Id")))
        if not entries:  # SQS refuses an empty batch: answer for it, as it would have for one failed entry
            self._answer(200, json.dumps({"Successful": [], "Failed": [failed]}).encode(),
                         {"Content-Type": _content_type("json")})
            return
        status, reason, headers, answer = self._forward(json.dumps(request).encode())
        if status != 200:
            self._answer(status, answer, headers, reason)
            return
        parsed = json.loads(answer)
        parsed["Failed"] = [*(parsed.get("Failed") or []), failed]
        self._answer(status, json.dumps(parsed).encode(), headers, reason)

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | list[tuple[str, str]],
                reason: str | None = None) -> None:
        try:
            self.send_response(status, reason)
            for name, value in (headers.items() if isinstance(headers, dict) else headers):
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its read timeout during a hang)

    def _reset_mid_answer(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN, as a dying load balancer does.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def _action_of(target: str | None, path: str, body: bytes) -> tuple[str, str]:
    if target:
        return "json", target.rsplit(".", 1)[-1]
    fields = parse_qs(urlsplit(path).query) | parse_qs(body.decode(errors="replace"))
    return "query", (fields.get("Action") or ["?"])[0]


def _content_type(protocol: str) -> str:
    return "application/x-amz-json-1.0" if protocol == "json" else "text/xml"
