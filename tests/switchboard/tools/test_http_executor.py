"""Declared tools called over real HTTP: the asker's identity signed in headers nobody else sets; outcomes."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from switchboard.errors import TransientError
from switchboard.tools import HttpToolExecutor, Toolbox
from switchboard.tools.http_executor import ANSWER_MAX_CHARS
from switchboard.tools.signing import verify_signature
from tests.switchboard.tools.conftest import ANOTHER_PERSON, ASKER, SECRET, one_tool

PHONE_PARAMETER = "{type: object, properties: {phone: {type: string}}, required: [phone]}"


@pytest.fixture
def seen(httpserver: HTTPServer) -> list[Request]:
    """The requests the server answered, each with its body read."""
    requests: list[Request] = []

    def record(request: Request) -> Response:
        request.get_data()
        requests.append(request)
        return Response(json.dumps({"status": "confirmed"}), content_type="application/json")

    httpserver.expect_request("/status").respond_with_handler(record)
    return requests


def executor_for(toolbox_from: Callable[..., Toolbox], url: str, **options: Any) -> HttpToolExecutor:
    return HttpToolExecutor(toolbox_from(one_tool(url, **options), {"API_TOKEN": "tok-123"}), SECRET)


def test_a_call_carries_the_askers_identity_signed_over_the_request(
        httpserver: HTTPServer, seen: list[Request], toolbox_from: Callable[..., Toolbox]) -> None:
    executor = executor_for(toolbox_from, httpserver.url_for("/status"))

    assert executor.execute("lookup", {}, ASKER) == '{"status": "confirmed"}'

    [request] = seen
    assert (request.headers["X-Switchboard-User-Id"], request.headers["X-Switchboard-Sender"],
            request.headers["X-Switchboard-Conversation"], request.headers["X-Switchboard-Message-Sid"]) == (
        ASKER.user_id, ASKER.sender, ASKER.conversation, ASKER.message_sid)
    assert verify_signature(SECRET, "GET", httpserver.url_for("/status"), dict(request.headers), b"")
    assert not verify_signature(b"another secret", "GET", httpserver.url_for("/status"), dict(request.headers), b"")


def test_a_post_sends_the_arguments_as_a_signed_json_body_and_the_declared_headers(
        httpserver: HTTPServer, seen: list[Request], toolbox_from: Callable[..., Toolbox]) -> None:
    executor = executor_for(toolbox_from, httpserver.url_for("/status"), method="POST", parameters=PHONE_PARAMETER,
                            headers="{Authorization: 'Bearer ${API_TOKEN}'}")

    executor.execute("lookup", {"phone": "+15550001111"}, ASKER)

    [request] = seen
    assert json.loads(request.get_data()) == {"phone": "+15550001111"}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert verify_signature(SECRET, "POST", httpserver.url_for("/status"), dict(request.headers), request.get_data())


def test_a_number_the_model_passes_never_replaces_the_askers_identity(
        httpserver: HTTPServer, seen: list[Request], toolbox_from: Callable[..., Toolbox]) -> None:
    executor = executor_for(toolbox_from, httpserver.url_for("/status"), parameters=PHONE_PARAMETER)

    executor.execute("lookup", {"phone": ANOTHER_PERSON}, ASKER)

    [request] = seen
    assert request.args["phone"] == ANOTHER_PERSON  # only where the operator declared a parameter for it
    assert request.headers["X-Switchboard-User-Id"] == ASKER.user_id
    assert request.headers.getlist("X-Switchboard-User-Id") == [ASKER.user_id]


@pytest.mark.parametrize("arguments", [{"user_id": ANOTHER_PERSON}, {"X-Switchboard-User-Id": ANOTHER_PERSON},
                                       {"sender": "whatsapp:+" + ANOTHER_PERSON}])
def test_an_identity_the_model_adds_as_an_argument_is_refused_and_nothing_is_called(
        httpserver: HTTPServer, seen: list[Request], toolbox_from: Callable[..., Toolbox],
        arguments: dict[str, str]) -> None:
    executor = executor_for(toolbox_from, httpserver.url_for("/status") + "?who={user_id}")

    answer = executor.execute("lookup", arguments, ASKER)

    assert answer.startswith("error: invalid arguments for lookup: Additional properties are not allowed")
    assert "Nothing was called" in answer
    assert seen == []


def test_arguments_off_the_schema_are_answered_with_the_reason_and_call_nothing(
        httpserver: HTTPServer, seen: list[Request], toolbox_from: Callable[..., Toolbox]) -> None:
    executor = executor_for(toolbox_from, httpserver.url_for("/status"), parameters=PHONE_PARAMETER)

    assert executor.execute("lookup", {"phone": 5}, ASKER) == (
        "error: invalid arguments for lookup: phone: 5 is not of type 'string'. Nothing was called.")
    assert executor.execute("lookup", {}, ASKER).startswith("error: invalid arguments for lookup: 'phone' is a required")
    assert seen == []


def test_a_refusal_4xx_is_the_tools_answer_to_the_model(httpserver: HTTPServer,
                                                       toolbox_from: Callable[..., Toolbox]) -> None:
    httpserver.expect_request("/status").respond_with_data("no registration for this number", status=404)

    answer = executor_for(toolbox_from, httpserver.url_for("/status")).execute("lookup", {}, ASKER)

    assert answer == "error: the tool answered 404: no registration for this number"


def test_a_redirect_is_not_followed(httpserver: HTTPServer, toolbox_from: Callable[..., Toolbox]) -> None:
    httpserver.expect_request("/status").respond_with_data("", status=302, headers={"Location": "https://x.example/"})

    answer = executor_for(toolbox_from, httpserver.url_for("/status")).execute("lookup", {}, ASKER)

    assert answer == "error: the tool answered 302 (a redirect, not followed)"
    assert len(httpserver.log) == 1


def test_a_long_answer_is_cut_to_what_the_model_reads(httpserver: HTTPServer,
                                                     toolbox_from: Callable[..., Toolbox]) -> None:
    httpserver.expect_request("/status").respond_with_data("é" * (ANSWER_MAX_CHARS * 3),
                                                           content_type="text/plain")

    answer = executor_for(toolbox_from, httpserver.url_for("/status")).execute("lookup", {}, ASKER)

    assert answer == "é" * ANSWER_MAX_CHARS


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_transient(httpserver: HTTPServer, toolbox_from: Callable[..., Toolbox], status: int) -> None:
    httpserver.expect_request("/status").respond_with_data("down", status=status)

    with pytest.raises(TransientError, match=f"tool lookup answered {status}"):
        executor_for(toolbox_from, httpserver.url_for("/status")).execute("lookup", {}, ASKER)


def test_a_429_is_transient_with_its_retry_after(httpserver: HTTPServer,
                                                 toolbox_from: Callable[..., Toolbox]) -> None:
    httpserver.expect_request("/status").respond_with_data("slow down", status=429, headers={"Retry-After": "7"})

    with pytest.raises(TransientError) as caught:
        executor_for(toolbox_from, httpserver.url_for("/status")).execute("lookup", {}, ASKER)

    assert caught.value.retry_after == 7


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections into its backlog and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield listener.getsockname()[1]


def test_a_tool_that_does_not_answer_in_its_timeout_is_transient(
        silent_port: int, toolbox_from: Callable[..., Toolbox]) -> None:
    executor = executor_for(toolbox_from, f"http://127.0.0.1:{silent_port}/status", timeout=0.3)

    with pytest.raises(TransientError, match="tool lookup unreachable: ReadTimeout"):
        executor.execute("lookup", {}, ASKER)


def test_a_tool_nobody_listens_for_is_transient(toolbox_from: Callable[..., Toolbox]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

    with pytest.raises(TransientError, match="tool lookup unreachable: ConnectionError"):
        executor_for(toolbox_from, f"http://127.0.0.1:{port}/status").execute("lookup", {}, ASKER)


def test_no_header_secret_or_number_reaches_the_logs(httpserver: HTTPServer, seen: list[Request],
                                                     toolbox_from: Callable[..., Toolbox],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    executor = executor_for(toolbox_from, httpserver.url_for("/status"), headers="{Authorization: '${API_TOKEN}'}")

    with caplog.at_level(logging.DEBUG):
        executor.execute("lookup", {}, ASKER)

    assert seen and "tool lookup answered 200" in caplog.text
    assert "tok-123" not in caplog.text and ASKER.user_id not in caplog.text
