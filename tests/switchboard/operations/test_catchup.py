"""Catch-up rebuilds a message from Twilio's log into the conversation the webhook would have put it in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.clients.twilio_messages import sender_fields
from switchboard.domain.inbound import InboundMessage
from switchboard.operations.catchup import Decision, plan
from switchboard.settings import get_settings
from tests.harness.standins import RunningStandin, twilio_sdk

BOT = "whatsapp:+14155238886"
PHONE_USER = "whatsapp:+15551234567"
# A sender known only by a WhatsApp username: Twilio puts the business-scoped user id where the
# number would be, and sends it again, channel prefix included, as ExternalUserId.
USERNAME_USER = "whatsapp:US.13491208655302741918"


@pytest.fixture
def settings_env(hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin) -> pytest.MonkeyPatch:
    for name, value in {"TWILIO_ACCOUNT_SID": twilio_standin.account_sid, "TWILIO_AUTH_TOKEN": twilio_standin.auth_token,
                        "OPENAI_API_KEY": "sk-test", "CONVERSATION_ID_SECRET": "s" * 32}.items():
        hermetic_env.setenv(name, value)
    get_settings.cache_clear()
    return hermetic_env


def webhook_message(sender: str, **fields: str) -> InboundMessage:
    """The message as the signed webhook posts it (Twilio's own field names)."""
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "c" * 32, "From": sender, "To": BOT,
            "Body": "hello", "NumMedia": "0", **fields}
    return InboundMessage.from_twilio_form(form, conversation_key=get_settings().conversation_key())


def rebuilt_from_twilios_log(standin: RunningStandin, sender: str) -> InboundMessage:
    """What catch-up makes of the same user's message, read from Twilio's Messages list by the real SDK."""
    now = datetime.now(UTC).replace(microsecond=0)
    standin.client.add_inbound(sender, BOT, "missed", date_sent=now - timedelta(seconds=5))
    [candidate] = plan(twilio_sdk(standin), now - timedelta(minutes=1), [BOT])
    assert candidate.decision is Decision.ACCEPT and candidate.message is not None
    return candidate.message


def test_a_phone_user_is_rebuilt_into_the_webhooks_conversation(
        settings_env: pytest.MonkeyPatch, twilio_standin: RunningStandin) -> None:
    webhook = webhook_message(PHONE_USER, WaId="15551234567", ProfileName="Ana")

    rebuilt = rebuilt_from_twilios_log(twilio_standin, PHONE_USER)

    assert rebuilt.user_id == webhook.user_id == "15551234567"
    assert rebuilt.conversation == webhook.conversation


@pytest.mark.parametrize("external_user_id", [{"ExternalUserId": USERNAME_USER}, {}])
def test_a_username_user_is_rebuilt_into_the_webhooks_conversation(
        settings_env: pytest.MonkeyPatch, twilio_standin: RunningStandin, external_user_id: dict[str, str]) -> None:
    # With ExternalUserId (as Twilio sends it) or without (From alone), the webhook's user id is From.
    webhook = webhook_message(USERNAME_USER, ProfileName="ana.k", **external_user_id)

    rebuilt = rebuilt_from_twilios_log(twilio_standin, USERNAME_USER)

    assert rebuilt.user_id == webhook.user_id == USERNAME_USER
    assert rebuilt.conversation == webhook.conversation
    assert rebuilt.sender == USERNAME_USER  # the reply goes back to the same WhatsApp address


def test_a_username_is_never_taken_for_a_wa_id_and_sms_has_neither() -> None:
    assert sender_fields(USERNAME_USER) == {"ExternalUserId": USERNAME_USER}
    assert sender_fields("whatsapp:+15551234567") == {"WaId": "15551234567"}
    assert sender_fields("+15551234567") == {}
