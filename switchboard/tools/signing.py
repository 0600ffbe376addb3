"""Signing the sender's identity on calls to the operator (tool calls, hand-off notices), and checking it.

The signature is HMAC-SHA256, keyed with OPERATOR_SIGNING_SECRET, over this canonical string (UTF-8,
lines joined by "\\n", the body's bytes last, exactly as sent):

    v1
    <METHOD>                       e.g. GET
    <URL>                          the full URL as called: scheme, host, port, path and query
    <X-Switchboard-Timestamp>      Unix seconds
    <X-Switchboard-User-Id>        each identity header's value; "" when the request has none
    <X-Switchboard-Sender>
    <X-Switchboard-Conversation>
    <X-Switchboard-Message-Sid>
    <body>                         "" for a request without one

sent as `X-Switchboard-Signature: v1=<hex digest>`. `verify_signature` below is what an operator's API
runs; it needs only Python's standard library, so it may be copied as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

VERSION = "v1"
TIMESTAMP = "X-Switchboard-Timestamp"
SIGNATURE = "X-Switchboard-Signature"
IDENTITY_HEADERS = ("X-Switchboard-User-Id", "X-Switchboard-Sender", "X-Switchboard-Conversation",
                    "X-Switchboard-Message-Sid")
TOLERANCE_SECONDS = 300  # a signed request older (or newer) than this is refused: a captured one is no key


def canonical_string(method: str, url: str, timestamp: str, identity: Mapping[str, str], body: bytes) -> bytes:
    lines = [VERSION, method.upper(), url, timestamp, *(_header(identity, name) for name in IDENTITY_HEADERS)]
    return "\n".join(lines).encode("utf-8") + b"\n" + body


def signature(secret: bytes, method: str, url: str, timestamp: str, identity: Mapping[str, str], body: bytes) -> str:
    digest = hmac.new(secret, canonical_string(method, url, timestamp, identity, body), hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def sign_request(secret: bytes, method: str, url: str, body: bytes, identity: Mapping[str, str] | None = None,
                 now: float | None = None) -> dict[str, str]:
    """The headers to send: `identity` (the X-Switchboard-* identity headers), the timestamp and the signature."""
    timestamp = str(int(time.time() if now is None else now))
    headers = dict(identity or {})
    headers[TIMESTAMP] = timestamp
    headers[SIGNATURE] = signature(secret, method, url, timestamp, headers, body)
    return headers


def verify_signature(secret: bytes, method: str, url: str, headers: Mapping[str, str], body: bytes,
                     now: float | None = None, tolerance_seconds: int = TOLERANCE_SECONDS) -> bool:
    """True when the request was signed with `secret` within `tolerance_seconds` of `now`.

    `url` is the full URL the request was sent to (behind a proxy: your public URL, with the path and
    query exactly as received); `headers` may be any mapping (its names are matched case-insensitively).
    """
    timestamp = _header(headers, TIMESTAMP)
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_seconds:
        return False
    expected = signature(secret, method, url, timestamp, headers, body)
    return hmac.compare_digest(expected.encode(), _header(headers, SIGNATURE).encode())


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), "")
    return value
