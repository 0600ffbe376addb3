"""CompletionClient and ReplySender against real local HTTP servers: answers, and errors sorted for retrying."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from switchboard.clients.openai_client import CompletionClient
from switchboard.clients.twilio_client import ReplySender
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.settings import Settings, load_settings

ACCOUNT_SID = "AC" + "c" * 32
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
COMPLETIONS_PATH = "/v1/chat/completions"
PROMPT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def settings_for(httpserver: HTTPServer, **overrides: object) -> Settings:
    return load_settings(**{
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": "a1b2c3d4" * 4,
        "conversation_id_secret": "k" * 32,
        "twilio_api_base_url": httpserver.url_for("/"),
        "twilio_timeout_seconds": 2,
        "openai_api_key": "sk-test",
        "openai_base_url": httpserver.url_for("/v1"),
        "openai_timeout_seconds": 2,
        **overrides,
    })


@pytest.fixture
def completions(hermetic_env: pytest.MonkeyPatch, httpserver: HTTPServer) -> CompletionClient:
    return CompletionClient.from_settings(settings_for(httpserver))


@pytest.fixture
def replies(hermetic_env: pytest.MonkeyPatch, httpserver: HTTPServer) -> ReplySender:
    return ReplySender.from_settings(settings_for(httpserver))


def chat_completion(content: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-test",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def twilio_message(sid: str) -> dict[str, object]:
    return {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued", "body": "hi", "to": "+15551234567"}


def twilio_error(code: int, status: int = 400) -> dict[str, object]:
    return {"code": code, "message": f"error {code}", "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def send(replies: ReplySender) -> str:
    return replies.send(to="whatsapp:+15551234567", from_="whatsapp:+15550000000", body="hello")


# --- OpenAI ----------------------------------------------------------------------------------------


def test_a_completion_returns_the_assistants_content(completions: CompletionClient, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(COMPLETIONS_PATH, method="POST").respond_with_json(
        chat_completion("  Hello there!  "))

    assert completions.complete(PROMPT) == "Hello there!"
    request, _ = httpserver.log[0]
    assert request.json["messages"] == PROMPT  # type: ignore[index]
    assert request.headers["Authorization"] == "Bearer sk-test"


def test_an_openai_rate_limit_is_transient_with_its_retry_after(
    completions: CompletionClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(COMPLETIONS_PATH).respond_with_json(
        {"error": {"message": "slow down", "type": "rate_limit_exceeded"}}, status=429, headers={"Retry-After": "3"})

    with pytest.raises(TransientError) as caught:
        completions.complete(PROMPT)
    assert caught.value.retry_after == 3.0
    assert len(httpserver.log) == 1  # the SDK does not retry on its own


def test_an_openai_server_error_is_transient(completions: CompletionClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMPLETIONS_PATH).respond_with_json({"error": {"message": "oops"}}, status=500)

    with pytest.raises(TransientError):
        completions.complete(PROMPT)
    assert len(httpserver.log) == 1


def test_an_openai_bad_request_is_permanent(completions: CompletionClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMPLETIONS_PATH).respond_with_json({"error": {"message": "bad model"}}, status=400)

    with pytest.raises(PermanentError) as caught:
        completions.complete(PROMPT)
    assert caught.value.code == 400


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_openai_key_is_a_configuration_fault_not_the_messages(
        completions: CompletionClient, httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request(COMPLETIONS_PATH).respond_with_json(
        {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}, status=status)

    with pytest.raises(ConfigurationFault, match="OPENAI_API_KEY"):
        completions.complete(PROMPT)


def test_an_empty_answer_is_permanent_after_one_call(completions: CompletionClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request(COMPLETIONS_PATH).respond_with_json(chat_completion("  "))

    with pytest.raises(PermanentError, match="empty"):
        completions.complete(PROMPT)
    assert len(httpserver.log) == 1


def test_a_refusal_is_permanent_after_one_call(completions: CompletionClient, httpserver: HTTPServer) -> None:
    refused = chat_completion("")
    refused["choices"][0]["message"] = {  # type: ignore[index]
        "role": "assistant", "content": None, "refusal": "I'm sorry, I can't help with that."}
    httpserver.expect_request(COMPLETIONS_PATH).respond_with_json(refused)

    with pytest.raises(PermanentError, match="refused"):
        completions.complete(PROMPT)
    assert len(httpserver.log) == 1


def test_a_refusal_with_text_beside_it_is_still_a_refusal(
    completions: CompletionClient, httpserver: HTTPServer
) -> None:
    refused = chat_completion("I cannot do that.")
    refused["choices"][0]["message"]["refusal"] = "I cannot do that."  # type: ignore[index]
    httpserver.expect_request(COMPLETIONS_PATH).respond_with_json(refused)

    with pytest.raises(PermanentError, match="refused"):
        completions.complete(PROMPT)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that takes connections (the kernel's backlog) but never answers: a stalled upstream."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_stalled_openai_response_times_out_as_transient(
    hermetic_env: pytest.MonkeyPatch, httpserver: HTTPServer, silent_server: str
) -> None:
    client = CompletionClient.from_settings(
        settings_for(httpserver, openai_base_url=f"{silent_server}/v1", openai_timeout_seconds=0.3))

    with pytest.raises(TransientError, match="APITimeoutError"):
        client.complete(PROMPT)


# --- Twilio ----------------------------------------------------------------------------------------


def test_a_sent_message_returns_twilios_sid(replies: ReplySender, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(MESSAGES_PATH, method="POST").respond_with_json(
        twilio_message("SM" + "d" * 32), status=201)

    assert send(replies) == "SM" + "d" * 32
    request, _ = httpserver.log[0]
    assert request.form.to_dict() == {"To": "whatsapp:+15551234567", "From": "whatsapp:+15550000000", "Body": "hello"}


@pytest.mark.parametrize("status", [429, 503])
def test_twilio_rate_limits_and_outages_are_transient(
    replies: ReplySender, httpserver: HTTPServer, status: int
) -> None:
    httpserver.expect_request(MESSAGES_PATH).respond_with_json(twilio_error(20429, status), status=status)

    with pytest.raises(TransientError):
        send(replies)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("code", [21610, 63016])
def test_twilio_refusals_are_permanent_with_their_code(replies: ReplySender, httpserver: HTTPServer, code: int) -> None:
    httpserver.expect_request(MESSAGES_PATH).respond_with_json(twilio_error(code), status=400)

    with pytest.raises(PermanentError) as caught:
        send(replies)
    assert caught.value.code == code


def test_an_unreachable_twilio_is_transient(hermetic_env: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    replies = ReplySender.from_settings(settings_for(httpserver, twilio_api_base_url="http://127.0.0.1:1"))

    with pytest.raises(TransientError, match="unreachable"):
        send(replies)


def test_with_a_messaging_service_the_form_has_no_from(
    hermetic_env: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    service = "MG" + "e" * 32
    replies = ReplySender.from_settings(settings_for(httpserver, twilio_messaging_service_sid=service))
    httpserver.expect_oneshot_request(MESSAGES_PATH, method="POST").respond_with_json(
        twilio_message("SM" + "f" * 32), status=201)

    assert send(replies) == "SM" + "f" * 32
    request, _ = httpserver.log[0]
    assert request.form["MessagingServiceSid"] == service
    assert "From" not in request.form


def test_with_a_public_base_url_twilio_reports_delivery_to_us(
    hermetic_env: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    replies = ReplySender.from_settings(settings_for(httpserver, public_base_url="https://bot.example"))
    httpserver.expect_oneshot_request(MESSAGES_PATH).respond_with_json(twilio_message("SM" + "1" * 32), status=201)

    send(replies)

    request, _ = httpserver.log[0]
    assert request.form["StatusCallback"] == "https://bot.example/twilio/status"
