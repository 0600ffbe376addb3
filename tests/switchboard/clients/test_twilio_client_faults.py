"""ReplySender against the Twilio stand-in: refused credentials are a configuration fault, 63018 is transient."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from switchboard.clients.twilio_client import ReplySender
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.settings import load_settings
from tests.harness.standins import RunningStandin, start_twilio

BOT, USER = "whatsapp:+14155238886", "whatsapp:+15557654321"


@pytest.fixture(scope="module")
def twilio() -> Iterator[RunningStandin]:
    standin = start_twilio(account_sid="AC" + uuid.uuid4().hex, auth_token=uuid.uuid4().hex)
    yield standin
    standin.stop()


def sender(twilio: RunningStandin, auth_token: str) -> ReplySender:
    return ReplySender.from_settings(load_settings(
        twilio_account_sid=twilio.account_sid, twilio_auth_token=auth_token, twilio_api_base_url=twilio.base_url,
        twilio_timeout_seconds=2, openai_api_key="sk-test", conversation_id_secret="k" * 32,
        sqs_endpoint_url="http://127.0.0.1:1",
    ))


def test_a_rotated_token_is_a_configuration_fault_counted_in_a_metric(
    hermetic_env: pytest.MonkeyPatch, twilio: RunningStandin
) -> None:
    twilio.client.reset()
    before = REGISTRY.get_sample_value("switchboard_twilio_credentials_errors_total") or 0.0

    with pytest.raises(ConfigurationFault, match="TWILIO_AUTH_TOKEN"):
        sender(twilio, uuid.uuid4().hex).send(to=USER, from_=BOT, body="hello")

    assert REGISTRY.get_sample_value("switchboard_twilio_credentials_errors_total") == before + 1
    assert twilio.client.messages() == []


@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_of_our_credentials_is_neither_transient_nor_permanent(
    hermetic_env: pytest.MonkeyPatch, twilio: RunningStandin, status: int
) -> None:
    twilio.client.reset()
    twilio.client.fail(status, twilio_code=20003)

    with pytest.raises(ConfigurationFault) as caught:
        sender(twilio, twilio.auth_token).send(to=USER, from_=BOT, body="hello")
    assert not isinstance(caught.value, (TransientError, PermanentError))


def test_the_whatsapp_rate_limit_63018_is_transient(hermetic_env: pytest.MonkeyPatch, twilio: RunningStandin) -> None:
    twilio.client.reset()
    twilio.client.fail(400, twilio_code=63018)

    with pytest.raises(TransientError):
        sender(twilio, twilio.auth_token).send(to=USER, from_=BOT, body="hello")


def test_the_fetch_endpoint_answers_an_inbound_message_in_twilios_shape(
    hermetic_env: pytest.MonkeyPatch, twilio: RunningStandin
) -> None:
    twilio.client.reset()
    sid = "SM" + uuid.uuid4().hex
    twilio.client.add_inbound(USER, BOT, "hi there", sid=sid)
    replies = sender(twilio, twilio.auth_token)

    found = replies.fetch_message(sid)

    assert found is not None
    assert (found.sid, found.direction, found.from_, found.to, found.body) == (  # type: ignore[attr-defined]
        sid, "inbound", USER, BOT, "hi there")
    assert found.date_sent is not None  # type: ignore[attr-defined]
    assert replies.fetch_message("SM" + uuid.uuid4().hex) is None
