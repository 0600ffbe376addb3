"""The hand-off webhook against a real local HTTP server: the JSON it POSTs, and which answers are worth retrying."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchboard.clients.handoff_webhook import HandoffNotice, HandoffWebhook
from switchboard.errors import PermanentError, TransientError
from switchboard.tools.signing import verify_signature

NOTICE = HandoffNotice(
    conversation="c0ffee", user_id="15551234567", sender="whatsapp:+15551234567", bot_number="whatsapp:+15550000000",
    channel="whatsapp", source="tool", reason="wants a refund", message_sid="SM" + "1" * 32,
    paused_at=1_764_000_000.0, pause_ends_at=1_764_014_400.0, recent_messages=["my order", "refund please"])


def test_it_posts_the_notice_as_json(httpserver: HTTPServer) -> None:
    received: list[Request] = []

    def handler(request: Request) -> Response:
        received.append(request)
        return Response("", status=204)

    httpserver.expect_request("/handoff", method="POST").respond_with_handler(handler)

    HandoffWebhook(httpserver.url_for("/handoff"), secret=None).notify(NOTICE)

    [request] = received
    assert request.headers["Content-Type"] == "application/json"
    assert "X-Switchboard-Signature" not in request.headers  # no OPERATOR_SIGNING_SECRET: unsigned
    assert json.loads(request.get_data()) == {
        "event": "handoff", "conversation": "c0ffee", "user_id": "15551234567", "sender": "whatsapp:+15551234567",
        "bot_number": "whatsapp:+15550000000", "channel": "whatsapp", "source": "tool", "reason": "wants a refund",
        "message_sid": "SM" + "1" * 32, "paused_at": "2025-11-24T16:00:00+00:00",
        "pause_ends_at": "2025-11-24T20:00:00+00:00", "recent_messages": ["my order", "refund please"],
        "reply_with": 'switchboard say c0ffee "..."'}


def test_with_a_secret_it_is_signed_like_a_tool_call_and_carries_the_identity_headers(httpserver: HTTPServer) -> None:
    received: list[Request] = []

    def handler(request: Request) -> Response:
        received.append(request)
        return Response("", status=200)

    httpserver.expect_request("/handoff", method="POST").respond_with_handler(handler)
    url = httpserver.url_for("/handoff")

    HandoffWebhook(url, secret=b"s3cret").notify(NOTICE)

    [request] = received
    headers, body = dict(request.headers), request.get_data()
    assert verify_signature(b"s3cret", "POST", url, headers, body)
    assert not verify_signature(b"other", "POST", url, headers, body)
    assert not verify_signature(b"s3cret", "POST", url, headers, body.replace(b"+15551234567", b"+15559999999"))
    assert (headers["X-Switchboard-Sender"], headers["X-Switchboard-Conversation"]) == (
        "whatsapp:+15551234567", "c0ffee")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_5xx_or_429_is_transient(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/handoff").respond_with_data("busy", status=status, headers={"Retry-After": "7"})

    with pytest.raises(TransientError) as raised:
        HandoffWebhook(httpserver.url_for("/handoff"), secret=None).notify(NOTICE)
    assert raised.value.retry_after == 7.0


@pytest.mark.parametrize("status", [400, 401, 404, 302])
def test_a_4xx_or_a_redirect_is_permanent_and_carries_the_status(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/handoff").respond_with_data("no", status=status, headers={"Location": "/elsewhere"})

    with pytest.raises(PermanentError) as raised:
        HandoffWebhook(httpserver.url_for("/handoff"), secret=None).notify(NOTICE)
    assert raised.value.code == status


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers (the kernel's backlog accepts for us)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/handoff"


def test_an_endpoint_that_does_not_answer_in_time_is_transient(silent_server: str) -> None:
    with pytest.raises(TransientError, match="unreachable: ReadTimeout"):
        HandoffWebhook(silent_server, secret=None, timeout=(1.0, 0.2)).notify(NOTICE)


def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError, match="unreachable"):
        HandoffWebhook(f"http://127.0.0.1:{port}/handoff", secret=None).notify(NOTICE)
