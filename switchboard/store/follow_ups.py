"""Replies given up on, and redriven messages reopened once for their real answer (issue 8)."""

from __future__ import annotations

import time

from switchboard.store.base import StoreBase

_MARK_GIVEN_UP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'reply_given_up_at', ARGV[1])
"""

# Only once per message (follow_up_at), so a redrive that fails again ends in silence, not a loop.
_REOPEN_FOR_FOLLOW_UP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'follow_up_at') == 1 then return 0 end
local apologised = redis.call('HGET', KEYS[1], 'answer') == ARGV[3]
local given_up = redis.call('HEXISTS', KEYS[1], 'reply_given_up_at') == 1
if not apologised and not given_up then return 0 end
if apologised then
  redis.call('HSET', KEYS[1], 'apology', ARGV[3])
  redis.call('HDEL', KEYS[1], 'answer', 'answered_at')
  local names = redis.call('HKEYS', KEYS[1])
  for _, name in ipairs(names) do
    if string.sub(name, 1, 5) == 'part:' or string.sub(name, 1, 8) == 'claimed:' then
      redis.call('HDEL', KEYS[1], name)
    end
  end
end
redis.call('HDEL', KEYS[1], 'replied_at', 'reply_given_up_at')
redis.call('HSET', KEYS[1], 'follow_up_at', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1
"""


class FollowUps(StoreBase):
    """A reply that was given up, and the one follow-up a redriven message may get."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._reopen_for_follow_up = self.redis.register_script(_REOPEN_FOR_FOLLOW_UP)
        self._mark_given_up = self.redis.register_script(_MARK_GIVEN_UP)

    def mark_reply_given_up(self, message_sid: str) -> None:
        self._mark_given_up(keys=[self._msg(message_sid)], args=[time.time()])

    def reopen_for_follow_up(self, message_sid: str, apology: str) -> bool:
        """Let a redriven message get its real answer: forget an apology answer or a given-up reply, once.

        False when there is nothing to follow up (no record, a real answer, or already followed up).
        """
        shard = self._shard_of_sid(message_sid)
        return bool(self._reopen_for_follow_up(
            keys=[self._in(shard, "msg", message_sid), self._in(shard, "unanswered")],
            args=[time.time(), message_sid, apology],
        ))

    def was_followed_up(self, message_sid: str) -> bool:
        """True when an apology or a given-up reply was reopened for this message before."""
        return bool(self.redis.hexists(self._msg(message_sid), "follow_up_at"))
