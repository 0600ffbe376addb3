"""The tool-call ledger (issue 14): each round of function calling for one inbound message, recorded once.

A redelivered or retried `complete` reads it back and replays the recorded rounds instead of asking the
model, or calling a tool, again. The values are opaque text to the store (switchboard.tools encodes them).
"""

from __future__ import annotations

from switchboard.store.base import StoreBase, as_text

# First writer wins: a step already on record keeps its value, which is returned, so two overlapping runs
# go on with the same round. The key lives as long as a message record does, from its first step.
_RECORD_STEP = """
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then return found end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return ARGV[2]
"""


class ToolCalls(StoreBase):
    """The hash tools:<sid>: one field per recorded step of the message's function calling."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._record_tool_step = self.redis.register_script(_RECORD_STEP)

    def _tool_calls(self, message_sid: str, conversation: str) -> str:
        return self._of(conversation, "tools", message_sid)

    def tool_steps(self, message_sid: str, conversation: str) -> dict[str, str]:
        """Every step recorded for the message, by step name ({} when none)."""
        found = self.redis.hgetall(self._tool_calls(message_sid, conversation))
        return {as_text(step): as_text(value) for step, value in found.items()}

    def record_tool_step(self, message_sid: str, conversation: str, step: str, value: str) -> str:
        """Record `step` once; the value on record (this one, or the one an earlier run recorded)."""
        recorded = self._record_tool_step(keys=[self._tool_calls(message_sid, conversation)],
                                          args=[step, value, self.limits.message_ttl_seconds])
        return as_text(recorded)

    def forget_tool_steps(self, message_sid: str, conversation: str) -> None:
        """Delete the message's recorded rounds (its tool results hold what the operator's API said of the person)."""
        self.redis.delete(self._tool_calls(message_sid, conversation))
