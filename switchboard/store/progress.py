"""How far a message and its conversation got: answered and replied marks, sent parts, delivery statuses."""

from __future__ import annotations

import time

from switchboard.store.base import StoreBase, as_text
from switchboard.store.records import StoredMessage

STATUS_RANK = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5,
               "undelivered": 6, "failed": 6, "canceled": 6}

# Twilio's callbacks can arrive out of order (delivered before sent): keep the furthest status.
_RECORD_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'status_rank') or '-1')
if tonumber(ARGV[2]) <= current then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'status_rank', ARGV[2], 'error_code', ARGV[3])
return 1
"""

_RECORD_PART_SENT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], 'message_sid', ARGV[3], 'conversation', ARGV[4], 'part', ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"""

_CLAIM_DIRECT_APOLOGY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local claimed = redis.call('HSETNX', KEYS[1], 'apology_sent_at', ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return claimed
"""

_MARK_REPLIED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'replied_at', ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[3], ARGV[3])
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], seq, 'EX', ARGV[2])
end
return 1
"""


class Progress(StoreBase):
    """The conversation's answered and replied marks, and what went out for each message."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._mark_replied = self.redis.register_script(_MARK_REPLIED)
        self._record_status = self.redis.register_script(_RECORD_STATUS)
        self._record_part_sent = self.redis.register_script(_RECORD_PART_SENT)
        self._claim_direct_apology = self.redis.register_script(_CLAIM_DIRECT_APOLOGY)

    def answered_upto(self, conversation: str) -> int:
        return int(self.redis.get(self._conv(conversation, "answered")) or 0)

    def replied_upto(self, conversation: str) -> int:
        return int(self.redis.get(self._conv(conversation, "replied")) or 0)

    def record_part_sent(self, message: StoredMessage, index: int, outbound_sid: str) -> bool:
        """Record a sent part's SID; False (and nothing written) when the message's record is gone."""
        sid, conversation = message.inbound.message_sid, message.conversation
        # The part's delivery record sits in its conversation's shard; status callbacks know only the
        # part's SID, so the sid index says where (placed first: see StoreBase._place).
        self._place(outbound_sid, conversation, self.limits.ttl_seconds)
        return bool(self._record_part_sent(
            keys=[self._msg(sid, conversation), self._of(conversation, "delivery", outbound_sid)],
            args=[f"part:{index}", outbound_sid, sid, conversation, index, self.limits.ttl_seconds],
        ))

    def record_delivery_status(self, outbound_sid: str, status: str, error_code: str = "") -> bool:
        """Record Twilio's status for a part we sent; False for an unknown SID or an older status."""
        rank = STATUS_RANK.get(status, -1)
        return bool(self._record_status(keys=[self._delivery(outbound_sid)], args=[status, rank, error_code]))

    def delivery(self, outbound_sid: str) -> dict[str, str]:
        return {as_text(k): as_text(v) for k, v in self.redis.hgetall(self._delivery(outbound_sid)).items()}

    def _delivery(self, outbound_sid: str) -> str:
        return self._in(self._shard_of_sid(outbound_sid), "delivery", outbound_sid)

    def claim_direct_apology(self, message_sid: str) -> bool:
        """Claim the one apology sent outside the ordered path; False when it was claimed before."""
        shard = self._shard_of_sid(message_sid)
        return bool(self._claim_direct_apology(
            keys=[self._in(shard, "msg", message_sid), self._in(shard, "unanswered")], args=[time.time(), message_sid],
        ))

    def mark_replied(self, message: StoredMessage) -> bool:
        return bool(self._mark_replied(
            keys=[self._msg(message.inbound.message_sid, message.conversation),
                  self._conv(message.conversation, "replied"), self._of(message.conversation, "unanswered")],
            args=[time.time(), self.limits.ttl_seconds, message.inbound.message_sid],
        ))
