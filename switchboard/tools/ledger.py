"""Where the rounds of one answer's function calling are recorded: Redis for the pipeline, memory for evals.

A step is `turn:<round>` (the assistant turn, as AssistantTurn.to_json) or `result:<round>:<i>` (the text
the i-th call of that round returned). First writer wins; recording answers with the value on record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from switchboard.store.tool_calls import ToolCalls
from switchboard.tools.identity import Identity


class ToolLedger(Protocol):
    def recorded(self) -> Mapping[str, str]:
        """Every step recorded so far for this answer."""
        ...

    def record(self, step: str, value: str) -> str:
        """Record `step` unless it is on record already; the value on record."""
        ...


class RedisToolLedger:
    """The ledger of one inbound message (the identity's MessageSid), in its conversation's shard."""

    def __init__(self, store: ToolCalls, identity: Identity) -> None:
        self.store = store
        self.message_sid = identity.message_sid
        self.conversation = identity.conversation

    def recorded(self) -> Mapping[str, str]:
        return self.store.tool_steps(self.message_sid, self.conversation)

    def record(self, step: str, value: str) -> str:
        return self.store.record_tool_step(self.message_sid, self.conversation, step, value)


class MemoryToolLedger:
    """A ledger in a dict: for `switchboard eval` (no Redis) and tests."""

    def __init__(self) -> None:
        self.steps: dict[str, str] = {}

    def recorded(self) -> Mapping[str, str]:
        return dict(self.steps)

    def record(self, step: str, value: str) -> str:
        return self.steps.setdefault(step, value)
