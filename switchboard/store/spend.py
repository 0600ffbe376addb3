"""Spend (issue 9): messages counted per rate window, completions charged to the budgets once per message."""

from __future__ import annotations

import time

from switchboard.store.base import StoreBase, as_text
from switchboard.store.records import StoredMessage

# Decide once per message whether it may cost a completion, and take it from the budget in the same
# step: a redelivered intake finds the recorded decision and is never charged twice. The sender's
# cap is checked first, so one sender over their cap cannot drain everyone's budget. Refusals get
# one notice per sender (per day for the cap, per minute for the budget); later ones are 'quiet'.
_CHARGE_COMPLETION = """
local prior = redis.call('HGET', KEYS[1], 'spend')
if prior then return prior end
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local now = tonumber(ARGV[1])
local function level(key, capacity, period)
  if capacity <= 0 then return nil end
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1]) or capacity
  local ts = tonumber(state[2]) or now
  return math.min(capacity, tokens + math.max(0, now - ts) * capacity / period)
end
local decision = 'granted'
local cap = tonumber(ARGV[4])
if cap > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= cap then
  decision = 'sender-cap'
else
  local minute = level(KEYS[2], tonumber(ARGV[2]), 60)
  local day = level(KEYS[3], tonumber(ARGV[3]), 86400)
  if (minute and minute < 1) or (day and day < 1) then
    decision = 'over-budget'
  else
    if minute then
      redis.call('HSET', KEYS[2], 'tokens', minute - 1, 'ts', now)
      redis.call('EXPIRE', KEYS[2], 120)
    end
    if day then
      redis.call('HSET', KEYS[3], 'tokens', day - 1, 'ts', now)
      redis.call('EXPIRE', KEYS[3], 172800)
    end
    if cap > 0 then
      redis.call('INCR', KEYS[4])
      redis.call('EXPIRE', KEYS[4], ARGV[5])
    end
  end
end
if decision == 'sender-cap' and not redis.call('SET', KEYS[5], now, 'NX', 'EX', ARGV[5]) then
  decision = 'quiet'
elseif decision == 'over-budget' and not redis.call('SET', KEYS[6], now, 'NX', 'EX', 60) then
  decision = 'quiet'
end
redis.call('HSET', KEYS[1], 'spend', decision)
return decision
"""


class Spend(StoreBase):
    """Rate windows, the global completion budgets and the per-sender daily cap; see SpendLimits."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._charge_completion = self.redis.register_script(_CHARGE_COMPLETION)

    def count_message_in_window(self, conversation: str, window_seconds: int, now: float | None = None) -> int:
        """Count one message against the conversation's current fixed window; returns the count so far."""
        window = int((time.time() if now is None else now) // window_seconds)
        key = self._conv_rate(conversation, window)
        with self.redis.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1)
            count, _ = pipe.execute()
        return int(count)

    def _conv_rate(self, conversation: str, window: int) -> str:
        return self._key("rate", conversation, str(window))

    def charge_completion(self, message: StoredMessage, now: float | None = None) -> str:
        """Take one completion from the budgets for this message, once; the decision is recorded.

        Returns 'granted', 'sender-cap' or 'over-budget' (refused: send the one notice), 'quiet'
        (refused, and this sender was told already) or 'missing' (no record).
        """
        now = time.time() if now is None else now
        day = time.strftime("%Y%m%d", time.gmtime(now))
        until_tomorrow = 86_400 - int(now) % 86_400 + 60
        conversation = message.conversation
        spend = self.spend
        return as_text(self._charge_completion(
            keys=[self._key("msg", message.inbound.message_sid), self._key("budget", "minute"),
                  self._key("budget", "day"), self._key("spend", conversation, "day", day),
                  self._key("spend", conversation, "notice", "sender-cap"),
                  self._key("spend", conversation, "notice", "over-budget")],
            args=[now, spend.per_minute, spend.per_day, spend.sender_per_day, until_tomorrow],
        ))
