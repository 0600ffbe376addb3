"""The Redis ledger of tool calls: per inbound message, first writer wins, replayed by a later run."""

from __future__ import annotations

from typing import Any

import redis

from switchboard.store import ConversationStore
from switchboard.store.shards import shard_of, tag
from switchboard.tools import AssistantTurn, RedisToolLedger, run_with_tools
from tests.switchboard.tools.conftest import ASKER
from tests.switchboard.tools.fakes import RecordingExecutor, ScriptedModel, calls

TOOLS = """
tools:
  - name: registration_status
    description: The asking person's registration status
    url: "https://api.example.org/registrations/{user_id}"
"""


def test_a_step_is_recorded_once_and_the_first_value_stays(store: ConversationStore) -> None:
    ledger = RedisToolLedger(store, ASKER)

    assert ledger.record("turn:0", "first") == "first"
    assert ledger.record("turn:0", "second") == "first"
    assert RedisToolLedger(store, ASKER).recorded() == {"turn:0": "first"}


def test_the_ledger_lives_in_the_conversations_shard_for_the_message_ttl(
        store: ConversationStore, redis_client: redis.Redis, key_prefix: str) -> None:
    RedisToolLedger(store, ASKER).record("result:0:0", "ok")

    key = f"{key_prefix}{tag(shard_of(ASKER.conversation))}:tools:{ASKER.message_sid}"
    assert 0 < int(redis_client.ttl(key)) <= store.limits.message_ttl_seconds
    store.forget_tool_steps(ASKER.message_sid, ASKER.conversation)
    assert not redis_client.exists(key)


def test_a_redelivered_run_in_another_process_calls_no_tool_and_no_model(store: ConversationStore,
                                                                         toolbox_from: Any) -> None:
    toolbox, executor = toolbox_from(TOOLS), RecordingExecutor({"registration_status": "confirmed"})
    messages = [{"role": "user", "content": "did my registration go through?"}]
    model = ScriptedModel([calls(("registration_status", {})), AssistantTurn("You are confirmed.")])

    first = run_with_tools(model, messages, toolbox, executor, RedisToolLedger(store, ASKER), ASKER, 3)
    again = run_with_tools(ScriptedModel([]), messages, toolbox, executor, RedisToolLedger(store, ASKER), ASKER, 3)

    assert first == again == "You are confirmed."
    assert len(executor.calls) == 1 and len(model.requests) == 2
