"""MESSAGE_BODY_RETENTION_SECONDS: message text (question and answer) is removed from records and history."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from switchboard.domain.conversation import deliver_reply, produce_answer, run_intake
from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore, HistoryLimits
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies

Make = Callable[..., InboundMessage]
RETENTION = 600


@pytest.fixture
def retaining(redis_client: redis.Redis, key_prefix: str, limits: HistoryLimits) -> ConversationStore:
    return ConversationStore(redis_client, key_prefix, limits, text_retention_seconds=RETENTION)


def through(store: ConversationStore, message: InboundMessage, reply: bool = True) -> str:
    assert store.accept(message) is not None
    run_intake(store, message.message_sid)
    produce_answer(store, FakeCompletions(f"re: {message.body}"), "Be brief.",  # type: ignore[arg-type]
                   message.message_sid, 300)
    if reply:
        deliver_reply(store, FakeReplies(), message.message_sid, 300)  # type: ignore[arg-type]
    return message.message_sid


def test_an_old_messages_text_leaves_its_record_and_the_history(
    retaining: ConversationStore, make_inbound: Make
) -> None:
    old = through(retaining, make_inbound("my card number is 4111", received_at=time.time() - RETENTION - 60))
    recent = through(retaining, make_inbound("what time is it?"))  # its intake sweeps the old text

    record = retaining.load(old)
    assert record is not None and (record.inbound.body, record.answer) == ("", "")
    assert [t["content"] for t in retaining.history(record.conversation)] == ["what time is it?",
                                                                              "re: what time is it?"]
    assert retaining.load(recent).inbound.body == "what time is it?"  # type: ignore[union-attr]


def test_a_message_still_waiting_for_its_reply_keeps_its_text(
    retaining: ConversationStore, make_inbound: Make
) -> None:
    waiting = through(retaining, make_inbound("slow one", received_at=time.time() - RETENTION - 60), reply=False)

    assert retaining.remove_old_texts(RETENTION) == 0
    assert retaining.load(waiting).inbound.body == "slow one"  # type: ignore[union-attr]
    deliver_reply(retaining, FakeReplies(), waiting, 300)  # type: ignore[arg-type]
    assert retaining.remove_old_texts(RETENTION) == 1


def test_without_a_retention_setting_no_text_index_is_kept(
    store: ConversationStore, make_inbound: Make, redis_client: redis.Redis, key_prefix: str
) -> None:
    through(store, make_inbound("hello", received_at=time.time() - 86_400))

    assert not redis_client.exists(store._of(make_inbound().conversation_id, "texts"))
    assert store.history(make_inbound().conversation_id)[0]["content"] == "hello"
