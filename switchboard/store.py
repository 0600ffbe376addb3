"""The one owner of Redis keys: inbound messages, conversation history and per-conversation progress.

Every key starts with the configured prefix (REDIS_KEY_PREFIX). Keys, types and lifetimes:

| key                         | type   | holds                                                   | TTL            |
|-----------------------------|--------|---------------------------------------------------------|----------------|
| msg:{MessageSid}            | hash   | the inbound message, its seq, answer, sent parts' SIDs  | history TTL    |
| conv:{conversation}:seq     | string | last sequence number given to the conversation          | history TTL    |
| conv:{conversation}:answered| string | highest seq that has an answer                          | history TTL    |
| conv:{conversation}:replied | string | highest seq whose reply is finished                     | history TTL    |
| conv:{conversation}:history | list   | JSON turns {"role","content"}, oldest first, bounded    | history TTL    |
| rate:{conversation}:{window}| string | messages received in one rate-limit window              | the window     |
| outbox                      | zset   | MessageSids accepted but not yet known to be on SQS     | none           |
| unanswered                  | zset   | MessageSids accepted and not yet replied, by arrival    | none           |
| relay-lock                  | string | which process relays the outbox now                     | a few seconds  |
| delivery:{OutboundSid}      | hash   | a sent part: inbound MessageSid, conversation, part     | history TTL    |
|                             |        | index, furthest delivery status and error code          |                |
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import redis

from switchboard.inbound import InboundMessage

_ACCEPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'seq', seq, unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
return seq
"""

# Store the answer once; only the run that stores it extends the history, so a second run of the
# same completion can neither answer twice nor add a turn twice. Length is counted in characters
# (UTF-8 lead bytes), not bytes, so non-Latin scripts keep as much history as Latin ones.
_RECORD_ANSWER = """
if redis.call('HSETNX', KEYS[1], 'answer', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'answered_at', ARGV[2])
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], seq, 'EX', ARGV[3])
end
for i = 6, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
local function chars(s) local _, n = string.gsub(s, '[^\\128-\\191]', '') return n end
local turns = redis.call('LRANGE', KEYS[3], 0, -1)
local total = 0
for _, turn in ipairs(turns) do total = total + chars(turn) end
local max_turns, max_chars = tonumber(ARGV[4]), tonumber(ARGV[5])
local count = #turns
local i = 1
while count > 0 and (count > max_turns or total > max_chars) do
  total = total - chars(turns[i])
  redis.call('LPOP', KEYS[3])
  count = count - 1
  i = i + 1
end
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""

# Twilio's callbacks can arrive out of order (delivered before sent): keep the furthest status.
_RECORD_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'status_rank') or '-1')
if tonumber(ARGV[2]) <= current then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'status_rank', ARGV[2], 'error_code', ARGV[3])
return 1
"""

STATUS_RANK = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5,
               "undelivered": 6, "failed": 6, "canceled": 6}

_MARK_REPLIED = """
if redis.call('HSETNX', KEYS[1], 'replied_at', ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[3], ARGV[3])
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], seq, 'EX', ARGV[2])
end
return 1
"""


@dataclass(frozen=True)
class StoredMessage:
    """An accepted inbound message and what has been done with it so far."""

    inbound: InboundMessage
    seq: int
    answer: str | None = None
    replied: bool = False
    sent_parts: dict[int, str] = field(default_factory=dict)
    intake_result: str | None = None

    @property
    def conversation(self) -> str:
        return self.inbound.conversation_id


@dataclass(frozen=True)
class HistoryLimits:
    max_turns: int
    max_chars: int
    ttl_seconds: int


