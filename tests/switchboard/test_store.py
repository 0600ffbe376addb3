"""ConversationStore on the real Redis: sequence numbers, outbox, answers once, bounded history, lifetimes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import redis

from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore, HistoryLimits, StoredMessage
from switchboard.store.shards import shard_of

Make = Callable[..., InboundMessage]


def accepted(store: ConversationStore, message: InboundMessage) -> StoredMessage:
    assert store.accept(message) is not None
    stored = store.load(message.message_sid)
    assert stored is not None
    return stored


def exchange(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_accept_numbers_each_conversations_messages_from_one(store: ConversationStore, make_inbound: Make) -> None:
    seqs = [store.accept(make_inbound(f"m{i}")) for i in range(3)]
    other = store.accept(make_inbound("hi", sender="whatsapp:+15557654321"))

    assert seqs == [1, 2, 3]
    assert other == 1


def test_accept_returns_none_for_a_message_sid_seen_before(store: ConversationStore, make_inbound: Make) -> None:
    message = make_inbound()

    assert store.accept(message) == 1
    assert store.accept(message) is None
    assert store.accept(make_inbound()) == 2


def test_load_gives_back_the_accepted_message(store: ConversationStore, make_inbound: Make) -> None:
    message = make_inbound("What is the time?")
    stored = accepted(store, message)

    assert stored.inbound == message
    assert (stored.seq, stored.answer, stored.replied, stored.sent_parts) == (1, None, False, {})
    assert store.load("SM-never-accepted") is None


def test_accept_puts_the_message_in_the_outbox_until_removed(store: ConversationStore, make_inbound: Make) -> None:
    message = make_inbound()
    store.accept(message)

    assert store.outbox_due(0) == [message.message_sid]
    store.outbox_remove(message.message_sid)
    assert store.outbox_due(0) == []
    assert store.outbox_size() == 0


def test_outbox_due_returns_only_entries_older_than_the_threshold(store: ConversationStore, make_inbound: Make) -> None:
    old, new = make_inbound(), make_inbound()
    store.accept(old, now=time.time() - 120)
    store.accept(new)

    assert store.outbox_due(60) == [old.message_sid]
    assert sorted(store.outbox_due(0)) == sorted([old.message_sid, new.message_sid])


def test_record_answer_stores_the_answer_and_its_turns_once(store: ConversationStore, make_inbound: Make) -> None:
    stored = accepted(store, make_inbound("q"))

    assert store.record_answer(stored, "first", exchange("q", "first")) is True
    assert store.record_answer(stored, "second", exchange("q", "second")) is False
    assert store.load(stored.inbound.message_sid).answer == "first"  # type: ignore[union-attr]
    assert store.history(stored.conversation) == exchange("q", "first")


def test_history_is_trimmed_to_the_newest_turns_by_count(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = ConversationStore(redis_client, key_prefix, HistoryLimits(max_turns=4, max_chars=8000, ttl_seconds=60))
    for i in range(3):
        store.record_answer(accepted(store, make_inbound(f"q{i}")), f"a{i}", exchange(f"q{i}", f"a{i}"))

    assert store.history(make_inbound().conversation_id) == exchange("q1", "a1") + exchange("q2", "a2")


def test_history_is_trimmed_to_the_newest_turns_by_total_characters(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    # Each stored turn is about 130 characters: two fit in 300, three do not.
    store = ConversationStore(redis_client, key_prefix, HistoryLimits(max_turns=20, max_chars=300, ttl_seconds=60))
    for letter in "abc":
        stored = accepted(store, make_inbound(letter * 100))
        store.record_answer(stored, letter.upper() * 100, exchange(letter * 100, letter.upper() * 100))

    assert store.history(make_inbound().conversation_id) == exchange("c" * 100, "C" * 100)


def test_history_characters_are_counted_as_characters_not_utf8_bytes(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    # Two turns of 100 Cyrillic letters are about 270 characters (but 470 UTF-8 bytes): they fit in 300.
    store = ConversationStore(redis_client, key_prefix, HistoryLimits(max_turns=20, max_chars=300, ttl_seconds=60))
    stored = accepted(store, make_inbound("ж" * 100))
    turns = exchange("ж" * 100, "я" * 100)
    assert sum(len(json.dumps(t, ensure_ascii=False)) for t in turns) <= 300

    store.record_answer(stored, "я" * 100, turns)

    assert store.history(stored.conversation) == turns


def test_the_answered_watermark_only_moves_up(store: ConversationStore, make_inbound: Make) -> None:
    first, second = accepted(store, make_inbound("1")), accepted(store, make_inbound("2"))

    store.record_answer(second, "two", [])
    store.record_answer(first, "one", [])

    assert store.answered_upto(first.conversation) == 2


def test_the_replied_watermark_only_moves_up(store: ConversationStore, make_inbound: Make) -> None:
    first, second = accepted(store, make_inbound("1")), accepted(store, make_inbound("2"))

    assert store.mark_replied(second) is True
    assert store.mark_replied(first) is True
    assert store.mark_replied(first) is False

    assert store.replied_upto(first.conversation) == 2
    assert store.load(first.inbound.message_sid).replied is True  # type: ignore[union-attr]


def test_a_sent_part_shows_up_in_sent_parts(store: ConversationStore, make_inbound: Make) -> None:
    stored = accepted(store, make_inbound())

    store.record_part_sent(stored, 0, "SM-out-0")
    store.record_part_sent(stored, 2, "SM-out-2")

    reloaded = store.load(stored.inbound.message_sid)
    assert reloaded is not None and reloaded.sent_parts == {0: "SM-out-0", 2: "SM-out-2"}
    assert store.delivery("SM-out-2")["message_sid"] == stored.inbound.message_sid


def test_every_key_the_store_writes_expires_except_the_outbox(
    store: ConversationStore, redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    stored = accepted(store, make_inbound("q"))
    store.record_intake(stored.inbound.message_sid, "chat")
    store.record_answer(stored, "a", exchange("q", "a"))
    store.record_part_sent(stored, 0, "SM-out")
    store.mark_replied(stored)
    store.count_message_in_window(stored.conversation, 60)
    store.try_relay_lock("me", 5)

    # Names as in the key table: without the prefix, and without the shard's tag ({s12}:) where they have one.
    shard = f"{{s{shard_of(stored.conversation)}}}:"
    ttls = {key.decode().removeprefix(key_prefix).removeprefix(shard): redis_client.ttl(key)
            for key in redis_client.scan_iter(match=key_prefix + "*")}

    conv = f"conv:{stored.conversation}:"
    assert {name for name in ttls if not name.startswith("rate:")} == {
        f"msg:{stored.inbound.message_sid}", f"claim:{stored.inbound.message_sid}", conv + "seq", conv + "answered",
        conv + "replied", conv + "history", conv + "messages", conv + "last-inbound", "outbox", "relay-lock",
        "delivery:SM-out", f"where:{stored.inbound.message_sid}", "where:SM-out"}
    assert ttls.pop("outbox") == -1
    assert all(ttl > 0 for ttl in ttls.values()), ttls


def test_the_last_inbound_time_is_when_the_user_wrote_not_when_we_stored_it(
    store: ConversationStore, make_inbound: Make
) -> None:
    two_days_ago = time.time() - 2 * 86_400
    old = accepted(store, make_inbound("sent during the outage", received_at=two_days_ago))

    assert store.last_inbound_at(old.conversation) == pytest.approx(two_days_ago)
    newer = accepted(store, make_inbound("and now", received_at=two_days_ago + 100))
    accepted(store, make_inbound("rebuilt out of order", received_at=two_days_ago + 50))
    assert store.last_inbound_at(newer.conversation) == pytest.approx(two_days_ago + 100)
