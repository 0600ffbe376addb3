"""`migrate-keys`: keys written by the store before shards (issue 13) move into their shards, nothing lost."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore

Make = Callable[..., InboundMessage]
DAY = 86_400


def write_old_layout(client: Any, prefix: str, message: InboundMessage, lost: InboundMessage,
                     expired_sid: str) -> None:
    """What the store before shards left in Redis: one message answered and replied, one never queued and
    its record lost, a claim whose record expired long ago, the person's STOP, limits and transient keys."""
    sid, conversation = message.message_sid, message.conversation_id
    def old(name: str) -> str:
        return prefix + name  # no hash tag: the old layout
    client.hset(old(f"msg:{sid}"), mapping={**message.to_fields(), "seq": 1, "answer": "hi there",
                                            "part:0": "SM-out-old", "replied_at": time.time()})
    client.expire(old(f"msg:{sid}"), 7 * DAY)
    client.set(old(f"claim:{sid}"), 1, ex=90 * DAY)
    client.set(old(f"claim:{lost.message_sid}"), 1, ex=90 * DAY)
    client.set(old(f"claim:{expired_sid}"), 3, ex=30 * DAY)
    for what, value in (("seq", 2), ("answered", 1), ("replied", 1)):
        client.set(old(f"conv:{conversation}:{what}"), value, ex=7 * DAY)
    client.rpush(old(f"conv:{conversation}:history"), json.dumps({"role": "user", "content": "hello"}),
                 json.dumps({"role": "assistant", "content": "hi there"}))
    client.zadd(old(f"conv:{conversation}:messages"), {sid: 1})
    client.set(old(f"optout:{conversation}"), time.time())  # no TTL: kept until START
    client.hset(old("delivery:SM-out-old"), mapping={"message_sid": sid, "conversation": conversation, "part": 0})
    client.expire(old("delivery:SM-out-old"), 7 * DAY)
    client.hset(old("budget:minute"), mapping={"tokens": 3, "ts": time.time()})
    client.set(old(f"spend:{conversation}:day:20260101"), 4, ex=DAY)
    client.zadd(old("outbox"), {lost.message_sid: lost.received_at})
    client.zadd(old("unanswered"), {lost.message_sid: lost.received_at})
    client.zadd(old("texts"), {sid: message.received_at})
    client.sadd(old("our-numbers"), message.recipient)
    client.set(old(f"lease:{sid}:reply"), "token", px=5000)
    client.set(old("relay-lock"), "a worker", ex=5)


def old_keys(client: Any, prefix: str) -> list[str]:
    names = [key.decode()[len(prefix):] for key in client.scan_iter(match=prefix + "*")]
    return sorted(name for name in names if not name.startswith(("{", "where:")))


def test_a_dry_run_counts_and_moves_nothing(
    store: ConversationStore, redis_client: Any, key_prefix: str, make_inbound: Make
) -> None:
    message, lost = make_inbound("hello"), make_inbound("never queued")
    write_old_layout(redis_client, key_prefix, message, lost, "SM-expired")
    before = old_keys(redis_client, key_prefix)

    move = store.move_legacy_keys()

    assert move.counts["msg"] == 1 and move.counts["conv"] == 5 and move.counts["optout"] == 1
    assert [sid for sid, _ in move.to_catch_up] == [lost.message_sid]
    assert old_keys(redis_client, key_prefix) == before
    assert store.load(message.message_sid) is None


def test_every_kept_thing_is_found_in_its_shard_after_the_move(
    store: ConversationStore, redis_client: Any, key_prefix: str, make_inbound: Make
) -> None:
    message, lost = make_inbound("hello"), make_inbound("never queued")
    write_old_layout(redis_client, key_prefix, message, lost, "SM-expired")

    move = store.move_legacy_keys(apply=True)

    assert old_keys(redis_client, key_prefix) == ["relay-lock"]  # the same name in both layouts
    conversation = message.conversation_id
    stored = store.load(message.message_sid)
    assert stored is not None and (stored.seq, stored.answer, stored.replied) == (1, "hi there", True)
    assert 6 * DAY < redis_client.ttl(store._msg(message.message_sid)) <= 7 * DAY  # its TTL came along
    assert [turn["content"] for turn in store.history(conversation)] == ["hello", "hi there"]
    assert store.is_opted_out(conversation)
    assert (store.last_seq(conversation), store.replied_upto(conversation)) == (2, 1)
    assert store.delivery("SM-out-old")["message_sid"] == message.message_sid
    assert store.our_numbers() == [message.recipient]
    assert store.accept(message) is None  # its claim moved: a replay is still a duplicate
    assert not store.claim(make_inbound("again", sid="SM-expired")).new  # so is a claim whose record expired
    # Accepted, never queued and its record gone: its claim is dropped so that `catchup` takes it in again.
    assert [sid for sid, _ in move.to_catch_up] == [lost.message_sid]
    assert store.outbox_due(0) == [] and store.unanswered() == (0, None)
    assert store.accept(lost) == 3


def test_a_second_run_finds_nothing_left_to_move(
    store: ConversationStore, redis_client: Any, key_prefix: str, make_inbound: Make
) -> None:
    write_old_layout(redis_client, key_prefix, make_inbound("hello"), make_inbound("lost"), "SM-expired")
    store.move_legacy_keys(apply=True)

    again = store.move_legacy_keys(apply=True)

    assert (sum(again.counts.values()), again.to_catch_up) == (0, [])
