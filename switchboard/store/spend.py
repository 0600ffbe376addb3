"""Spend (issue 9): messages counted per rate window, completions charged to the budgets once per message."""

from __future__ import annotations

import time

from switchboard.store.base import StoreBase, as_text
from switchboard.store.records import StoredMessage

# Charging a completion takes three steps, because the global budgets (their own slot, {global})
# cannot share a script with a conversation's keys (its shard's slot):
#   1. _DECIDE_BEFORE_BUDGET, in the conversation's shard: a decision on record is returned as it is (a
#      redelivered intake is never charged twice); a sender over their daily cap is refused here, so
#      one sender cannot drain everyone's budget. Otherwise nothing is written.
#   2. _BUCKETS, in {global}: one completion is reserved from both buckets, or none (over budget).
#   3. _RECORD_SPEND, in the shard: the decision is recorded once. A run that finds another's decision
#      on record (two overlapping runs of one intake), or the sender's cap reached meanwhile by another
#      of their messages, is refused and gives its reserved completion back (_BUCKETS again).
# So a completion is never granted without its reservation. A crash (or a lost reply) between 2 and 3
# costs the bucket one completion that nobody uses: the budget errs towards spending less, never more.
_DECIDE_BEFORE_BUDGET = """
local prior = redis.call('HGET', KEYS[1], 'spend')
if prior then return prior end
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local cap = tonumber(ARGV[1])
if cap > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= cap then
  local decision = 'sender-cap'
  if not redis.call('SET', KEYS[3], ARGV[3], 'NX', 'EX', ARGV[2]) then decision = 'quiet' end
  redis.call('HSET', KEYS[1], 'spend', decision)
  return decision
end
return ''
"""

# Token buckets refilled evenly over their period; a missing bucket is full. KEYS: minute, day.
# ARGV: now, then capacity per minute and per day (0: that bucket is unlimited), then the change: -1
# takes one completion from both (only if both have one), +1 gives one back. Returns 1 when done.
_BUCKETS = """
local now = tonumber(ARGV[1])
local change = tonumber(ARGV[4])
local buckets = {{KEYS[1], tonumber(ARGV[2]), 60, 120}, {KEYS[2], tonumber(ARGV[3]), 86400, 172800}}
local levels = {}
for i, b in ipairs(buckets) do
  if b[2] > 0 then
    local state = redis.call('HMGET', b[1], 'tokens', 'ts')
    local tokens = tonumber(state[1]) or b[2]
    local ts = tonumber(state[2]) or now
    levels[i] = math.min(b[2], tokens + math.max(0, now - ts) * b[2] / b[3])
    if change < 0 and levels[i] < 1 then return 0 end
  end
end
for i, b in ipairs(buckets) do
  if levels[i] then
    redis.call('HSET', b[1], 'tokens', math.min(b[2], levels[i] + change), 'ts', now)
    redis.call('EXPIRE', b[1], b[4])
  end
end
return 1
"""

# KEYS: record, the sender's day counter, the two notices. ARGV: '1' granted by the budgets (or '0'),
# the sender's cap, seconds to the end of the day, now. Returns {decision, 1 when the reservation goes back}.
_RECORD_SPEND = """
local prior = redis.call('HGET', KEYS[1], 'spend')
if prior then return {prior, 1} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', 1} end
local cap = tonumber(ARGV[2])
local decision, refund = 'granted', 0
if ARGV[1] ~= '1' then
  decision = 'over-budget'
  if not redis.call('SET', KEYS[4], ARGV[4], 'NX', 'EX', 60) then decision = 'quiet' end
elseif cap > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= cap then
  decision, refund = 'sender-cap', 1
  if not redis.call('SET', KEYS[3], ARGV[4], 'NX', 'EX', ARGV[3]) then decision = 'quiet' end
elseif cap > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
redis.call('HSET', KEYS[1], 'spend', decision)
return {decision, refund}
"""


class Spend(StoreBase):
    """Rate windows, the global completion budgets and the per-sender daily cap; see SpendLimits."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._decide_before_budget = self.redis.register_script(_DECIDE_BEFORE_BUDGET)
        self._buckets = self.redis.register_script(_BUCKETS)
        self._record_spend = self.redis.register_script(_RECORD_SPEND)

    def count_message_in_window(self, conversation: str, window_seconds: int, now: float | None = None) -> int:
        """Count one message against the conversation's current fixed window; returns the count so far."""
        window = int((time.time() if now is None else now) // window_seconds)
        key = self._conv_rate(conversation, window)
        with self.redis.pipeline(transaction=True) as pipe:  # one slot: atomic on a cluster too
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1)
            count, _ = pipe.execute()
        return int(count)

    def _conv_rate(self, conversation: str, window: int) -> str:
        return self._of(conversation, "rate", conversation, str(window))

    def charge_completion(self, message: StoredMessage, now: float | None = None) -> str:
        """Take one completion from the budgets for this message, once; the decision is recorded.

        Returns 'granted', 'sender-cap' or 'over-budget' (refused: send the one notice), 'quiet'
        (refused, and this sender was told already) or 'missing' (no record). The steps and why
        their order is safe: the comment above _DECIDE_BEFORE_BUDGET.
        """
        now = time.time() if now is None else now
        day = time.strftime("%Y%m%d", time.gmtime(now))
        until_tomorrow = 86_400 - int(now) % 86_400 + 60
        conversation, spend = message.conversation, self.spend
        record = self._msg(message.inbound.message_sid, conversation)
        counter = self._of(conversation, "spend", conversation, "day", day)
        notices = [self._of(conversation, "spend", conversation, "notice", why) for why in ("sender-cap", "over-budget")]
        decided = as_text(self._decide_before_budget(keys=[record, counter, notices[0]],
                                                     args=[spend.sender_per_day, until_tomorrow, now]))
        if decided:
            return decided
        granted = self._change_budget(now, -1)
        decision, refund = self._record_spend(keys=[record, counter, *notices],
                                              args=["1" if granted else "0", spend.sender_per_day, until_tomorrow, now])
        if granted and int(refund):
            self._change_budget(now, +1)
        return as_text(decision)

    def _change_budget(self, now: float, change: int) -> bool:
        """Take (-1) or give back (+1) one completion of both global buckets; False: over budget."""
        if self.spend.per_minute <= 0 and self.spend.per_day <= 0:
            return True  # no budgets: nothing to reserve
        # Both buckets under the deployment's hash tag, not a shard's: one script changes both.
        return bool(self._buckets(keys=[self._deployment("budget", "minute"), self._deployment("budget", "day")],
                                  args=[now, self.spend.per_minute, self.spend.per_day, change]))
