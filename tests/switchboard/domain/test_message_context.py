"""What the model reads of a message beyond its Body: location, button, ad, and the message it quotes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from switchboard.domain.inbound import InboundMessage, Location
from switchboard.domain.message_context import describe, quoted_text
from switchboard.store import ConversationStore

Make = Callable[..., InboundMessage]


def test_a_location_becomes_a_note_with_its_name_and_coordinates(make_inbound: Make) -> None:
    inbound = replace(make_inbound(""), location=Location(52.52, 13.405, "Unter den Linden 1, Berlin", "Office"))

    assert describe(inbound) == ("[The user shared a location: Office, Unter den Linden 1, Berlin "
                                 "(latitude 52.520000, longitude 13.405000)]")


def test_a_tapped_button_is_said_once_with_its_payload(make_inbound: Make) -> None:
    inbound = replace(make_inbound("Yes, register me"), button_text="Yes, register me", button_payload="register")

    assert describe(inbound) == '[The user tapped the option "Yes, register me" (option id: register)]'


def test_an_ad_referral_goes_in_before_the_users_words(make_inbound: Make) -> None:
    inbound = replace(make_inbound("Is it free?"),
                      referral=(("ReferralHeadline", "Register for the new season"),
                                ("ReferralSourceUrl", "https://fb.me/ad")))

    assert describe(inbound) == ("[The user opened this chat from an ad (headline: Register for the new season; "
                                 "link: https://fb.me/ad)]\nIs it free?")


def test_a_quoted_part_of_our_answer_is_found_from_its_delivery_record(
        store: ConversationStore, make_inbound: Make) -> None:
    asked = make_inbound("what documents?")
    store.accept(asked)
    stored = store.load(asked.message_sid)
    assert stored is not None
    store.record_answer(stored, "Bring your passport.", turns=[])
    store.record_part_sent(stored, 0, "SM" + "b" * 32)

    assert quoted_text(store, None, "SM" + "b" * 32) == "Bring your passport."
    assert describe(make_inbound("and a photo?"), quoted="Bring your passport.") == (
        '[Replying to: "Bring your passport."]\nand a photo?')


def test_a_quoted_message_of_the_users_own_is_read_from_its_record(store: ConversationStore, make_inbound: Make) -> None:
    own = make_inbound("I registered on Monday")
    store.accept(own)

    assert quoted_text(store, None, own.message_sid) == "I registered on Monday"


def test_a_quote_nobody_can_read_is_left_out(store: ConversationStore) -> None:
    assert quoted_text(store, None, "SM" + "c" * 32) == ""
