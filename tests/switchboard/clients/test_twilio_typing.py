"""The typing indicator against the Twilio stand-in over HTTP: shown off the calling thread, never raising."""

from __future__ import annotations

import time
import uuid

import pytest
from prometheus_client import REGISTRY
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from localdev.polling import wait_for
from switchboard.clients import twilio_typing
from switchboard.clients.twilio_client import ReplySender
from switchboard.clients.twilio_typing import TypingIndicator
from switchboard.settings import load_settings
from tests.harness.standins import RunningStandin

USER, BOT = "whatsapp:+15557654321", "whatsapp:+14155238886"
INBOUND_SID = "SM" + "ab" * 16


def indicator(standin: RunningStandin, timeout: float = 2, enabled: bool = True) -> TypingIndicator:
    client = Client(standin.account_sid, standin.auth_token, http_client=TwilioHttpClient(timeout=timeout,
                                                                                            max_retries=0))
    client.messaging.base_url = standin.base_url
    return TypingIndicator(client, enabled=enabled)


def typing_calls(standin: RunningStandin) -> list[dict[str, object]]:
    return [r for r in standin.client.requests() if r["path"] == "/v2/Indicators/Typing.json"]


def outcomes(outcome: str) -> float:
    return REGISTRY.get_sample_value("switchboard_typing_indicators_total", {"outcome": outcome}) or 0.0


def test_from_settings_sends_twilios_typing_request_to_the_messaging_api_of_the_stand_in(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin
) -> None:
    replies = ReplySender.from_settings(load_settings(
        twilio_account_sid=twilio_standin.account_sid, twilio_auth_token=twilio_standin.auth_token,
        allow_test_auth_token=True, twilio_api_base_url=twilio_standin.base_url, openai_api_key="sk-test",
        sqs_endpoint_url="http://127.0.0.1:1",
    ))
    before = outcomes("shown")

    replies.show_typing(INBOUND_SID)

    [call] = wait_for(lambda: typing_calls(twilio_standin), timeout=10, message="the typing request")
    assert call["method"] == "POST" and call["params"] == {"messageId": INBOUND_SID, "channel": "whatsapp"}
    wait_for(lambda: outcomes("shown") == before + 1, timeout=10, message="the outcome to be counted")


def test_it_returns_before_twilio_answers(twilio_standin: RunningStandin) -> None:
    twilio_standin.client.stall(1.0, endpoint="typing")
    started = time.monotonic()

    future = indicator(twilio_standin).show(INBOUND_SID)

    assert future is not None and not future.done()
    assert time.monotonic() - started < 0.5  # the caller is not the one waiting for Twilio
    assert future.result(timeout=10) == "shown"
    assert future.result() == "shown"


@pytest.mark.parametrize("status", [400, 500])
def test_a_refusal_is_counted_and_never_raised(twilio_standin: RunningStandin, status: int) -> None:
    twilio_standin.client.fail(status, endpoint="typing")
    before = outcomes("refused")

    future = indicator(twilio_standin).show(INBOUND_SID)

    assert future is not None and future.result(timeout=10) == "refused"
    assert outcomes("refused") == before + 1


def test_a_call_slower_than_its_timeout_is_counted_as_unreachable(twilio_standin: RunningStandin) -> None:
    twilio_standin.client.stall(3, endpoint="typing")

    future = indicator(twilio_standin, timeout=0.3).show(INBOUND_SID)

    assert future is not None and future.result(timeout=10) == "unreachable"


def test_switched_off_it_asks_twilio_nothing(twilio_standin: RunningStandin) -> None:
    before = outcomes("off")

    assert indicator(twilio_standin, enabled=False).show(INBOUND_SID) is None

    assert outcomes("off") == before + 1
    assert twilio_standin.client.requests() == []


def test_a_request_that_waited_too_long_for_a_thread_is_dropped(
    twilio_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(twilio_typing, "STALE_AFTER_SECONDS", -1.0)  # any wait for a thread is too long

    future = indicator(twilio_standin).show(INBOUND_SID)

    assert future is not None and future.result(timeout=10) == "stale"
    assert typing_calls(twilio_standin) == []


def test_the_stand_in_refuses_a_typing_request_twilio_would_refuse(twilio_standin: RunningStandin) -> None:
    wrong = Client(twilio_standin.account_sid, uuid.uuid4().hex, http_client=TwilioHttpClient(max_retries=0))
    wrong.messaging.base_url = twilio_standin.base_url
    assert TypingIndicator(wrong).show(INBOUND_SID).result(timeout=10) == "refused"  # type: ignore[union-attr]
    assert indicator(twilio_standin).show("not-a-sid").result(timeout=10) == "refused"  # type: ignore[union-attr]

