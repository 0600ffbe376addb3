"""Hand-off to a person (issue 14): a conversation's pause, the messages kept for the operator, the notice claim."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.store.base import as_text, as_texts
from switchboard.store.history import TRIM_HISTORY, History
from switchboard.store.records import StoredMessage


@dataclass(frozen=True)
class Pause:
    """A conversation handed to a person: the bot calls no model for it until `until` (or a resume)."""

    conversation: str
    since: float
    until: float
    source: str  # command (the user asked), tool (the model called hand_off_to_person)
    reason: str
    asked_by: str  # the MessageSid that asked for a person
    from_seq: int  # that message's seq: the kept messages come after it
    notified: str | None = None  # "sent:<when>", "refused:<code>": the operator's notice, given once
    last_said_at: float | None = None  # when the operator last answered through `switchboard say`


# Pause for one message, decided once: the record's field `handoff` says what this message did
# (paused: it started the pause; joined: a pause was on), so a redelivery after a resume does not
# pause again. KEYS: record, pause, the shard's paused zset. ARGV: now, until (whole seconds), source,
# reason, conversation, MessageSid. Returns {decision, first}; decision: paused, joined, missing (no record).
_PAUSE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', 0} end
local decided = redis.call('HGET', KEYS[1], 'handoff')
if decided then return {decided, 0} end
local ends = redis.call('HGET', KEYS[2], 'until')
if ends and tonumber(ends) > tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'handoff', 'joined')
  return {'joined', 1}
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'since', ARGV[1], 'until', ARGV[2], 'source', ARGV[3], 'reason', ARGV[4],
           'asked_by', ARGV[6], 'from_seq', redis.call('HGET', KEYS[1], 'seq'))
redis.call('EXPIREAT', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[5])
redis.call('HSET', KEYS[1], 'handoff', 'paused')
return {'paused', 1}
"""

# The operator was told (or refused the notice): once per pause, never recreating a pause that ended.
_CLAIM_NOTICE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'notified', ARGV[1])
return redis.call('HGET', KEYS[1], 'notified')
"""

# Kept for the operator: the field kept_for_operator on each record that still exists (one conversation's
# records, so one shard). Returns how many were marked now.
_KEEP = """
local marked = 0
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then marked = marked + redis.call('HSETNX', KEYS[i], 'kept_for_operator', ARGV[1]) end
end
return marked
"""

# The operator's reply joins the history as an assistant turn, trimmed like record_answer's turns, while
# the pause lasts. KEYS: pause, history, fold list, summary. ARGV: now, TTL, the bounds (3-8), a fresh fold
# generation, the turn (JSON).
_RECORD_OPERATOR_TURN = TRIM_HISTORY + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_said_at', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[10])
local b = bounds(3)
if trim_history(KEYS[2], KEYS[3], KEYS[4], b) > 0 and b.fold then
  redis.call('HSETNX', KEYS[4], 'generation', ARGV[9])
end
for i = 2, 4 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return 1
"""


