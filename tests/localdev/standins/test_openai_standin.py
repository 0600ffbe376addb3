"""The OpenAI stand-in, driven through the real openai SDK and, for the wire format, plain HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import requests

from localdev.polling import wait_for
from tests.harness.standins import RunningStandin, openai_sdk, start_openai

CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": "first answer"},
    {"role": "user", "content": "hi"},
]


def ask(sdk: openai.OpenAI, text: str = "hi") -> str:
    response = sdk.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": text}])
    return str(response.choices[0].message.content)


def test_it_echoes_the_last_user_message_as_a_chat_completion(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.create(model="gpt-test", messages=CONVERSATION, max_completion_tokens=50)  # type: ignore[arg-type]

    choice = response.choices[0]
    assert (choice.message.role, choice.message.content, choice.finish_reason) == ("assistant", "echo: hi", "stop")
    assert response.object == "chat.completion" and response.id.startswith("chatcmpl-")
    assert response.model == "gpt-test"
    assert response.usage is not None and response.usage.total_tokens > 0
    assert response._request_id is not None and response._request_id.startswith("req_")


def test_it_records_the_full_request_the_model_saw(sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    sdk.chat.completions.create(model="gpt-test", messages=CONVERSATION, max_completion_tokens=50)  # type: ignore[arg-type]

    [body] = openai_standin.client.requests()
    assert body["messages"] == CONVERSATION
    assert (body["model"], body["max_completion_tokens"]) == ("gpt-test", 50)


def test_an_injected_429_raises_rate_limit_error_with_retry_after(
    sdk: openai.OpenAI, openai_standin: RunningStandin
) -> None:
    openai_standin.client.fail(429, retry_after=3)

    with pytest.raises(openai.RateLimitError) as caught:
        ask(sdk)
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.code == "rate_limit_exceeded"
    assert ask(sdk) == "echo: hi"


@pytest.mark.parametrize("status", [500, 503])
def test_an_injected_5xx_raises_internal_server_error(
    sdk: openai.OpenAI, openai_standin: RunningStandin, status: int
) -> None:
    openai_standin.client.fail(status)

    with pytest.raises(openai.InternalServerError) as caught:
        ask(sdk)
    assert caught.value.status_code == status


def test_a_stall_longer_than_the_client_timeout_raises_api_timeout_error(openai_standin: RunningStandin) -> None:
    openai_standin.client.stall(5)
    started = time.monotonic()

    with pytest.raises(openai.APITimeoutError):
        ask(openai_sdk(openai_standin, timeout=0.5))
    assert time.monotonic() - started < 3
    wait_for(openai_standin.client.requests, timeout=2, message="the stalled request to be recorded")


def test_faults_apply_in_the_order_they_were_added(sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    openai_standin.client.fail(429)
    openai_standin.client.set_reply("a fixed answer")

    with pytest.raises(openai.RateLimitError):
        ask(sdk)
    assert ask(sdk) == "a fixed answer"
    assert ask(sdk, "again") == "echo: again"
    assert openai_standin.client.faults() == []


def test_a_forced_long_reply_has_the_length_paragraphs_and_sentences(
    sdk: openai.OpenAI, openai_standin: RunningStandin
) -> None:
    openai_standin.client.set_reply_length(4000)

    answer = ask(sdk)

    assert len(answer) == 4000 and answer == answer.strip() and answer.endswith(".")
    assert answer.count("\n\n") >= 5 and answer.count(". ") >= 30


@pytest.fixture
def offline_standin() -> Iterator[RunningStandin]:
    standin = start_openai(offline=True)
    yield standin
    standin.stop()


def test_offline_mode_says_plainly_it_is_offline(offline_standin: RunningStandin) -> None:
    answer = ask(openai_sdk(offline_standin), "what is the weather?")

    assert answer.startswith("(offline mode: no OPENAI_API_KEY is set")
    assert answer.endswith("You said: what is the weather?")


def test_it_rejects_a_request_without_an_api_key_in_openais_error_shape(openai_standin: RunningStandin) -> None:
    response = requests.post(
        f"{openai_standin.base_url}/v1/chat/completions", json={"model": "m", "messages": []}, timeout=5
    )

    assert response.status_code == 401
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_it_answers_a_list_of_content_parts(sdk: openai.OpenAI) -> None:
    parts = [{"type": "text", "text": "hello "}, {"type": "text", "text": "there"}]
    messages: list[Any] = [{"role": "user", "content": parts}]
    response = sdk.chat.completions.create(model="gpt-test", messages=messages)

    assert response.choices[0].message.content == "echo: hello there"


# --- moderations ---------------------------------------------------------------------------------------


def test_moderation_answers_in_openais_shape_unflagged_by_default(sdk: openai.OpenAI) -> None:
    response = sdk.moderations.create(model="omni-moderation-latest", input="How do I bake bread?")

    [result] = response.results
    assert response.id.startswith("modr-") and response.model == "omni-moderation-latest"
    assert result.flagged is False and result.categories.violence is False
    assert result.categories.self_harm_intent is False and result.category_scores.harassment_threatening < 0.01
    assert result.category_applied_input_types.violence == ["text"]


def test_a_flagged_phrase_is_flagged_in_its_category(sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    requests.post(f"{openai_standin.base_url}/_standin/flag",
                  json={"phrase": "Hurt Someone", "category": "harassment/threatening"}, timeout=5).raise_for_status()

    response = sdk.moderations.create(input=["I will hurt someone", "hello"])

    flagged, clean = response.results
    assert flagged.flagged and flagged.categories.harassment_threatening
    assert not flagged.categories.hate and flagged.category_scores.harassment_threatening > 0.9
    assert not clean.flagged
    assert [body["input"] for body in requests.get(
        f"{openai_standin.base_url}/_standin/moderations", timeout=5).json()["moderations"]] == [
        ["I will hurt someone", "hello"]]


def test_a_moderation_fault_raises_the_sdks_error(sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    openai_standin.client.fail(500, endpoint="moderate")

    with pytest.raises(openai.InternalServerError):
        sdk.moderations.create(input="hi")
    assert ask(sdk) == "echo: hi"  # the fault was aimed at moderation only


def test_an_unknown_moderation_category_is_refused(openai_standin: RunningStandin) -> None:
    response = requests.post(f"{openai_standin.base_url}/_standin/flag",
                             json={"phrase": "x", "category": "rudeness"}, timeout=5)

    assert response.status_code == 400


def test_a_refusal_comes_back_in_the_refusal_field_with_no_content(
    sdk: openai.OpenAI, openai_standin: RunningStandin
) -> None:
    requests.post(f"{openai_standin.base_url}/_standin/refuse", json={"refusal": "I can't help with that."},
                  timeout=5).raise_for_status()

    refused = sdk.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "bad"}])
    assert (refused.choices[0].message.content, refused.choices[0].message.refusal) == (
        None, "I can't help with that.")
    assert ask(sdk) == "echo: hi"
