"""Accepting a message: its MessageSid claimed once, its record stored and queued; lost records restored."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from switchboard.domain.inbound import InboundMessage
from switchboard.store.base import StoreBase

# Claim the MessageSid and store the message in one step; returns {seq, new, in_outbox}. A sid
# claimed before (claim key, or a record from before claims existed) is a duplicate; if its record
# is still in the outbox, the webhook that stored it never learnt it was handed over (say its
# answer timed out after this ran), so the retry may hand it over again.
_ACCEPT = """
if redis.call('EXISTS', KEYS[5]) == 1 or redis.call('EXISTS', KEYS[1]) == 1 then
  local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
  local in_outbox = 0
  if seq > 0 and redis.call('ZSCORE', KEYS[3], ARGV[3]) then in_outbox = 1 end
  return {seq, 0, in_outbox}
end
local seq = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'seq', seq, unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[5], seq, 'EX', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[6], seq, ARGV[3])
redis.call('EXPIRE', KEYS[6], ARGV[1])
-- When the user wrote (a rebuilt message's is Twilio's date, not now): the 24-hour window starts there.
local wrote = tonumber(redis.call('HGET', KEYS[1], 'received_at') or ARGV[2]) or tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[7]) or '0')
if wrote > last then redis.call('SET', KEYS[7], wrote, 'EX', ARGV[1]) end
return {seq, 1, 1}
"""

# The lost seq is unknown; the oldest unfinished position of the conversation is the best guess
# (it is the lost one's own when its predecessors are done), and waits for nobody.
_RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local answered = tonumber(redis.call('GET', KEYS[4]) or '0')
local replied = tonumber(redis.call('GET', KEYS[5]) or '0')
local seq = math.min(answered, replied) + 1
if seq > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], seq, 'EX', ARGV[1]) end
redis.call('HSET', KEYS[1], 'seq', seq, 'restored_at', ARGV[5], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return seq
"""


@dataclass(frozen=True)
class Claim:
    """What accepting a MessageSid found."""

    seq: int  # 0 when claimed before and the record is gone
    new: bool  # this call stored the message
    in_outbox: bool  # stored and not yet known to be on SQS

    @property
    def needs_hand_over(self) -> bool:
        return self.new or self.in_outbox


class Accepting(StoreBase):
    """Accepting messages, the backlog of those not yet replied, and restoring lost records (issue 8)."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._accept = self.redis.register_script(_ACCEPT)
        self._restore = self.redis.register_script(_RESTORE)

    def accept(self, message: InboundMessage, now: float | None = None) -> int | None:
        """Store a new message, give it the conversation's next seq and put it in the outbox.

        Returns the seq, or None when this MessageSid was accepted before (a Twilio retry).
        """
        claim = self.claim(message, now)
        return claim.seq if claim.new else None

    def claim(self, message: InboundMessage, now: float | None = None) -> Claim:
        """`accept`, telling also whether a sid claimed before still waits in the outbox."""
        now = time.time() if now is None else now
        sid, conversation, limits = message.message_sid, message.conversation_id, self.limits
        if not self._place(sid, conversation, self._sid_index_ttl()):
            return Claim(0, False, False)  # claimed under another shard: a duplicate whose record is not ours
        fields: list[str] = []
        for name, value in message.to_fields().items():
            fields += [name, value]
        seq, new, in_outbox = self._accept(
            keys=[self._msg(sid, conversation), self._conv(conversation, "seq"), self._of(conversation, "outbox"),
                  self._of(conversation, "unanswered"), self._claim(sid, conversation),
                  self._conv(conversation, "messages"), self._conv(conversation, "last-inbound")],
            # The seq counter outlives every record that carries one of its numbers.
            args=[max(limits.ttl_seconds, limits.message_ttl_seconds), now, sid,
                  limits.message_ttl_seconds, limits.claim_ttl_seconds, *fields],
        )
        return Claim(int(seq), bool(new), bool(in_outbox))

    def _claim(self, message_sid: str, conversation: str | None = None) -> str:
        return self._in(self._shard_of_sid(message_sid, conversation), "claim", message_sid)

    def unanswered(self) -> tuple[int, float | None]:
        """How many accepted messages have no finished reply yet, and when the oldest arrived (every shard)."""
        expired = time.time() - self.limits.message_ttl_seconds

        def read(pipe: Any, shard: int) -> None:
            # Messages that expired unanswered (their records are gone) stop counting.
            pipe.zremrangebyscore(self._in(shard, "unanswered"), "-inf", expired)
            pipe.zcard(self._in(shard, "unanswered"))
            pipe.zrange(self._in(shard, "unanswered"), 0, 0, withscores=True)

        replies = self._across_shards(read)
        count = sum(int(n) for n in replies[1::3])
        oldest = [float(found[0][1]) for found in replies[2::3] if found]
        return count, (min(oldest) if oldest else None)

    def restore(self, message: InboundMessage) -> bool:
        """Recreate a lost record from Twilio's copy, with its TTL; False if it exists.

        Its seq is the conversation's oldest unfinished position, so it waits for no one.
        """
        sid, conversation, limits = message.message_sid, message.conversation_id, self.limits
        if not self._place(sid, conversation, self._sid_index_ttl()):
            return False  # the SID's keys belong to another shard
        fields: list[str] = []
        for name, value in message.to_fields().items():
            fields += [name, value]
        return bool(self._restore(
            keys=[self._msg(sid, conversation), self._conv(conversation, "seq"), self._of(conversation, "unanswered"),
                  self._conv(conversation, "answered"), self._conv(conversation, "replied")],
            # The seq counter outlives every record that carries one of its numbers (as in _ACCEPT).
            args=[max(limits.ttl_seconds, limits.message_ttl_seconds), message.received_at,
                  sid, limits.message_ttl_seconds, time.time(), *fields],
        ))

    def forget_unanswered(self, message_sid: str) -> None:
        """A message that can never be answered (its record is lost for good) stops counting as backlog."""
        self.redis.zrem(self._in(self._shard_of_sid(message_sid), "unanswered"), message_sid)
