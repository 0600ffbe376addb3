"""The hand-off's keys on the real Redis: a pause that ends by itself, decided once per message, kept messages, the notice claim."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import redis

from localdev.polling import wait_for
from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore, StoredMessage

Make = Callable[..., InboundMessage]


def accepted(store: ConversationStore, inbound: InboundMessage, intake: str = "chat") -> StoredMessage:
    assert store.accept(inbound) is not None
    message = store.load(inbound.message_sid)
    assert message is not None
    assert store.settle_intake(message, intake, drop_body=False) == intake
    found = store.load(inbound.message_sid)
    assert found is not None
    return found


def test_a_pause_is_recorded_with_who_why_and_when_and_listed_until_its_end(
        store: ConversationStore, make_inbound: Make) -> None:
    message = accepted(store, make_inbound("human", received_at=1000.0), intake="hand-off")
    now = time.time()

    assert store.pause_conversation(message, 600, "command", "the user asked", now) == ("paused", True)

    pause = store.pause_of(message.conversation)
    assert pause is not None
    assert (pause.source, pause.reason, pause.asked_by, pause.from_seq) == (
        "command", "the user asked", message.inbound.message_sid, message.seq)
    assert (pause.since, pause.until) == (now, math.ceil(now + 600))
    assert store.paused_conversations() == [(message.conversation, pause.until)]
    assert store.paused_count() == 1
    assert store.pause_of(message.conversation, now=pause.until) is None  # past its end: none


def test_a_pause_ends_by_itself_and_its_index_entry_is_swept(
        store: ConversationStore, redis_client: redis.Redis, make_inbound: Make) -> None:
    message = accepted(store, make_inbound("human"), intake="hand-off")
    # A pause started 59.x s ago with 60 s to run ends within a second or two (EXPIREAT has whole seconds).
    store.pause_conversation(message, 60, "command", "asked", now=time.time() - 59)
    key = store._pause_key(message.conversation)

    wait_for(lambda: not redis_client.exists(key), timeout=5, message="the pause's key to expire")

    assert store.pause_of(message.conversation) is None
    assert store.paused_count() == 0
    assert store.paused_conversations() == []
    assert redis_client.zcard(store._paused_index(message.conversation)) == 0


def test_a_message_decides_once_so_a_redelivery_after_a_resume_does_not_pause_again(
        store: ConversationStore, make_inbound: Make) -> None:
    first = accepted(store, make_inbound("human"), intake="hand-off")
    second = accepted(store, make_inbound("agent"), intake="hand-off")
    assert store.pause_conversation(first, 600, "command", "asked") == ("paused", True)
    until = store.pause_of(first.conversation).until  # type: ignore[union-attr]

    assert store.pause_conversation(second, 6000, "tool", "other") == ("joined", True)
    assert store.pause_of(first.conversation).until == until  # type: ignore[union-attr]  # not extended
    assert store.end_pause(first.conversation)
    assert store.pause_conversation(first, 600, "command", "asked") == ("paused", False)

    assert store.pause_of(first.conversation) is None
    assert not store.end_pause(first.conversation)


def test_a_message_whose_record_is_gone_pauses_nothing(store: ConversationStore, make_inbound: Make) -> None:
    inbound = make_inbound("human")
    ghost = StoredMessage(inbound=inbound, seq=1)

    assert store.pause_conversation(ghost, 600, "command", "asked") == ("missing", False)
    assert store.pause_of(inbound.conversation_id) is None


def test_the_notice_claim_keeps_the_first_outcome_and_never_recreates_an_ended_pause(
        store: ConversationStore, redis_client: redis.Redis, make_inbound: Make) -> None:
    message = accepted(store, make_inbound("human"), intake="hand-off")
    store.pause_conversation(message, 600, "command", "asked")

    assert store.claim_operator_notice(message.conversation, "sent:1") == "sent:1"
    assert store.claim_operator_notice(message.conversation, "refused:404") == "sent:1"
    assert store.pause_of(message.conversation).notified == "sent:1"  # type: ignore[union-attr]
    store.end_pause(message.conversation)
    assert store.claim_operator_notice(message.conversation, "sent:2") is None
    assert not redis_client.exists(store._pause_key(message.conversation))


def test_kept_messages_are_marked_once_and_found_from_the_pauses_message_on(
        store: ConversationStore, make_inbound: Make) -> None:
    before = accepted(store, make_inbound("earlier"))
    asking = accepted(store, make_inbound("human"), intake="hand-off")
    store.pause_conversation(asking, 600, "command", "asked")
    kept = [accepted(store, make_inbound(text)) for text in ("my order", "is late")]
    store.keep_for_operator([before])  # marked, but before the pause: not this pause's

    assert store.keep_for_operator(kept, now=1234.0) == 2
    assert store.keep_for_operator(kept, now=9999.0) == 0

    assert store.kept_at(kept[0].inbound.message_sid) == 1234.0
    assert store.kept_at(asking.inbound.message_sid) is None
    assert store.kept_since(asking.conversation, asking.seq) == [m.inbound.message_sid for m in kept]


def test_kept_for_operator_is_never_written_on_a_record_that_is_gone(
        store: ConversationStore, redis_client: redis.Redis, make_inbound: Make) -> None:
    message = accepted(store, make_inbound("hello"))
    redis_client.delete(store._msg(message.inbound.message_sid, message.conversation))

    assert store.keep_for_operator([message]) == 0
    assert not redis_client.exists(store._msg(message.inbound.message_sid, message.conversation))


def test_the_operators_turn_joins_the_history_only_while_paused(store: ConversationStore, make_inbound: Make) -> None:
    message = accepted(store, make_inbound("human"), intake="hand-off")
    assert not store.record_operator_turn(message.conversation, "not paused yet")
    store.pause_conversation(message, 600, "command", "asked")

    assert store.record_operator_turn(message.conversation, "Hi, Ana here", now=1500.0)

    assert store.history(message.conversation) == [{"role": "assistant", "content": "Hi, Ana here"}]
    assert store.pause_of(message.conversation).last_said_at == 1500.0  # type: ignore[union-attr]


def test_forgetting_a_conversation_ends_its_pause_and_deletes_what_the_operators_tools_said(
        store: ConversationStore, make_inbound: Make) -> None:
    message = accepted(store, make_inbound("did my registration go through?"))
    store.pause_conversation(message, 600, "tool", "wants a person")
    store.record_tool_step(message.inbound.message_sid, message.conversation, "round:0", '{"status": "confirmed"}')

    store.forget_conversation(message.conversation)

    assert store.pause_of(message.conversation) is None and store.paused_conversations() == []
    assert store.tool_steps(message.inbound.message_sid, message.conversation) == {}
