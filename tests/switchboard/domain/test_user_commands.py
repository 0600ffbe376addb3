"""classify and canned_answer: commands, opt-out keywords and media the bot cannot take, answered without OpenAI."""

from __future__ import annotations

import pytest

from switchboard.domain.inbound import InboundMessage, Location, Media
from switchboard.domain.media import DEFAULT_READABLE
from switchboard.domain.user_commands import (
    HELP_TEXT,
    OPT_IN_TEXT,
    OPT_OUT_TEXT,
    RESET_TEXT,
    UNSUPPORTED_MEDIA_TEXT,
    Command,
    canned_answer,
    classify,
    forget_text,
    opt_keyword,
)

WHATSAPP_USER = "whatsapp:+15551234567"
SMS_USER = "+15551234567"


def message(body: str = "", *, sender: str = WHATSAPP_USER, media: tuple[Media, ...] = (), num_media: int | None = None,
            message_type: str = "", opt_out_type: str = "", **fields: object) -> InboundMessage:
    return InboundMessage(
        message_sid="SM" + "1" * 32, account_sid="AC" + "0" * 32, sender=sender,
        recipient="whatsapp:+15550000000" if sender.startswith("whatsapp:") else "+15550000000", body=body,
        user_id=sender, num_media=len(media) if num_media is None else num_media, media=media,
        message_type=message_type, opt_out_type=opt_out_type, **fields,  # type: ignore[arg-type]
    )


def media(content_type: str) -> Media:
    return Media("https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1", content_type)


@pytest.mark.parametrize("body", ["/reset", "reset", " RESET ", "/new", "/Reset\n"])
def test_it_recognises_reset_in_any_case_and_spacing(body: str) -> None:
    assert classify(message(body)) is Command.RESET


@pytest.mark.parametrize("body", ["/help", "help?", "  /HELP ", "help"])
def test_it_recognises_help_on_whatsapp(body: str) -> None:
    assert classify(message(body)) is Command.HELP


@pytest.mark.parametrize("body", ["hello", "reset my password please", "/resetting", "help me with maths",
                                  "stop the car", "please STOP", "start over", "yes"])
def test_anything_else_is_a_chat_message(body: str) -> None:
    assert classify(message(body)) is Command.CHAT


@pytest.mark.parametrize("body", ["/forget", " /FORGET\n"])
def test_it_recognises_forget(body: str) -> None:
    assert classify(message(body)) is Command.FORGET


def test_forget_is_a_command_only_on_its_own() -> None:
    assert classify(message("forget about it")) is Command.CHAT
    assert classify(message("/forget me please")) is Command.CHAT


# --- opt-out keywords -------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["STOP", "stop", " Stop\n", "STOPALL", "unsubscribe", "Cancel", "END", "quit"])
def test_twilios_opt_out_words_on_whatsapp_opt_out_and_are_ours_to_confirm(body: str) -> None:
    assert classify(message(body)) is Command.OPT_OUT
    assert opt_keyword(message(body)) == opt_keyword(message("STOP"))


@pytest.mark.parametrize("body", ["START", "start", " Unstop "])
def test_start_and_unstop_on_whatsapp_opt_back_in(body: str) -> None:
    assert classify(message(body)) is Command.OPT_IN


def test_yes_on_whatsapp_is_an_answer_not_an_opt_in() -> None:
    assert opt_keyword(message("YES")) is None


@pytest.mark.parametrize(("body", "change"), [("STOP", "out"), ("quit", "out"), ("START", "in"), ("yes", "in"),
                                              ("UNSTOP", "in"), ("HELP", "help"), ("info", "help")])
def test_sms_keywords_are_answered_by_twilio_never_by_us(body: str, change: str) -> None:
    keyword = opt_keyword(message(body, sender=SMS_USER))

    assert keyword is not None and keyword.change == change and keyword.answered_by_twilio
    assert classify(message(body, sender=SMS_USER)) is Command.TWILIO_ANSWERED


@pytest.mark.parametrize(("opt_out_type", "change"), [("STOP", "out"), ("START", "in"), ("HELP", "help")])
def test_twilios_opt_out_type_decides_on_any_channel(opt_out_type: str, change: str) -> None:
    # Advanced Opt-Out matches the keywords the Messaging Service defines (say "ARRET"), and covers WhatsApp too.
    for sender in (SMS_USER, WHATSAPP_USER):
        keyword = opt_keyword(message("ARRET", sender=sender, opt_out_type=opt_out_type))

        assert keyword is not None and keyword.change == change and keyword.answered_by_twilio
        assert classify(message("ARRET", sender=sender, opt_out_type=opt_out_type)) is Command.TWILIO_ANSWERED


def test_an_ordinary_sms_is_no_keyword() -> None:
    assert opt_keyword(message("stop the car", sender=SMS_USER)) is None
    assert classify(message("/help", sender=SMS_USER)) is Command.HELP


