"""The store's transcript fields (issue 11): kept once per media item, never recreating a record, removed with text."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore, HistoryLimits, StoredMessage

Make = Callable[..., InboundMessage]


def accepted(store: ConversationStore, inbound: InboundMessage) -> StoredMessage:
    assert store.accept(inbound) is not None
    message = store.load(inbound.message_sid)
    assert message is not None
    return message


def test_the_first_transcript_of_an_item_is_kept(store: ConversationStore, make_inbound: Make) -> None:
    message = accepted(store, make_inbound(""))

    assert store.record_transcript(message, 0, "first hearing")
    assert not store.record_transcript(message, 0, "second hearing")
    assert store.record_transcript(message, 1, "")  # silence is a transcript too
    assert store.load(message.inbound.message_sid).transcripts == {0: "first hearing", 1: ""}  # type: ignore[union-attr]


def test_a_transcript_never_recreates_an_expired_record(
        store: ConversationStore, make_inbound: Make, redis_client: redis.Redis, key_prefix: str) -> None:
    message = accepted(store, make_inbound(""))
    redis_client.delete(store._msg(message.inbound.message_sid))

    assert not store.record_transcript(message, 0, "too late")
    assert not redis_client.exists(store._msg(message.inbound.message_sid))


def test_a_transcript_goes_with_the_rest_of_the_text_after_the_retention_time(
        redis_client: redis.Redis, key_prefix: str, limits: HistoryLimits, make_inbound: Make) -> None:
    store = ConversationStore(redis_client, key_prefix, limits, text_retention_seconds=600)
    message = accepted(store, make_inbound("", received_at=time.time() - 700))
    store.record_transcript(message, 0, "my passport number is X123")
    store.settle_intake(message, "chat", drop_body=False)
    store.record_answer(message, "noted", turns=[])
    store.mark_replied(message)

    assert store.remove_old_texts(600) == 1
    assert store.load(message.inbound.message_sid).transcripts == {}  # type: ignore[union-attr]
