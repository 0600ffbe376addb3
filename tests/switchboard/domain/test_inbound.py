"""InboundMessage.from_twilio_form, conversation ids, and masking phone numbers for logs."""

from __future__ import annotations

import hashlib

import pytest

from switchboard.domain.inbound import MAX_BODY_CHARS, InboundMessage, MalformedMessage, mask_phone

KEY = b"k" * 32

FORM = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": "AC" + "2" * 32,
    "From": "whatsapp:+15551234567",
    "To": "whatsapp:+15550000000",
    "Body": "Hello",
    "NumMedia": "0",
}


def parsed(key: bytes = KEY, **changes: str) -> InboundMessage:
    return InboundMessage.from_twilio_form({**FORM, **changes}, conversation_key=key)


def test_it_reads_the_fields_the_pipeline_uses() -> None:
    message = InboundMessage.from_twilio_form(FORM, received_at=123.0, conversation_key=KEY)

    assert (message.message_sid, message.sender, message.recipient, message.body) == (
        FORM["MessageSid"], FORM["From"], FORM["To"], "Hello")
    assert (message.account_sid, message.num_media, message.received_at) == (FORM["AccountSid"], 0, 123.0)


@pytest.mark.parametrize("name", ["From", "MessageSid", "AccountSid"])
def test_a_form_without_from_message_sid_or_account_sid_is_malformed(name: str) -> None:
    form = {k: v for k, v in FORM.items() if k != name}

    with pytest.raises(MalformedMessage, match=name):
        InboundMessage.from_twilio_form(form, conversation_key=KEY)


@pytest.mark.parametrize("sid", ["SM" + "a" * 32, "MM" + "0123456789abcdef" * 2])
def test_sms_and_media_message_sids_in_twilios_shape_are_accepted(sid: str) -> None:
    assert parsed(MessageSid=sid).message_sid == sid


@pytest.mark.parametrize("sid", [
    "SM" + "1" * 32 + "NumMedia0",  # a field shifted into the sid: signs like the original request
    "SM" + "1" * 31, "SM" + "1" * 33, "SM" + "A" * 32, "MG" + "1" * 32, "sm" + "1" * 32,
    " SM" + "1" * 32, "SM" + "1" * 16 + " " + "1" * 15, "SM" + "1" * 32 + "\n", "SM" + "1" * 200,
])
def test_a_message_sid_not_in_twilios_shape_is_malformed(sid: str) -> None:
    with pytest.raises(MalformedMessage, match="MessageSid"):
        parsed(MessageSid=sid)


@pytest.mark.parametrize("account", ["AC" + "2" * 31, "AC" + "2" * 32 + "Body", "AC" + "F" * 32, "XX" + "2" * 32])
def test_an_account_sid_not_in_twilios_shape_is_malformed(account: str) -> None:
    with pytest.raises(MalformedMessage, match="AccountSid"):
        parsed(AccountSid=account)


def test_a_blank_from_counts_as_missing() -> None:
    with pytest.raises(MalformedMessage, match="From"):
        parsed(From="   ")


def test_a_non_numeric_num_media_is_malformed() -> None:
    with pytest.raises(MalformedMessage, match="NumMedia"):
        parsed(NumMedia="lots")


def test_the_user_id_prefers_wa_id_then_external_user_id_then_from() -> None:
    assert parsed(ExternalUserId="ext-1", WaId="15551234567").user_id == "15551234567"
    assert parsed(ExternalUserId="ext-1").user_id == "ext-1"
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


def test_the_conversation_id_is_keyed_so_numbers_cannot_be_guessed_back_out_of_it() -> None:
    unkeyed = hashlib.sha256(f"{FORM['To']}|{FORM['From']}".encode()).hexdigest()[:24]

    assert parsed().conversation_id != unkeyed  # what anyone could compute from a guessed number
    assert parsed(key=b"another-secret" * 3).conversation_id != parsed().conversation_id


def test_the_conversation_id_survives_the_round_trip_through_redis_fields() -> None:
    message = parsed()

    assert InboundMessage.from_fields(message.to_fields()).conversation_id == message.conversation_id


def test_a_record_stored_before_keyed_ids_keeps_the_id_its_conversation_keys_use() -> None:
    fields = parsed().to_fields()
    del fields["conversation"]

    legacy = hashlib.sha256(f"{FORM['To']}|{FORM['From']}".encode()).hexdigest()[:24]
    assert InboundMessage.from_fields(fields).conversation_id == legacy


