"""Twilio pacing (issue 13): the account's request slots shared by every process and host, and holds after rate limits."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.store.base import StoreBase

# A counting semaphore with leases: one sorted set of holder tokens scored by when their lease ends,
# on Redis's clock (every host agrees on it). Expired leases are swept before counting, so a holder
# that died frees its slot when its lease ends. One key, so the script runs unchanged on a cluster.
# The key's own lifetime is its longest lease, so an idle deployment leaves nothing behind.
_TAKE_SLOT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
"""

# On the key's own node, by the same clock as the leases (a cluster client's TIME could ask another node).
_COUNT_SLOTS = """
local clock = redis.call('TIME')
return redis.call('ZCOUNT', KEYS[1], '(' .. (tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)), '+inf')
"""

# A hold only ever grows: a shorter Retry-After arriving later must not cut a longer one short.
_HOLD = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
end
"""


class SendSlots(StoreBase):
    """twilio-slots: who holds one of the account's Twilio request slots; twilio-hold:{scope}: hold off."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._take_slot = self.redis.register_script(_TAKE_SLOT)
        self._count_slots = self.redis.register_script(_COUNT_SLOTS)
        self._hold = self.redis.register_script(_HOLD)

    def take_twilio_slot(self, token: str, limit: int, lease_seconds: float) -> bool:
        """Take a slot for `token` if fewer than `limit` are held; it lapses after `lease_seconds` unless freed."""
        return bool(self._take_slot(keys=[self._key("twilio-slots")],
                                    args=[token, limit, max(1, int(lease_seconds * 1000))]))

    def free_twilio_slot(self, token: str) -> None:
        self.redis.zrem(self._key("twilio-slots"), token)

    def twilio_slots_held(self) -> int:
        """Slots held now (leases not yet ended): what an operator or a test looks at."""
        return int(self._count_slots(keys=[self._key("twilio-slots")]))

    def hold_twilio(self, scope: str, seconds: float, why: str) -> None:
        """Every process holds off `scope` (the account, or one sender) for `seconds`; `why` is Twilio's code."""
        self._hold(keys=[self._key("twilio-hold", scope)], args=[max(1, int(seconds * 1000)), why])

    def twilio_held_for(self, scopes: Sequence[str]) -> float:
        """Seconds until the longest hold on any of `scopes` ends; 0 when none is held."""
        # One key per command and no transaction: the hold keys may sit in different cluster slots.
        with self.redis.pipeline(transaction=False) as pipe:
            for scope in scopes:
                pipe.pttl(self._key("twilio-hold", scope))
            remaining = pipe.execute()
        return max([int(ms) for ms in remaining if int(ms) > 0], default=0) / 1000
