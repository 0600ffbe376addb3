"""Calling a declared tool over HTTP with the sender's signed identity; what its answer means for the step.

Contract: a 2xx answer's text (truncated) is the tool's result; a 4xx (or a redirect, never followed: it
could carry the identity elsewhere) is given to the model as the tool's answer; a timeout, a connection
error, a 429 or a 5xx is a TransientError, so the step retries and the call is made again. Arguments
that do not fit the schema are answered with an error text and call nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import requests

from switchboard.errors import TransientError
from switchboard.settings import Settings
from switchboard.settings.tool_declarations import BODY_METHODS, ToolDeclaration
from switchboard.tools.arguments import argument_problem
from switchboard.tools.identity import Identity
from switchboard.tools.signing import IDENTITY_HEADERS, sign_request
from switchboard.tools.toolbox import Toolbox
from switchboard.tools.urls import tool_url

log = logging.getLogger(__name__)

ANSWER_MAX_CHARS = 4000  # what the model reads of a 2xx answer: enough for a record, not a whole page
REFUSAL_MAX_CHARS = 1000  # of a 4xx answer's body


class ToolExecutor(Protocol):
    """Runs one declared tool's call for the sender and returns the text the model reads."""

    def execute(self, name: str, arguments: Mapping[str, Any], identity: Identity) -> str: ...


def identity_headers(identity: Identity) -> dict[str, str]:
    """The identity headers, in signing.IDENTITY_HEADERS' order, from the signed webhook alone."""
    return dict(zip(IDENTITY_HEADERS, (identity.user_id, identity.sender, identity.conversation,
                                       identity.message_sid), strict=True))


class HttpToolExecutor:
    """The ToolExecutor of the toolbox's declared tools: one HTTP request per call, signed, explicit timeout."""

    def __init__(self, toolbox: Toolbox, secret: bytes, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.toolbox = toolbox
        self.secret = secret
        self.session = session or requests.Session()
        self.clock = clock

    @classmethod
    def from_settings(cls, toolbox: Toolbox, settings: Settings) -> HttpToolExecutor:
        secret = settings.operator_signing_secret
        if secret is None and toolbox.declared:
            raise ValueError("OPERATOR_SIGNING_SECRET is not set: declared tools' calls could not be trusted")
        return cls(toolbox, secret.get_secret_value().encode() if secret else b"")

    def execute(self, name: str, arguments: Mapping[str, Any], identity: Identity) -> str:
        tool = self.toolbox.declared.get(name)
        if tool is None:
            return f"error: there is no tool named {name!r}"
        problem = argument_problem(name, tool.parameters, arguments)
        if problem is not None:
            return problem
        request = self._request(tool, arguments, identity)
        started = time.monotonic()
        try:
            answer = self.session.send(request, timeout=tool.timeout_seconds, allow_redirects=False, stream=True)
            with answer:
                body = _head(answer, ANSWER_MAX_CHARS * 4)  # a huge answer is not read whole
        except requests.RequestException as exc:  # timeouts and connection errors, sending or reading
            # The exception's text names the URL, which may hold the sender's number: debug only.
            log.debug("tool %s: %r", name, exc)
            raise TransientError(f"tool {name} unreachable: {type(exc).__name__}") from None
        status = answer.status_code
        log.info("tool %s answered %s in %.2f s", name, status, time.monotonic() - started)
        if status == 429 or status >= 500:
            raise TransientError(f"tool {name} answered {status}", retry_after=_retry_after(answer))
        if 200 <= status < 300:
            return _text(answer, body, ANSWER_MAX_CHARS) or f"(the tool answered {status} with no content)"
        if 300 <= status < 400:
            log.warning("tool %s answered a redirect (%s), which is not followed", name, status)
            return f"error: the tool answered {status} (a redirect, not followed)"
        refusal = _text(answer, body, REFUSAL_MAX_CHARS)
        return f"error: the tool answered {status}" + (f": {refusal}" if refusal else "")

    def _request(self, tool: ToolDeclaration, arguments: Mapping[str, Any], identity: Identity
                 ) -> requests.PreparedRequest:
        body = json.dumps(dict(arguments), ensure_ascii=False).encode() if tool.method in BODY_METHODS else b""
        headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.5", "User-Agent": "switchboard-tools/1",
                   **{name: value.get_secret_value() for name, value in tool.headers.items()}}
        if body:
            headers["Content-Type"] = "application/json"
        request = requests.Request(tool.method, tool_url(tool, arguments, identity), headers=headers,
                                   data=body or None).prepare()
        # Last, over the URL exactly as it will be sent: nothing the model or the YAML gives replaces them.
        request.headers.update(sign_request(self.secret, tool.method, request.url or "", body,
                                            identity_headers(identity), now=self.clock()))
        return request


def _head(answer: requests.Response, most_bytes: int) -> bytes:
    read = b""
    for chunk in answer.iter_content(chunk_size=8192):
        read += chunk
        if len(read) >= most_bytes:
            break
    return read[:most_bytes]


def _text(answer: requests.Response, body: bytes, limit: int) -> str:
    # Without a charset requests would guess ISO-8859-1 for text/*; operators' APIs speak UTF-8.
    charset = answer.encoding if "charset" in answer.headers.get("Content-Type", "").lower() else None
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = body.decode("utf-8", errors="replace")
    return text[:limit].strip()


def _retry_after(answer: requests.Response) -> float | None:
    value = answer.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
