"""process_now (direct mode): intake, completion and reply in the caller's thread, through the real SDKs and stand-ins."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from switchboard.domain.conversation import APOLOGY
from switchboard.domain.inbound import InboundMessage
from switchboard.services import Services, get_services
from tests.harness.standins import RunningStandin
from tests.switchboard.conftest import REDIS_URL, USER_NUMBER
from webapp.direct import process_now

Make = Callable[..., InboundMessage]


@pytest.fixture
def services(
    hermetic_env: pytest.MonkeyPatch, key_prefix: str, twilio_standin: RunningStandin, openai_standin: RunningStandin
) -> Iterator[Services]:
    """get_services() as a direct-mode web process builds it, pointed at the stand-ins and this test's keys."""
    for name, value in {
        "PROCESSING_MODE": "direct",
        "TWILIO_ACCOUNT_SID": twilio_standin.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_standin.auth_token,
        "TWILIO_API_BASE_URL": twilio_standin.base_url,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": f"{openai_standin.base_url}/v1",
        "OPENAI_TIMEOUT_SECONDS": "3",
        "TWILIO_TIMEOUT_SECONDS": "3",
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": key_prefix,
        # Direct mode never calls SQS: a closed loopback port (a local run, not AWS) fails any call that tried.
        "SQS_ENDPOINT_URL": "http://127.0.0.1:9",
    }.items():
        hermetic_env.setenv(name, value)
    get_services.cache_clear()
    built = get_services()
    yield built
    built.store.redis.close()
    get_services.cache_clear()


def accepted(services: Services, make_inbound: Make, body: str) -> InboundMessage:
    message = make_inbound(body)
    assert services.store.claim(message).new
    return message


def sent_to_user(twilio: RunningStandin) -> list[str]:
    return [m["body"] for m in twilio.client.messages() if m["to"] == USER_NUMBER]


def test_process_now_answers_through_openai_and_has_sent_the_reply_when_it_returns(
    services: Services, make_inbound: Make, twilio_standin: RunningStandin
) -> None:
    message = accepted(services, make_inbound, "hello")

    assert process_now(get_services(), message.message_sid, message.conversation_id) is True

    assert sent_to_user(twilio_standin) == ["echo: hello"]
    assert services.store.load(message.message_sid).replied  # type: ignore[union-attr]


def test_running_process_now_again_for_the_same_message_asks_and_sends_nothing_more(
    services: Services, make_inbound: Make, twilio_standin: RunningStandin, openai_standin: RunningStandin
) -> None:
    message = accepted(services, make_inbound, "once")
    process_now(get_services(), message.message_sid, message.conversation_id)

    assert process_now(get_services(), message.message_sid, message.conversation_id) is True

    assert sent_to_user(twilio_standin) == ["echo: once"]
    assert len(openai_standin.client.requests()) == 1


def test_when_openai_fails_the_sender_gets_the_apology_within_the_same_call(
    services: Services, make_inbound: Make, twilio_standin: RunningStandin, openai_standin: RunningStandin
) -> None:
    openai_standin.client.fail(500, times=-1)
    message = accepted(services, make_inbound, "are you there?")

    assert process_now(get_services(), message.message_sid, message.conversation_id) is True

    assert sent_to_user(twilio_standin) == [APOLOGY]


def test_when_twilio_cannot_take_the_reply_process_now_says_so_and_the_message_stays_unanswered(
    services: Services, make_inbound: Make, twilio_standin: RunningStandin
) -> None:
    twilio_standin.client.fail(503, times=-1)
    message = accepted(services, make_inbound, "hello")

    assert process_now(get_services(), message.message_sid, message.conversation_id) is False

    assert sent_to_user(twilio_standin) == []
    stored = services.store.load(message.message_sid)
    assert stored is not None and stored.answer == "echo: hello" and not stored.replied


def test_while_another_request_is_answering_the_message_process_now_leaves_it_to_that_request(
    services: Services, make_inbound: Make, twilio_standin: RunningStandin, openai_standin: RunningStandin
) -> None:
    # A Twilio retry of a webhook that is still waiting on OpenAI: that first request holds the answer lease.
    message = accepted(services, make_inbound, "slow one")

    with services.store.lease(message.message_sid, "answer") as token:
        assert token is not None
        assert process_now(get_services(), message.message_sid, message.conversation_id) is False

    assert openai_standin.client.requests() == []
    assert sent_to_user(twilio_standin) == []
