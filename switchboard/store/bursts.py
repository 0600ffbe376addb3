"""Bursts (issue 11): a message answered by the reply to a later one of the same burst."""

from __future__ import annotations

import time
from collections.abc import Sequence

from switchboard.store.base import StoreBase
from switchboard.store.records import StoredMessage

# Bursts: absorbing marks the message answered (empty answer: its reply sends nothing) and raises
# the conversation's answered mark, so the next message's turn comes; it adds no history.
_RECORD_ABSORBED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'answer', '') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'answered_at', ARGV[2], 'burst_next', ARGV[1])
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], seq, 'EX', ARGV[3])
end
return 1
"""

_RECORD_ANSWERED_BY = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('HSET', KEYS[i], 'answered_by', ARGV[1]) end
end
return 1
"""


class Bursts(StoreBase):
    """The fields burst_next and answered_by on a burst's records."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._record_absorbed = self.redis.register_script(_RECORD_ABSORBED)
        self._record_answered_by = self.redis.register_script(_RECORD_ANSWERED_BY)

    def record_absorbed(self, message: StoredMessage, next_sid: str) -> bool:
        """Record that `next_sid` (the conversation's next message) answers this one too, once.

        The message counts as answered (with no text of its own, so its reply sends nothing) and adds
        no turn: the later message's answer records every turn of the burst. False if it was
        answered before or its record is gone.
        """
        return bool(self._record_absorbed(
            keys=[self._msg(message.inbound.message_sid, message.conversation),
                  self._conv(message.conversation, "answered")],
            args=[next_sid, time.time(), self.limits.ttl_seconds],
        ))

    def record_burst_answered_by(self, member_sids: Sequence[str], final_sid: str) -> None:
        """Point every earlier message of a burst at the message whose reply answered them all."""
        if member_sids:
            # One conversation's messages, so one shard: the final message's (a member elsewhere is skipped).
            shard = self._shard_of_sid(final_sid)
            self._record_answered_by(keys=[self._in(shard, "msg", sid) for sid in member_sids], args=[final_sid])
