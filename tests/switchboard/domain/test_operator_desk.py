"""The operator's side: the inbox, `say` (inside WhatsApp's 24-hour window only) and `resume`."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from switchboard.domain.answering import AnswerOptions, produce_answer
from switchboard.domain.conversation import run_intake
from switchboard.domain.handoff import HandoffPolicy
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.operator_desk import (
    OPERATOR_TURN_PREFIX,
    CannotSay,
    NotPaused,
    OutsideWindow,
    UnknownConversation,
    inbox,
    kept_texts,
    operator_reply,
    resume,
)
from switchboard.errors import PermanentError
from switchboard.store import ConversationStore
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies

Make = Callable[..., InboundMessage]
SMS_USER, SMS_BOT = "+15557654321", "+15550000000"


def said(store: ConversationStore, inbound: InboundMessage) -> str:
    """Accept, take in and answer one message (through the hand-off's branch when it applies)."""
    assert store.accept(inbound) is not None
    run_intake(store, inbound.message_sid)
    produce_answer(store, FakeCompletions("bot answer"), "Be brief.", inbound.message_sid,  # type: ignore[arg-type]
                   options=AnswerOptions(handoff=HandoffPolicy(600)))
    return inbound.conversation_id


def paused(store: ConversationStore, make_inbound: Make, **contact: str) -> str:
    conversation = said(store, make_inbound("human", **contact))
    said(store, make_inbound("where is my order?", **contact))
    return conversation


def test_the_inbox_lists_each_pause_with_the_messages_kept_since_it_began(
        store: ConversationStore, make_inbound: Make) -> None:
    said(store, make_inbound("hello"))
    conversation = paused(store, make_inbound)

    [entry] = inbox(store)

    assert (entry.pause.conversation, entry.pause.source, entry.sender) == (
        conversation, "command", "whatsapp:+15551234567")
    assert kept_texts(entry) == ["where is my order?"]


def test_say_sends_as_the_bots_number_and_the_bot_knows_it_after_the_pause(
        store: ConversationStore, make_inbound: Make) -> None:
    conversation = paused(store, make_inbound)
    replies = FakeReplies()

    sids = operator_reply(store, replies, conversation, "Hi, Ana here: it ships today.")  # type: ignore[arg-type]

    assert sids == replies.sids
    assert replies.calls == [("whatsapp:+15551234567", "whatsapp:+15550000000", "Hi, Ana here: it ships today.")]
    assert store.history(conversation)[-1] == {
        "role": "assistant", "content": OPERATOR_TURN_PREFIX + "Hi, Ana here: it ships today."}
    assert inbox(store)[0].pause.last_said_at is not None


def test_say_refuses_outside_the_whatsapp_window_and_sends_nothing(
        store: ConversationStore, make_inbound: Make) -> None:
    conversation = paused(store, make_inbound)
    store.set_last_inbound_at(conversation, time.time() - 25 * 3600)
    replies = FakeReplies()

    with pytest.raises(OutsideWindow, match="24-hour window"):
        operator_reply(store, replies, conversation, "hello?")  # type: ignore[arg-type]
    assert replies.calls == []


def test_say_on_sms_has_no_window(store: ConversationStore, make_inbound: Make) -> None:
    conversation = paused(store, make_inbound, sender=SMS_USER, recipient=SMS_BOT)
    store.set_last_inbound_at(conversation, time.time() - 3 * 86400)
    replies = FakeReplies()

    operator_reply(store, replies, conversation, "hello")  # type: ignore[arg-type]

    assert replies.calls == [(SMS_USER, SMS_BOT, "hello")]


def test_say_refuses_a_conversation_that_is_not_paused_or_unknown_or_opted_out(
        store: ConversationStore, make_inbound: Make) -> None:
    replies = FakeReplies()
    answered = said(store, make_inbound("hello"))
    with pytest.raises(NotPaused):
        operator_reply(store, replies, answered, "hi")  # type: ignore[arg-type]
    with pytest.raises(UnknownConversation):
        operator_reply(store, replies, "0" * 24, "hi")  # type: ignore[arg-type]
    conversation = paused(store, make_inbound, sender=SMS_USER, recipient=SMS_BOT)
    store.set_opted_out(conversation, True)
    with pytest.raises(CannotSay, match="opted out"):
        operator_reply(store, replies, conversation, "hi")  # type: ignore[arg-type]
    assert replies.calls == []


def test_a_part_twilio_refused_leaves_only_what_was_sent_in_the_history(
        store: ConversationStore, make_inbound: Make) -> None:
    conversation = paused(store, make_inbound)
    replies = FakeReplies({2: PermanentError("refused", code=21610)})
    long_text = "a" * 1500 + "\n\n" + "b" * 1500

    with pytest.raises(PermanentError):
        operator_reply(store, replies, conversation, long_text)  # type: ignore[arg-type]

    assert store.history(conversation)[-1]["content"] == OPERATOR_TURN_PREFIX + "a" * 1500


def test_resume_hands_back_to_the_bot_which_then_knows_what_the_person_said(
        store: ConversationStore, make_inbound: Make) -> None:
    conversation = paused(store, make_inbound)
    operator_reply(store, FakeReplies(), conversation, "It ships today.")  # type: ignore[arg-type]

    assert resume(store, conversation).conversation == conversation
    assert inbox(store) == []
    with pytest.raises(NotPaused):
        resume(store, conversation)
    inbound = make_inbound("thanks")
    assert store.accept(inbound) is not None
    run_intake(store, inbound.message_sid)
    completions = FakeCompletions("back to you")
    assert produce_answer(store, completions, "Be brief.", inbound.message_sid) == "back to you"  # type: ignore[arg-type]
    [prompt] = completions.calls
    assert {"role": "user", "content": "where is my order?"} in prompt
    assert {"role": "assistant", "content": OPERATOR_TURN_PREFIX + "It ships today."} in prompt
