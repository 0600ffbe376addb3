"""Every Lua script and transaction of the store touches one Redis Cluster slot, checked on a plain Redis.

A Redis Cluster refuses a script or MULTI whose keys hash to two slots (CROSSSLOT). The store's keys
carry hash tags so that never happens; this test drives every script the store registers through a
client that records the keys each is called with, and fails on any call that spans two slots, or on
a script no call here reaches (a new script must be added to the walk below).
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
import redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.crc import key_slot

from localdev.polling import wait_for
from localdev.redis_server import redis_url_for_tests
from switchboard.domain.inbound import InboundMessage
from switchboard.settings.redis import is_cluster_url
from switchboard.store import ConversationStore, HistoryLimits, SpendLimits, StoredMessage
from switchboard.store.shards import SHARDS, shard_of, tag

Make = Callable[..., InboundMessage]


def slots(keys: Any) -> set[int]:
    return {key_slot(key.encode() if isinstance(key, str) else key) for key in keys}


class SlotRecordingPipeline(Pipeline):
    def execute(self, raise_on_error: bool = True) -> list[Any]:
        if self.transaction:
            keys = [key for args, _ in self.command_stack
                    for key in self.recorder.command_getkeys(*args)]
            self.recorder.transactions.append(keys)
        return super().execute(raise_on_error)


class SlotRecordingRedis(redis.Redis):
    """A real client that remembers the scripts registered, the keys of every script call and of every MULTI."""

    def __init__(self, url: str) -> None:
        super().__init__(connection_pool=redis.ConnectionPool.from_url(url, socket_timeout=5))
        self.scripts: dict[str, str] = {}
        self.calls: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.transactions: list[list[Any]] = []

    def register_script(self, script: Any) -> Script:
        registered = super().register_script(script)
        self.scripts[registered.sha] = script
        return registered

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:  # type: ignore[override]
        self.calls[sha].append(keys_and_args[:numkeys])
        return super().evalsha(sha, numkeys, *keys_and_args)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        pipe = SlotRecordingPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.recorder = self  # type: ignore[attr-defined]
        return pipe


@pytest.fixture
def recorder() -> Any:
    if is_cluster_url(redis_url_for_tests()):
        pytest.skip("records on a plain Redis; against a cluster the cluster itself refuses CROSSSLOT")
    client = SlotRecordingRedis(redis_url_for_tests())
    yield client
    client.close()


def test_the_shards_hash_tags_land_in_distinct_slots_spread_over_three_masters() -> None:
    found = [key_slot(f"p:{tag(shard)}:outbox".encode()) for shard in range(SHARDS)]
    assert len(set(found)) == SHARDS
    thirds = [sum(1 for slot in found if low <= slot < low + 5462) for low in (0, 5462, 10924)]
    assert min(thirds) >= SHARDS // 4, thirds  # `redis-cli --cluster create`'s even split of 16384 slots


def test_a_conversations_shard_is_stable_across_processes() -> None:
    # crc32, not hash(): Python salts str hashes per process, and every process must find the same keys.
    assert shard_of("62c59b1bf8dbbe35c7f82554") == 7
    assert {shard_of(f"{n:024x}") for n in range(1000)} == set(range(SHARDS))


def test_every_script_the_store_registers_touches_one_slot(
    recorder: SlotRecordingRedis, key_prefix: str, make_inbound: Make
) -> None:
    store = ConversationStore(
        recorder, key_prefix, HistoryLimits(max_turns=2, max_chars=0, ttl_seconds=600, summarize=True),
        spend=SpendLimits(per_minute=5, per_day=50, sender_per_day=2), text_retention_seconds=0)

    walk_every_script(store, make_inbound, recorder)

    names = {script.sha: name for name, script in vars(store).items() if isinstance(script, Script)}
    assert set(names) == set(recorder.scripts)
    uncalled = sorted(names[sha] for sha in recorder.scripts if sha not in recorder.calls)
    assert uncalled == [], "scripts this test never called: add them to walk_every_script"
    spanning = {names[sha]: keys for sha, calls in recorder.calls.items() for keys in calls if len(slots(keys)) > 1}
    assert spanning == {}
    assert recorder.transactions and all(len(slots(keys)) == 1 for keys in recorder.transactions if keys)


def walk_every_script(store: ConversationStore, make_inbound: Make, recorder: SlotRecordingRedis) -> None:
    """One message's whole life, and the paths beside it: each call runs one or more of the store's scripts."""
    first = make_inbound("first")
    assert store.claim(first).new  # _PLACE, _ACCEPT
    message = loaded(store, first.message_sid)
    store.record_intake(first.message_sid, "chat")
    store.settle_intake(message, "chat", drop_body=False)
    store.decide_opt_out(message, "none")
    assert store.charge_completion(message) == "granted"  # the budgets' own slot, then the shard's
    store.record_transcript(message, 0, "a voice note")
    store.record_answer(message, "answer", [{"role": "user", "content": "first" * 50},
                                            {"role": "assistant", "content": "answer" * 50}])
    second = loaded(store, accept(store, make_inbound("second")))
    store.record_absorbed(second, first.message_sid)
    store.record_burst_answered_by([second.inbound.message_sid], first.message_sid)
    third = loaded(store, accept(store, make_inbound("third")))
    store.record_answer(third, "more", [{"role": "user", "content": "third" * 50},
                                        {"role": "assistant", "content": "more" * 50}])
    batch = store.begin_fold(message.conversation, 10)
    assert batch is not None
    store.end_fold(message.conversation, batch, "a summary")
    store.forget_folded_text(message.conversation, ['{"role": "user", "content": "gone"}'])
    with store.lease(first.message_sid, "reply", seconds=0.15) as token:
        assert token is not None
        # The renewal runs a third of the lease in: wait for it, so _EXTEND_LEASE is called too.
        wait_for(lambda: store._extend_lease.sha in recorder.calls, timeout=5, message="the lease's renewal")
        claim = store.claim_part(message, 0, token)
        assert claim.outcome == "claimed"
        store.unclaim_part(message, 0, token)
        store.claim_part(message, 0, token)
        store.record_part_sent(message, 0, "SM-out-slots")
    store.record_delivery_status("SM-out-slots", "delivered")
    store.mark_outside_window(first.message_sid, 1, 1)
    store.mark_undelivered(first.message_sid, "outside-window")
    assert store.mark_replied(message)
    store.mark_reply_given_up(first.message_sid)
    store.reopen_for_follow_up(first.message_sid, "sorry")
    store.claim_direct_apology(third.inbound.message_sid)
    store.outbox_clear(first.message_sid, None)
    lost = make_inbound("lost")
    store.restore(lost)
    store.remove_old_texts(0, now=time.time() + 10)
    store.forget_conversation(message.conversation, before_seq=third.seq)
    assert store.take_twilio_slot("me", limit=2, lease_seconds=5)
    store.twilio_slots_held()
    store.hold_twilio("account", 1, "20429")
    # Hand-off (issue 14): the pause, its notice claim, a kept message, the operator's turn.
    asking = loaded(store, accept(store, make_inbound("human")))
    store.pause_conversation(asking, 600, "command", "asked")
    store.claim_operator_notice(asking.conversation, "sent:1")
    store.keep_for_operator([asking])
    store.record_operator_turn(asking.conversation, "a person here")
    store.end_pause(asking.conversation)  # a MULTI, one slot too
    # Tool calls (issue 14): a round recorded once per message.
    store.record_tool_step(asking.inbound.message_sid, asking.conversation, "turn:0", "{}")


def accept(store: ConversationStore, message: InboundMessage) -> str:
    assert store.accept(message) is not None
    return message.message_sid


def loaded(store: ConversationStore, sid: str) -> StoredMessage:
    message = store.load(sid)
    assert message is not None
    return message


def test_a_replay_under_another_conversation_is_a_duplicate_not_a_second_record(
    store: ConversationStore, make_inbound: Make
) -> None:
    message = make_inbound("hello")
    assert store.accept(message) == 1
    # The same MessageSid under a conversation id of another shard (say CONVERSATION_ID_SECRET changed).
    other = next(f"c{n}" for n in range(100) if shard_of(f"c{n}") != shard_of(message.conversation_id))
    replay = dataclasses.replace(message, conversation=other)

    claim = store.claim(replay)

    assert (claim.new, claim.seq) == (False, 0)
    assert store.load(message.message_sid) == loaded(store, message.message_sid)
    assert store.last_seq(replay.conversation_id) == 0


def test_sid_lookups_find_a_record_from_another_process(
    store: ConversationStore, redis_client: Any, key_prefix: str, limits: HistoryLimits, make_inbound: Make
) -> None:
    message = loaded(store, accept(store, make_inbound("hi")))
    store.record_part_sent(message, 0, "SM-out-elsewhere")
    other = ConversationStore(redis_client, key_prefix, limits)  # knows nothing: asks the sid index

    assert loaded(other, message.inbound.message_sid).inbound == message.inbound
    assert other.record_delivery_status("SM-out-elsewhere", "sent")
    assert other.delivery("SM-out-elsewhere")["message_sid"] == message.inbound.message_sid
    assert other.load("SM-never-seen") is None