class Handoff(History):
    """handoff:<c> (the pause), paused (per shard), and the record fields handoff and kept_for_operator."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._pause_script = self.redis.register_script(_PAUSE)
        self._claim_notice = self.redis.register_script(_CLAIM_NOTICE)
        self._keep_script = self.redis.register_script(_KEEP)
        self._record_operator_turn = self.redis.register_script(_RECORD_OPERATOR_TURN)

    def _pause_key(self, conversation: str) -> str:
        return self._of(conversation, "handoff", conversation)

    def _paused_index(self, conversation: str) -> str:
        return self._of(conversation, "paused")

    def pause_conversation(self, message: StoredMessage, seconds: int, source: str, reason: str,
                           now: float | None = None) -> tuple[str, bool]:
        """Pause the message's conversation for `seconds` (ending by itself), decided once per message.

        Returns (decision, first): 'paused' (this message started the pause), 'joined' (a pause was on
        already: it is kept as it is) or 'missing' (no record); `first` is True only for the run that
        decided. A redelivered message gets its first decision back and never starts a second pause.
        """
        conversation, now = message.conversation, time.time() if now is None else now
        # Whole seconds, so the end shown and the key's expiry agree.
        until = math.ceil(now + seconds)
        decision, first = self._pause_script(
            keys=[self._msg(message.inbound.message_sid, conversation), self._pause_key(conversation),
                  self._paused_index(conversation)],
            args=[now, until, source, reason, conversation, message.inbound.message_sid],
        )
        return as_text(decision), bool(first)

    def pause_of(self, conversation: str, now: float | None = None) -> Pause | None:
        """The conversation's pause while it lasts (a pause past its end is none, whatever Redis still holds)."""
        raw = self.redis.hgetall(self._pause_key(conversation))
        if not raw:
            return None
        data = {as_text(k): as_text(v) for k, v in raw.items()}
        pause = Pause(conversation, float(data["since"]), float(data["until"]), data.get("source", ""),
                      data.get("reason", ""), data.get("asked_by", ""), int(data.get("from_seq") or 0),
                      data.get("notified"), float(data["last_said_at"]) if "last_said_at" in data else None)
        return pause if pause.until > (time.time() if now is None else now) else None

    def claim_operator_notice(self, conversation: str, outcome: str) -> str | None:
        """Record that the operator's notice was sent (or refused); the outcome on record, None: no pause."""
        found = self._claim_notice(keys=[self._pause_key(conversation)], args=[outcome])
        return as_text(found) if found else None

    def end_pause(self, conversation: str) -> bool:
        """Resume: the pause is gone (False: there was none)."""
        with self.redis.pipeline(transaction=True) as pipe:  # one slot: atomic on a cluster too
            pipe.delete(self._pause_key(conversation))
            pipe.zrem(self._paused_index(conversation), conversation)
            deleted, _ = pipe.execute()
        return bool(deleted)

    def paused_conversations(self, now: float | None = None) -> list[tuple[str, float]]:
        """(conversation, until) of every pause still on, soonest end first; ended ones leave the index here."""
        cutoff = time.time() if now is None else now

        def read(pipe: Any, shard: int) -> None:
            index = self._in(shard, "paused")
            pipe.zremrangebyscore(index, "-inf", cutoff)
            pipe.zrangebyscore(index, f"({cutoff}", "+inf", withscores=True)

        replies = self._across_shards(read)
        found = [(as_text(c), float(until)) for entries in replies[1::2] for c, until in entries]
        return sorted(found, key=lambda entry: entry[1])

    def paused_count(self, now: float | None = None) -> int:
        """How many pauses are on, across every shard: one read per shard in one round trip per master."""
        cutoff = time.time() if now is None else now
        counts = self._across_shards(lambda pipe, shard: pipe.zcount(self._in(shard, "paused"), f"({cutoff}", "+inf"))
        return sum(int(n) for n in counts)

    def keep_for_operator(self, messages: Sequence[StoredMessage], now: float | None = None) -> int:
        """Mark one conversation's messages as kept for the operator (field kept_for_operator), once each."""
        if not messages:
            return 0
        conversation = messages[0].conversation
        keys = [self._msg(m.inbound.message_sid, conversation) for m in messages if m.conversation == conversation]
        return int(self._keep_script(keys=keys, args=[time.time() if now is None else now]))

    def kept_at(self, message_sid: str) -> float | None:
        """When the message was kept for the operator instead of being answered by the model (None: it was not)."""
        value = self.redis.hget(self._msg(message_sid), "kept_for_operator")
        return float(value) if value is not None else None

    def kept_since(self, conversation: str, from_seq: int) -> list[str]:
        """The MessageSids kept for the operator from `from_seq` on, oldest first."""
        sids = as_texts(self.redis.zrangebyscore(self._conv(conversation, "messages"), from_seq, "+inf"))
        if not sids:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for sid in sids:
                pipe.hexists(self._msg(sid, conversation), "kept_for_operator")
            kept = pipe.execute()
        return [sid for sid, is_kept in zip(sids, kept, strict=True) if is_kept]

    def record_operator_turn(self, conversation: str, text: str, now: float | None = None) -> bool:
        """Add what the operator said to the history (an assistant turn) while the pause lasts; False: no pause."""
        turn = json.dumps({"role": "assistant", "content": text}, ensure_ascii=False)
        return bool(self._record_operator_turn(
            keys=[self._pause_key(conversation), self._conv(conversation, "history"),
                  self._conv(conversation, "to-fold"), self._conv(conversation, "summary")],
            args=[time.time() if now is None else now, self.limits.ttl_seconds, *self._bounds(),
                  uuid.uuid4().hex[:12], turn],
        ))