class ConversationStore:
    """Reads and writes Switchboard's state in Redis. No other module builds a Redis key."""

    def __init__(self, client: redis.Redis, prefix: str, limits: HistoryLimits) -> None:
        self.redis = client
        self.prefix = prefix
        self.limits = limits
        self._accept = client.register_script(_ACCEPT)
        self._record_answer = client.register_script(_RECORD_ANSWER)
        self._mark_replied = client.register_script(_MARK_REPLIED)
        self._record_status = client.register_script(_RECORD_STATUS)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # --- accepting -----------------------------------------------------------------------------

    def accept(self, message: InboundMessage, now: float | None = None) -> int | None:
        """Store a new message, give it the conversation's next seq and put it in the outbox.

        Returns the seq, or None when this MessageSid was accepted before (a Twilio retry).
        """
        now = time.time() if now is None else now
        fields: list[str] = []
        for name, value in message.to_fields().items():
            fields += [name, value]
        seq = self._accept(
            keys=[self._key("msg", message.message_sid), self._conv(message.conversation_id, "seq"),
                  self._key("outbox"), self._key("unanswered")],
            args=[self.limits.ttl_seconds, now, message.message_sid, *fields],
        )
        return int(seq) or None

    def outbox_remove(self, message_sid: str) -> None:
        self.redis.zrem(self._key("outbox"), message_sid)

    def outbox_due(self, older_than_seconds: float, limit: int = 100) -> list[str]:
        """MessageSids accepted at least `older_than_seconds` ago and still not known to be queued."""
        cutoff = time.time() - older_than_seconds
        sids = self.redis.zrangebyscore(self._key("outbox"), "-inf", cutoff, start=0, num=limit)
        return [_text(sid) for sid in sids]  # type: ignore[arg-type]

    def outbox_size(self) -> int:
        return int(self.redis.zcard(self._key("outbox")))

    def unanswered(self) -> tuple[int, float | None]:
        """How many accepted messages have no finished reply yet, and when the oldest arrived."""
        with self.redis.pipeline() as pipe:
            # Messages that expired unanswered (their records are gone) stop counting.
            pipe.zremrangebyscore(self._key("unanswered"), "-inf", time.time() - self.limits.ttl_seconds)
            pipe.zcard(self._key("unanswered"))
            pipe.zrange(self._key("unanswered"), 0, 0, withscores=True)
            _, count, oldest = pipe.execute()
        return int(count), (float(oldest[0][1]) if oldest else None)

    def ping(self) -> bool:
        return bool(self.redis.ping())

    def try_relay_lock(self, owner: str, seconds: int) -> bool:
        return bool(self.redis.set(self._key("relay-lock"), owner, nx=True, ex=seconds))

    # --- reading -------------------------------------------------------------------------------

    def load(self, message_sid: str) -> StoredMessage | None:
        raw = self.redis.hgetall(self._key("msg", message_sid))
        if not raw:
            return None
        data = {_text(k): _text(v) for k, v in raw.items()}
        parts = {int(k.split(":", 1)[1]): v for k, v in data.items() if k.startswith("part:")}
        return StoredMessage(
            inbound=InboundMessage.from_fields(data),
            seq=int(data["seq"]),
            answer=data.get("answer"),
            replied="replied_at" in data,
            sent_parts=parts,
            intake_result=data.get("intake"),
        )

    def history(self, conversation: str) -> list[dict[str, str]]:
        turns = self.redis.lrange(self._conv(conversation, "history"), 0, -1)
        return [json.loads(t) for t in turns]

    def answered_upto(self, conversation: str) -> int:
        return int(self.redis.get(self._conv(conversation, "answered")) or 0)

    def replied_upto(self, conversation: str) -> int:
        return int(self.redis.get(self._conv(conversation, "replied")) or 0)

    # --- writing -------------------------------------------------------------------------------

    def record_intake(self, message_sid: str, result: str) -> None:
        self.redis.hsetnx(self._key("msg", message_sid), "intake", result)

    def record_answer(self, message: StoredMessage, answer: str, turns: Sequence[Mapping[str, str]]) -> bool:
        """Store the answer and append `turns` to the history, once. False if it was answered before."""
        stored = self._record_answer(
            keys=[self._key("msg", message.inbound.message_sid), self._conv(message.conversation, "answered"),
                  self._conv(message.conversation, "history")],
            args=[answer, time.time(), self.limits.ttl_seconds, self.limits.max_turns, self.limits.max_chars,
                  *(json.dumps(dict(t), ensure_ascii=False) for t in turns)],
        )
        return bool(stored)

    def record_part_sent(self, message: StoredMessage, index: int, outbound_sid: str) -> None:
        delivery = self._key("delivery", outbound_sid)
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key("msg", message.inbound.message_sid), f"part:{index}", outbound_sid)
            pipe.hset(delivery, mapping={"message_sid": message.inbound.message_sid,
                                         "conversation": message.conversation, "part": index})
            pipe.expire(delivery, self.limits.ttl_seconds)
            pipe.execute()

    def record_delivery_status(self, outbound_sid: str, status: str, error_code: str = "") -> bool:
        """Record Twilio's status for a part we sent; False for an unknown SID or an older status."""
        rank = STATUS_RANK.get(status, -1)
        return bool(self._record_status(keys=[self._key("delivery", outbound_sid)], args=[status, rank, error_code]))

    def delivery(self, outbound_sid: str) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self.redis.hgetall(self._key("delivery", outbound_sid)).items()}

    def contact(self, message_sid: str) -> tuple[str, str] | None:
        """(sender, recipient) of a stored message, read without parsing the rest of its record."""
        sender, recipient = self.redis.hmget(self._key("msg", message_sid), "sender", "recipient")
        return (_text(sender), _text(recipient)) if sender and recipient else None

    def claim_direct_apology(self, message_sid: str) -> bool:
        """Claim the one apology sent outside the ordered path; False when it was claimed before."""
        with self.redis.pipeline() as pipe:
            pipe.hsetnx(self._key("msg", message_sid), "apology_sent_at", time.time())
            pipe.zrem(self._key("unanswered"), message_sid)
            claimed, _ = pipe.execute()
        return bool(claimed)

    def mark_replied(self, message: StoredMessage) -> bool:
        return bool(self._mark_replied(
            keys=[self._key("msg", message.inbound.message_sid), self._conv(message.conversation, "replied"),
                  self._key("unanswered")],
            args=[time.time(), self.limits.ttl_seconds, message.inbound.message_sid],
        ))

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

    def clear_history(self, conversation: str) -> None:
        self.redis.delete(self._conv(conversation, "history"))

    def _conv(self, conversation: str, what: str) -> str:
        return self._key("conv", conversation, what)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