# --- media ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["audio/ogg", "audio/ogg; codecs=opus", "image/jpeg", "application/pdf"])
def test_voice_notes_photos_and_pdfs_go_to_the_model(content_type: str) -> None:
    assert classify(message(media=(media(content_type),))) is Command.CHAT


@pytest.mark.parametrize("content_type", ["video/mp4", "text/vcard", "application/msword",
                                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document"])
def test_media_the_bot_cannot_take_get_the_polite_answer(content_type: str) -> None:
    assert classify(message(media=(media(content_type),))) is Command.UNSUPPORTED_MEDIA


@pytest.mark.parametrize(("message_type", "content_type"), [("sticker", "image/webp"), ("video", "video/mp4"),
                                                            ("contacts", "text/vcard")])
def test_stickers_videos_and_contacts_are_not_taken_whatever_their_content_type(
        message_type: str, content_type: str) -> None:
    assert classify(message(media=(media(content_type),), message_type=message_type)) is Command.UNSUPPORTED_MEDIA


def test_a_pdf_document_is_read_and_another_document_is_not() -> None:
    assert classify(message(media=(media("application/pdf"),), message_type="document")) is Command.CHAT
    assert classify(message(media=(media("application/zip"),), message_type="document")) is Command.UNSUPPORTED_MEDIA


def test_one_readable_item_among_others_is_enough_to_answer() -> None:
    assert classify(message(media=(media("video/mp4"), media("image/png")))) is Command.CHAT


def test_a_caption_is_answered_even_beside_media_the_bot_cannot_take() -> None:
    assert classify(message("what is in this video?", media=(media("video/mp4"),))) is Command.CHAT


def test_the_readable_set_comes_from_the_caller() -> None:
    only_images = frozenset({"image/jpeg"})

    assert classify(message(media=(media("audio/ogg"),)), only_images) is Command.UNSUPPORTED_MEDIA
    assert classify(message(media=(media("audio/ogg"),)), DEFAULT_READABLE) is Command.CHAT


def test_a_record_from_before_media_urls_were_kept_gets_the_polite_answer() -> None:
    assert classify(message(num_media=2)) is Command.UNSUPPORTED_MEDIA


def test_locations_and_button_taps_go_to_the_model() -> None:
    assert classify(message(location=Location(52.37, 4.89), message_type="location")) is Command.CHAT
    assert classify(message(button_payload="opt-2", message_type="interactive")) is Command.CHAT


def test_an_empty_message_with_nothing_at_all_gets_help() -> None:
    assert classify(message("")) is Command.HELP
    assert classify(message("  ", message_type="text")) is Command.HELP


# --- fixed answers ----------------------------------------------------------------------------------

def test_commands_have_fixed_answers_and_chat_has_none() -> None:
    assert canned_answer(Command.RESET) == RESET_TEXT
    assert canned_answer(Command.HELP) == HELP_TEXT
    assert canned_answer(Command.UNSUPPORTED_MEDIA) == UNSUPPORTED_MEDIA_TEXT
    assert canned_answer(Command.OPT_OUT) == OPT_OUT_TEXT
    assert canned_answer(Command.OPT_IN) == OPT_IN_TEXT
    assert canned_answer(Command.CHAT) is None


def test_opted_out_users_and_twilios_keywords_get_nothing() -> None:
    assert canned_answer(Command.OPTED_OUT) == ""
    assert canned_answer(Command.TWILIO_ANSWERED) == ""
    assert canned_answer(Command.IGNORED) == ""


def test_records_stored_with_the_old_media_only_result_still_load_and_get_the_new_answer() -> None:
    assert Command("media-only") is Command.MEDIA_ONLY
    assert canned_answer(Command.MEDIA_ONLY) == UNSUPPORTED_MEDIA_TEXT


def test_the_stop_confirmation_keeps_the_value_delivery_recognises() -> None:
    assert Command.OPT_OUT.value == "opt-out"


def test_the_polite_media_answer_says_what_the_bot_can_take() -> None:
    for what in ("text", "voice notes", "photos", "PDFs", "location"):
        assert what in UNSUPPORTED_MEDIA_TEXT


def test_help_says_what_the_bot_can_take_and_every_command() -> None:
    for what in ("voice note", "photo", "PDF", "location", "/reset", "/forget", "/help", "STOP", "START"):
        assert what in HELP_TEXT


def test_the_opt_out_confirmation_says_how_to_come_back() -> None:
    assert "START" in OPT_OUT_TEXT


def test_limits_and_flags_have_fixed_polite_answers() -> None:
    for command in (Command.OVER_BUDGET, Command.SENDER_CAP, Command.FLAGGED, Command.FORGET,
                    Command.UNSUPPORTED_MEDIA, Command.OPT_OUT, Command.OPT_IN):
        text = canned_answer(command)
        assert text and text[0].isupper() and text.endswith((".", "?"))


def test_the_forget_answer_lists_what_was_deleted() -> None:
    text = forget_text({"messages": 3, "conversation turns": 6})

    assert "3 messages, 6 conversation turns" in text