def test_the_body_is_truncated_to_max_body_chars() -> None:
    assert parsed(Body="x" * (MAX_BODY_CHARS + 500)).body == "x" * MAX_BODY_CHARS


def test_a_message_survives_the_round_trip_through_redis_fields() -> None:
    message = parsed(NumMedia="2", MediaUrl0="https://api.twilio.com/m/ME1", MediaContentType0="image/jpeg",
                     MediaUrl1="https://api.twilio.com/m/ME2", MediaContentType1="audio/ogg",
                     Latitude="52.52", Longitude="13.405", Address="Unter den Linden", Label="Office",
                     ButtonText="Yes", ButtonPayload="confirm", ReferralHeadline="Register now",
                     OriginalRepliedMessageSid="SM" + "a" * 32, ProfileName="Ada", MessageType="Image")

    assert InboundMessage.from_fields(message.to_fields()) == message


def test_mask_phone_keeps_the_channel_and_hides_the_middle() -> None:
    assert mask_phone("whatsapp:+15551234567") == "whatsapp:+1555***67"
    assert mask_phone("+15551234567") == "+1555***67"


def test_mask_phone_hides_short_values_entirely() -> None:
    assert mask_phone("12345") == "***"
    assert mask_phone("sms:12345") == "sms:***"


# --- what WhatsApp carries beyond the Body (issue 11) -------------------------------------------------

def test_a_voice_note_keeps_its_media_url_and_type_and_has_no_body() -> None:
    message = parsed(Body="", NumMedia="1", MessageType="audio", MediaContentType0="audio/ogg",
                     MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")

    assert message.body == "" and message.message_type == "audio"
    assert [(m.url, m.content_type, m.kind) for m in message.media] == [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "audio/ogg", "audio")]


def test_every_one_of_several_images_is_kept_in_order() -> None:
    media = {f"MediaUrl{i}": f"https://api.twilio.com/m/ME{i}" for i in range(3)}
    types = {f"MediaContentType{i}": "image/jpeg" for i in range(3)}

    message = parsed(NumMedia="3", **media, **types)

    assert [m.url for m in message.media] == [f"https://api.twilio.com/m/ME{i}" for i in range(3)]


@pytest.mark.parametrize("changes", [
    {"NumMedia": "11"},
    {"NumMedia": "1"},  # no MediaUrl0
    {"NumMedia": "1", "MediaUrl0": "file:///etc/passwd"},
    {"Latitude": "north", "Longitude": "1"},
    {"Latitude": "91", "Longitude": "0"},
])
def test_impossible_media_or_location_fields_are_malformed(changes: dict[str, str]) -> None:
    with pytest.raises(MalformedMessage):
        parsed(**changes)


def test_a_location_button_quote_ad_and_profile_name_are_read() -> None:
    message = parsed(Latitude="-33.8688", Longitude="151.2093", Address="Sydney NSW", Label="Opera House",
                     ButtonText="Yes", ButtonPayload="confirm-1", OriginalRepliedMessageSid="SM" + "a" * 32,
                     ReferralHeadline="Sign up", ReferralSourceUrl="https://fb.me/x", ProfileName="Ada",
                     OptOutType="stop")

    assert message.location is not None
    assert (message.location.latitude, message.location.label) == (-33.8688, "Opera House")
    assert (message.button_text, message.button_payload) == ("Yes", "confirm-1")
    assert message.replied_to_sid == "SM" + "a" * 32
    assert dict(message.referral) == {"ReferralHeadline": "Sign up", "ReferralSourceUrl": "https://fb.me/x"}
    assert (message.profile_name, message.opt_out_type, message.channel) == ("Ada", "STOP", "whatsapp")


def test_a_list_pick_reads_as_a_button_and_a_bad_quoted_sid_is_ignored() -> None:
    message = parsed(ListId="plan-b", ListTitle="Plan B", OriginalRepliedMessageSid="not a sid")

    assert (message.button_text, message.button_payload, message.replied_to_sid) == ("Plan B", "plan-b", "")


def test_an_sms_sender_is_on_the_sms_channel() -> None:
    assert parsed(From="+15551234567", To="+15550000000").channel == "sms"


def test_a_sender_known_only_by_a_username_keeps_it_as_the_user_id() -> None:
    message = parsed(From="whatsapp:ada.lovelace", ExternalUserId="US.13491208655302741918")

    assert message.user_id == "US.13491208655302741918"
