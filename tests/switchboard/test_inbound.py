"""InboundMessage.from_twilio_form, conversation ids, and masking phone numbers for logs."""

from __future__ import annotations

import pytest

from switchboard.inbound import MAX_BODY_CHARS, InboundMessage, MalformedMessage, mask_phone

FORM = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": "AC" + "2" * 32,
    "From": "whatsapp:+15551234567",
    "To": "whatsapp:+15550000000",
    "Body": "Hello",
    "NumMedia": "0",
}


def parsed(**changes: str) -> InboundMessage:
    return InboundMessage.from_twilio_form({**FORM, **changes})


def test_it_reads_the_fields_the_pipeline_uses() -> None:
    message = InboundMessage.from_twilio_form(FORM, received_at=123.0)

    assert (message.message_sid, message.sender, message.recipient, message.body) == (
        FORM["MessageSid"], FORM["From"], FORM["To"], "Hello")
    assert (message.account_sid, message.num_media, message.received_at) == (FORM["AccountSid"], 0, 123.0)


@pytest.mark.parametrize("name", ["From", "MessageSid"])
def test_a_form_without_from_or_message_sid_is_malformed(name: str) -> None:
    form = {k: v for k, v in FORM.items() if k != name}

    with pytest.raises(MalformedMessage, match=name):
        InboundMessage.from_twilio_form(form)


def test_a_blank_from_counts_as_missing() -> None:
    with pytest.raises(MalformedMessage, match="From"):
        parsed(From="   ")


def test_a_non_numeric_num_media_is_malformed() -> None:
    with pytest.raises(MalformedMessage, match="NumMedia"):
        parsed(NumMedia="lots")


def test_the_user_id_prefers_external_user_id_then_wa_id_then_from() -> None:
    assert parsed(ExternalUserId="ext-1", WaId="15551234567").user_id == "ext-1"
    assert parsed(WaId="15551234567").user_id == "15551234567"
    assert parsed().user_id == FORM["From"]


def test_the_conversation_id_is_stable_and_opaque() -> None:
    first, again = parsed(), parsed(MessageSid="SM" + "9" * 32, Body="another")

    assert first.conversation_id == again.conversation_id
    assert len(first.conversation_id) == 24
    assert "5551234567" not in first.conversation_id


def test_the_conversation_id_differs_per_recipient_and_per_user() -> None:
    base = parsed().conversation_id

    assert parsed(To="whatsapp:+15559999999").conversation_id != base
    assert parsed(From="whatsapp:+15557654321").conversation_id != base


def test_the_body_is_truncated_to_max_body_chars() -> None:
    assert parsed(Body="x" * (MAX_BODY_CHARS + 500)).body == "x" * MAX_BODY_CHARS


def test_a_message_survives_the_round_trip_through_redis_fields() -> None:
    message = parsed(NumMedia="2")

    assert InboundMessage.from_fields(message.to_fields()) == message


def test_mask_phone_keeps_the_channel_and_hides_the_middle() -> None:
    assert mask_phone("whatsapp:+15551234567") == "whatsapp:+1555***67"
    assert mask_phone("+15551234567") == "+1555***67"


def test_mask_phone_hides_short_values_entirely() -> None:
    assert mask_phone("12345") == "***"
    assert mask_phone("sms:12345") == "sms:***"
