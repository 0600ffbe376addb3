"""The one owner of Redis keys: inbound messages, conversation history and per-conversation progress.

Every key starts with the configured prefix (REDIS_KEY_PREFIX). Keys, types and lifetimes:

| key                         | type   | holds                                                   | TTL            |
|-----------------------------|--------|---------------------------------------------------------|----------------|
| msg:{MessageSid}            | hash   | the inbound message, its seq, answer, sent parts' SIDs  | message TTL    |
| claim:{MessageSid}          | string | the seq it was accepted as: a replay is a duplicate     | claim TTL      |
|                             |        | long after the record is gone                           | (90 days)      |
| conv:{conversation}:seq     | string | last sequence number given to the conversation          | history TTL    |
| conv:{conversation}:answered| string | highest seq that has an answer                          | history TTL    |
| conv:{conversation}:replied | string | highest seq whose reply is finished                     | history TTL    |
| conv:{conversation}:history | list   | JSON turns {"role","content"}, oldest first, bounded    | history TTL    |
|                             |        | by HISTORY_MAX_TOKENS/_TURNS (and _CHARS when set)      |                |
| conv:{c}:to-fold            | list   | JSON turns that overflowed the history, oldest first,   | history TTL    |
|                             |        | waiting for the summary task (HISTORY_SUMMARY)          |                |
| conv:{c}:summary            | hash   | text: the running summary of turns folded out of the    | history TTL    |
|                             |        | history; generation: changes at every fold, so a fold   |                |
|                             |        | is applied once (compare-and-set); updated_at           |                |
| rate:{conversation}:{window}| string | messages received in one rate-limit window              | the window     |
| conv:{conversation}:messages| zset   | the conversation's MessageSids by seq (set at accept),  | the longer of  |
|                             |        | so `forget` finds a person's records                    | history/message|
| conv:{c}:last-inbound       | string | when the user last wrote (Unix time): the WhatsApp      | the longer of  |
|                             |        | 24-hour window is counted from it                       | history/message|
| msg:{sid} burst_next,       | field  | bursts: the next message that took this one into its    | the record's   |
|   answered_by               |        | answer, and the one whose reply answered the burst      |                |
| optout:{conversation}       | string | the user sent STOP (when): nothing more is sent to them | none           |
|                             |        | and no model is called for them until START             |                |
| msg:{MessageSid} opt_out    | field  | what intake found of the opt-out state, set once with   | the record's   |
|                             |        | the flag change (stopped, already-out, started, ...)    |                |
| spend:{conv}:day:{YYYYMMDD} | string | completions granted to the conversation that UTC day    | to day end     |
| spend:{conv}:notice:{why}   | string | the one over-limit notice was given (why: sender-cap,   | day end / 60 s |
|                             |        | over-budget)                                            |                |
| budget:minute, budget:day   | hash   | global completion token buckets: tokens, ts (refilled   | 2 min / 2 days |
|                             |        | evenly; a missing bucket is full)                       |                |
| our-numbers                 | set    | the To numbers messages arrived on (for `forget`)       | the longer of  |
|                             |        |                                                         | history/message|
| texts                       | zset   | with MESSAGE_BODY_RETENTION_SECONDS only: MessageSids   | the longer of  |
|                             |        | whose record still holds text, by arrival (swept)       | history/message|
| outbox                      | zset   | MessageSids accepted but not yet known to be on SQS     | none           |
| unanswered                  | zset   | MessageSids accepted and not yet replied, by arrival    | none           |
| relay-lock                  | string | which process relays the outbox now                     | a few seconds  |
| outbox-owed                 | hash   | MessageSid -> "{stage}:{generation}": a link a task     | none (cleared  |
|                             |        | could not publish; the relay publishes the chain from   | with its outbox|
|                             |        | that stage, deduplicated by the generation              | entry)         |
| outbox-parked               | zset   | MessageSids whose publish SQS refused (not a transient  | none           |
|                             |        | or setup fault), set aside so later entries go on       |                |
| delivery:{OutboundSid}      | hash   | a sent part: inbound MessageSid, conversation, part     | history TTL    |
|                             |        | index, furthest delivery status and error code          |                |
| lease:{MessageSid}:{step}   | string | the token of the run doing `step` (answer, reply) now:  | LEASE_SECONDS, |
|   lease:{conv}:summary      |        | (the summary task leases by conversation)               |                |
|                             |        | an overlapping run of the same step waits               | renewed        |
| msg:{sid} transcript:{i}    | field  | media item i's transcript (a voice note), made once:    | the record's   |
|                             |        | a retry or redelivery reuses it                         |                |
| msg:{MessageSid} claimed:{i}| field  | when part i was first claimed to be sent: a later run   | the record's   |
|                             |        | finding it without part:{i} looks in Twilio's log first |                |
| msg:{sid} undelivered,      | field  | why the reply was not sent (opted-out, outside-window); | the record's   |
|   outside_window            |        | "{i}:{first}": the window had closed, the template went |                |
|                             |        | as part i carrying the answer from part first on        |                |
| sqs-fault:{queue}           | string | an SQS configuration fault a worker sees on that queue  | ~60 s, renewed |
|                             |        | (its cause, e.g. QueueDoesNotExist); gone = no fault    | while it lasts |
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

from switchboard.domain.inbound import InboundMessage
from switchboard.tokens import BYTES_PER_TOKEN, TOKENS_PER_MESSAGE

log = logging.getLogger(__name__)

# A lease lasts this long past its last renewal: how soon another run may take over from a crashed
# one. Renewals keep a live run's lease however long its OpenAI or Twilio call takes.
LEASE_SECONDS = 10.0

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

# The history's bounds, shared by _RECORD_ANSWER and _END_FOLD (a longer summary leaves less room).
# Past a bound (turns, estimated tokens with the summary counted in, characters when
# HISTORY_MAX_CHARS is set), the oldest whole exchanges leave the history: onto the fold list for
# the summary task (HISTORY_SUMMARY), or dropped. Tokens are estimated as switchboard/tokens.py does
# (bytes / bytes-per-token, rounded up, plus the per-message framing); characters are counted as
# characters (UTF-8 lead bytes), not bytes. bounds(i) reads ConversationStore._bounds() from ARGV[i].
_TRIM_HISTORY = """
local function bounds(i)
  return {turns = tonumber(ARGV[i]), chars = tonumber(ARGV[i + 1]), tokens = tonumber(ARGV[i + 2]),
          per_token = tonumber(ARGV[i + 3]), per_message = tonumber(ARGV[i + 4]), fold = ARGV[i + 5] == '1'}
end
local function trim_history(history, fold_list, summary_key, b)
  local function chars(s) local _, n = string.gsub(s, '[^\\128-\\191]', '') return n end
  local function tokens(text) return math.ceil(#text / b.per_token) + b.per_message end
  local turns = redis.call('LRANGE', history, 0, -1)
  local roles, sizes, weights = {}, {}, {}
  local total_chars, total_tokens = 0, 0
  local summary = redis.call('HGET', summary_key, 'text')
  if summary and summary ~= '' then total_tokens = tokens(summary) end
  for i, turn in ipairs(turns) do
    local ok, decoded = pcall(cjson.decode, turn)
    local content = turn
    if ok and type(decoded) == 'table' then
      roles[i] = decoded['role']
      if type(decoded['content']) == 'string' then content = decoded['content'] end
    end
    sizes[i], weights[i] = chars(turn), tokens(content)
    total_chars, total_tokens = total_chars + sizes[i], total_tokens + weights[i]
  end
  local n, first = #turns, 1
  local function over()
    return n - first + 1 > b.turns or (b.chars > 0 and total_chars > b.chars) or total_tokens > b.tokens
  end
  while first <= n and over() do
    -- One whole exchange at a time: answers left over from an older cut, the user's turns, the answers to them.
    local j = first
    while j <= n and roles[j] ~= 'user' do j = j + 1 end
    while j <= n and roles[j] == 'user' do j = j + 1 end
    while j <= n and roles[j] ~= 'user' do j = j + 1 end
    for k = first, j - 1 do
      total_chars, total_tokens = total_chars - sizes[k], total_tokens - weights[k]
      if b.fold then redis.call('RPUSH', fold_list, turns[k]) end
    end
    first = j
  end
  if first > 1 then redis.call('LTRIM', history, first - 1, -1) end
  return first - 1
end
"""

# Store the answer once; only the run that stores it extends the history, so a second run of the
# same completion can neither answer twice nor add a turn twice.
# KEYS: record, answered mark, history, fold list, summary. ARGV: answer, now, TTL, the bounds (4-9),
# a fresh fold generation, then the new turns (JSON).
_RECORD_ANSWER = _TRIM_HISTORY + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'answer', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'answered_at', ARGV[2])
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], seq, 'EX', ARGV[3])
end
for i = 11, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
local b = bounds(4)
if trim_history(KEYS[3], KEYS[4], KEYS[5], b) > 0 and b.fold then
  redis.call('HSETNX', KEYS[5], 'generation', ARGV[10])
end
for i = 3, 5 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
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

# Writes to a message's record check, in the same script, that the record exists: a plain HSET on
# an expired (or lost) record would recreate it without its TTL and without its seq.
_RECORD_INTAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'intake', ARGV[1])
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

STATUS_RANK = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5,
               "undelivered": 6, "failed": 6, "canceled": 6}

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


@dataclass(frozen=True)
class StoredMessage:
    """An accepted inbound message and what has been done with it so far."""

    inbound: InboundMessage
    seq: int
    answer: str | None = None
    replied: bool = False
    sent_parts: dict[int, str] = field(default_factory=dict)
    intake_result: str | None = None
    transcripts: dict[int, str] = field(default_factory=dict)  # voice note i's transcript, made once
    answered_by: str | None = None  # a later message of the same burst whose reply answered this one
    burst_next: str | None = None  # the next message of its burst, which took this one into its answer
    undelivered: str | None = None  # why no reply went out (opted-out, outside-window, a Twilio refusal)

    @property
    def conversation(self) -> str:
        return self.inbound.conversation_id


@dataclass(frozen=True)
class HistoryLimits:
    max_turns: int
    max_chars: int  # HISTORY_MAX_CHARS; 0: no bound in characters (the token budget bounds the history)
    ttl_seconds: int  # history and per-conversation progress (HISTORY_TTL_SECONDS)
    message_ttl_seconds: int = 7 * 24 * 3600  # msg:{sid} records (MESSAGE_TTL_SECONDS)
    claim_ttl_seconds: int = 90 * 24 * 3600  # claim:{sid} (MESSAGE_CLAIM_TTL_SECONDS)
    max_tokens: int = 3000  # HISTORY_MAX_TOKENS: estimated tokens of the history and its summary (issue 11)
    summarize: bool = False  # HISTORY_SUMMARY: fold the overflow for the summary task; False drops it


@dataclass(frozen=True)
class Claim:
    """What accepting a MessageSid found."""

    seq: int  # 0 when claimed before and the record is gone
    new: bool  # this call stored the message
    in_outbox: bool  # stored and not yet known to be on SQS

    @property
    def needs_hand_over(self) -> bool:
        return self.new or self.in_outbox


class ConversationStore:
    """Reads and writes Switchboard's state in Redis. No other module builds a Redis key."""

    def __init__(self, client: redis.Redis, prefix: str, limits: HistoryLimits,
                 spend: SpendLimits | None = None, text_retention_seconds: int | None = None) -> None:
        self.redis = client
        self.prefix = prefix
        self.limits = limits
        self.spend = spend or SpendLimits()
        self.text_retention_seconds = text_retention_seconds  # MESSAGE_BODY_RETENTION_SECONDS
        self._charge_completion = client.register_script(_CHARGE_COMPLETION)
        self._settle_intake = client.register_script(_SETTLE_INTAKE)
        self._raise_progress = client.register_script(_RAISE_PROGRESS)
        self._accept = client.register_script(_ACCEPT)
        self._record_answer = client.register_script(_RECORD_ANSWER)
        self._begin_fold = client.register_script(_BEGIN_FOLD)  # history folding (issue 11)
        self._end_fold = client.register_script(_END_FOLD)
        self._forget_folded = client.register_script(_FORGET_FOLDED)
        self._mark_replied = client.register_script(_MARK_REPLIED)
        self._record_status = client.register_script(_RECORD_STATUS)
        self._record_intake = client.register_script(_RECORD_INTAKE)
        self._record_part_sent = client.register_script(_RECORD_PART_SENT)
        self._claim_direct_apology = client.register_script(_CLAIM_DIRECT_APOLOGY)
        self._outbox_remove = client.register_script(_OUTBOX_REMOVE)
        self._restore = client.register_script(_RESTORE)
        self._reopen_for_follow_up = client.register_script(_REOPEN_FOR_FOLLOW_UP)
        self._mark_given_up = client.register_script(_MARK_GIVEN_UP)
        self._extend_lease = client.register_script(_EXTEND_LEASE)
        self._release_lease = client.register_script(_RELEASE_LEASE)
        self._claim_part = client.register_script(_CLAIM_PART)
        self._unclaim_part = client.register_script(_UNCLAIM_PART)
        self._record_absorbed = client.register_script(_RECORD_ABSORBED)
        self._record_answered_by = client.register_script(_RECORD_ANSWERED_BY)
        self._decide_opt_out = client.register_script(_DECIDE_OPT_OUT)  # opt-out at intake (issue 11)
        self._record_transcript = client.register_script(_RECORD_TRANSCRIPT)  # voice-note transcripts (issue 11)
        self._set_delivery_field = client.register_script(_SET_DELIVERY_FIELD)  # WhatsApp delivery (issue 11)
        self._mark_outside_window = client.register_script(_MARK_OUTSIDE_WINDOW)  # WhatsApp delivery (issue 11)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # --- accepting -----------------------------------------------------------------------------

    def accept(self, message: InboundMessage, now: float | None = None) -> int | None:
        """Store a new message, give it the conversation's next seq and put it in the outbox.

        Returns the seq, or None when this MessageSid was accepted before (a Twilio retry).
        """
        claim = self.claim(message, now)
        return claim.seq if claim.new else None

    def claim(self, message: InboundMessage, now: float | None = None) -> Claim:
        """`accept`, telling also whether a sid claimed before still waits in the outbox."""
        now = time.time() if now is None else now
        fields: list[str] = []
        for name, value in message.to_fields().items():
            fields += [name, value]
        limits = self.limits
        seq, new, in_outbox = self._accept(
            keys=[self._key("msg", message.message_sid), self._conv(message.conversation_id, "seq"),
                  self._key("outbox"), self._key("unanswered"), self._key("claim", message.message_sid),
                  self._conv(message.conversation_id, "messages"),
                  self._conv(message.conversation_id, "last-inbound")],
            # The seq counter outlives every record that carries one of its numbers.
            args=[max(limits.ttl_seconds, limits.message_ttl_seconds), now, message.message_sid,
                  limits.message_ttl_seconds, limits.claim_ttl_seconds, *fields],
        )
        return Claim(int(seq), bool(new), bool(in_outbox))

    def outbox_remove(self, message_sid: str) -> None:
        # Guarded: a link a worker could not publish meanwhile (outbox-owed) keeps the entry.
        self.outbox_clear(message_sid, None)

    def outbox_due(self, older_than_seconds: float, limit: int = 100) -> list[str]:
        """MessageSids accepted at least `older_than_seconds` ago and still not known to be queued."""
        cutoff = time.time() - older_than_seconds
        sids = self.redis.zrangebyscore(self._key("outbox"), "-inf", cutoff, start=0, num=limit)
        return _members(sids)

    def outbox_size(self) -> int:
        return int(self.redis.zcard(self._key("outbox")))

    def unanswered(self) -> tuple[int, float | None]:
        """How many accepted messages have no finished reply yet, and when the oldest arrived."""
        with self.redis.pipeline() as pipe:
            # Messages that expired unanswered (their records are gone) stop counting.
            pipe.zremrangebyscore(self._key("unanswered"), "-inf", time.time() - self.limits.message_ttl_seconds)
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
        transcripts = {int(k.split(":", 1)[1]): v for k, v in data.items() if k.startswith("transcript:")}
        return StoredMessage(
            inbound=InboundMessage.from_fields(data),
            seq=int(data["seq"]),
            answer=data.get("answer"),
            replied="replied_at" in data,
            sent_parts=parts,
            intake_result=data.get("intake"),
            transcripts=transcripts,
            answered_by=data.get("answered_by"),
            burst_next=data.get("burst_next"),
            undelivered=data.get("undelivered"),
        )

    def history(self, conversation: str) -> list[dict[str, str]]:
        turns = self.redis.lrange(self._conv(conversation, "history"), 0, -1)
        return [json.loads(t) for t in turns]

    def sid_at(self, conversation: str, seq: int) -> str | None:
        """The MessageSid the conversation's message `seq` was accepted as (None: no such message, or forgotten)."""
        found = _members(self.redis.zrangebyscore(self._conv(conversation, "messages"), seq, seq, start=0, num=1))
        return found[0] if found else None

    def last_seq(self, conversation: str) -> int:
        """The newest seq given to the conversation: a message accepted after `seq` has a higher one."""
        return int(self.redis.get(self._conv(conversation, "seq")) or 0)

    def last_inbound_at(self, conversation: str) -> float | None:
        """When the user last wrote to us (the WhatsApp 24-hour window starts there); None when unknown."""
        value = self.redis.get(self._conv(conversation, "last-inbound"))
        return float(value) if value is not None else None

    # --- opt-out (STOP / START): one flag per conversation, kept until the user opts back in -----

    def set_opted_out(self, conversation: str, opted_out: bool, now: float | None = None) -> bool:
        """Record STOP (True) or START (False); returns whether this changed the state."""
        key = self._key("optout", conversation)
        if opted_out:
            return bool(self.redis.set(key, time.time() if now is None else now, nx=True))
        return bool(self.redis.delete(key))

    def is_opted_out(self, conversation: str) -> bool:
        return bool(self.redis.exists(self._key("optout", conversation)))

    def answered_upto(self, conversation: str) -> int:
        return int(self.redis.get(self._conv(conversation, "answered")) or 0)

    def replied_upto(self, conversation: str) -> int:
        return int(self.redis.get(self._conv(conversation, "replied")) or 0)

    # --- writing -------------------------------------------------------------------------------

    def record_intake(self, message_sid: str, result: str) -> bool:
        """Record intake's result once; False when recorded before or the record is gone (never recreated)."""
        return bool(self._record_intake(keys=[self._key("msg", message_sid)], args=[result]))

    def record_answer(self, message: StoredMessage, answer: str, turns: Sequence[Mapping[str, str]]) -> bool:
        """Store the answer and append `turns` to the history, once. False if it was answered before.

        Turns past the history's bounds move to the fold list (HISTORY_SUMMARY; see `fold_due`) or are dropped.
        """
        limits, conversation = self.limits, message.conversation
        stored = self._record_answer(
            keys=[self._key("msg", message.inbound.message_sid), self._conv(conversation, "answered"),
                  self._conv(conversation, "history"), self._conv(conversation, "to-fold"),
                  self._conv(conversation, "summary")],
            args=[answer, time.time(), limits.ttl_seconds, *self._bounds(), uuid.uuid4().hex[:12],
                  *(json.dumps(dict(t), ensure_ascii=False) for t in turns)],
        )
        return bool(stored)

    def record_part_sent(self, message: StoredMessage, index: int, outbound_sid: str) -> bool:
        """Record a sent part's SID; False (and nothing written) when the message's record is gone."""
        return bool(self._record_part_sent(
            keys=[self._key("msg", message.inbound.message_sid), self._key("delivery", outbound_sid)],
            args=[f"part:{index}", outbound_sid, message.inbound.message_sid, message.conversation, index,
                  self.limits.ttl_seconds],
        ))

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
        return bool(self._claim_direct_apology(
            keys=[self._key("msg", message_sid), self._key("unanswered")], args=[time.time(), message_sid],
        ))

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
        """Forget the conversation's turns (/reset): the history, the turns waiting to be folded and the summary."""
        self.redis.delete(*(self._conv(conversation, what) for what in ("history", "to-fold", "summary")))

    def _conv(self, conversation: str, what: str) -> str:
        return self._key("conv", conversation, what)

    # --- spend and privacy (issue 9): see SpendLimits and the scripts beside it -------------------

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
        return _text(self._charge_completion(
            keys=[self._key("msg", message.inbound.message_sid), self._key("budget", "minute"),
                  self._key("budget", "day"), self._key("spend", conversation, "day", day),
                  self._key("spend", conversation, "notice", "sender-cap"),
                  self._key("spend", conversation, "notice", "over-budget")],
            args=[now, spend.per_minute, spend.per_day, spend.sender_per_day, until_tomorrow],
        ))

    def settle_intake(self, message: StoredMessage, result: str, drop_body: bool) -> str | None:
        """Record intake's result once and index the message; returns the result on record (None: no record)."""
        sid = message.inbound.message_sid
        stored = self._settle_intake(
            keys=[self._key("msg", sid), self._conv(message.conversation, "messages"), self._key("our-numbers"),
                  self._key("texts")],
            args=[result, "1" if drop_body else "0", time.time(), sid,
                  max(self.limits.ttl_seconds, self.limits.message_ttl_seconds), message.inbound.recipient,
                  "1" if self.text_retention_seconds is not None else "0"],
        )
        return _text(stored) if stored else None

    def remove_old_texts(self, older_than_seconds: float, limit: int = 50, now: float | None = None) -> int:
        """Blank the text (question and answer) of replied messages older than this, in records and history.

        A message still waiting for its reply keeps its text until the reply is done. Returns how
        many messages lost their text.
        """
        cutoff = (time.time() if now is None else now) - older_than_seconds
        texts = self._key("texts")
        due = _members(self.redis.zrangebyscore(texts, "-inf", cutoff, start=0, num=limit))
        removed = 0
        for sid in due:
            try:
                message = self.load(sid)
            except (KeyError, ValueError):  # unreadable: it expires with its record
                message = None
            if message is not None and not message.replied:
                continue  # still needed; looked at again on the next sweep
            if message is not None:
                history = self._conv(message.conversation, "history")
                # The turns as record_answer stored them: the oldest equal turn is this message's.
                turns = [json.dumps({"role": role, "content": content}, ensure_ascii=False)
                         for role, content in (("user", message.inbound.body), ("assistant", message.answer or ""))
                         if content]
                with self.redis.pipeline() as pipe:
                    for turn in turns:
                        pipe.lrem(history, 1, turn)
                    pipe.hset(self._key("msg", sid), mapping={"body": "", "answer": "", "body_removed_at": time.time()})
                    if message.transcripts:  # a voice note's transcript is the user's words too (issue 11)
                        pipe.hdel(self._key("msg", sid), *(f"transcript:{i}" for i in message.transcripts))
                    found = pipe.execute()
                # Folding (issue 11): a chat message's turns no longer in the history wait on the fold list or
                # are in the summary ("chat" is user_commands.Command.CHAT, which the store cannot import).
                if turns and message.intake_result == "chat" and not any(found[:len(turns)]):
                    self.forget_folded_text(message.conversation, turns)
                removed += 1
            self.redis.zrem(texts, sid)
        return removed

    def our_numbers(self) -> list[str]:
        """The numbers (and WhatsApp senders) this deployment has received messages on."""
        return sorted(_members(self.redis.smembers(self._key("our-numbers"))))

    def forget_conversation(self, conversation: str, before_seq: int | None = None) -> dict[str, int]:
        """Delete what is stored for one conversation; returns counts of what was deleted.

        `before_seq` keeps that message and later ones (the /forget request itself, still being
        answered) and counts the earlier ones as done. Claims (claim:{MessageSid}) are kept: they
        hold no personal data, and deleting them would let a captured webhook be replayed as new.
        """
        upper = "+inf" if before_seq is None else f"({before_seq}"
        index = self._conv(conversation, "messages")
        sids = set(_members(self.redis.zrangebyscore(index, "-inf", upper)))
        # Messages accepted but not yet through intake are not indexed yet; they are all unanswered.
        for sid in _members(self.redis.zrange(self._key("unanswered"), 0, -1)):
            try:
                found = self.load(sid)
            except (KeyError, ValueError):  # a corrupt record cannot be matched; it expires by itself
                continue
            if found and found.conversation == conversation and (before_seq is None or found.seq < before_seq):
                sids.add(found.inbound.message_sid)
        deliveries = []
        for sid in sids:
            fields = self.redis.hgetall(self._key("msg", sid))
            deliveries += [_text(v) for k, v in fields.items() if _text(k).startswith("part:")]
        limit_keys = [k for pattern in (self._key("rate", conversation, "*"), self._key("spend", conversation, "*"))
                      for k in self.redis.scan_iter(match=pattern, count=500)]
        history = self._conv(conversation, "history")
        # Turns waiting to be folded into the summary (issue 11) are conversation turns too.
        turns = int(self.redis.llen(history)) + int(self.redis.llen(self._conv(conversation, "to-fold")))
        with self.redis.pipeline() as pipe:
            for sid in sids:
                pipe.delete(self._key("msg", sid))
            for outbound in deliveries:
                pipe.delete(self._key("delivery", outbound))
            if sids:
                for zset in ("outbox", "unanswered", "outbox-parked", "texts"):
                    pipe.zrem(self._key(zset), *sids)
                pipe.hdel(self._key("outbox-owed"), *sids)
                pipe.zrem(index, *sids)
            if limit_keys:
                pipe.delete(*limit_keys)
            pipe.delete(history, self._conv(conversation, "to-fold"), self._conv(conversation, "summary"))
            if before_seq is None:
                pipe.delete(*(self._conv(conversation, what) for what in ("seq", "answered", "replied", "messages",
                                                                     "last-inbound")))
            pipe.execute()
        if before_seq is not None:
            self._raise_progress(keys=[self._conv(conversation, "answered"), self._conv(conversation, "replied")],
                                 args=[before_seq - 1, self.limits.ttl_seconds])
        return {"messages": len(sids), "conversation turns": turns, "delivery records": len(deliveries),
                "limit counters": len(limit_keys)}

    # --- bursts (issue 11): a message answered by the reply to a later one -----------------------

    def record_absorbed(self, message: StoredMessage, next_sid: str) -> bool:
        """Record that `next_sid` (the conversation's next message) answers this one too, once.

        The message counts as answered (with no text of its own, so its reply sends nothing) and adds
        no turn: the later message's answer records every turn of the burst. False if it was
        answered before or its record is gone.
        """
        return bool(self._record_absorbed(
            keys=[self._key("msg", message.inbound.message_sid), self._conv(message.conversation, "answered")],
            args=[next_sid, time.time(), self.limits.ttl_seconds],
        ))

    def record_burst_answered_by(self, member_sids: Sequence[str], final_sid: str) -> None:
        """Point every earlier message of a burst at the message whose reply answered them all."""
        if member_sids:
            self._record_answered_by(keys=[self._key("msg", sid) for sid in member_sids], args=[final_sid])

    # --- opt-out decisions (issue 11): STOP/START applied once per message -----------------------

    def decide_opt_out(self, message: StoredMessage, change: str, now: float | None = None) -> tuple[str, bool]:
        """Apply the message's keyword ('out': STOP, 'in': START, 'none') to the opt-out flag, once per message.

        The decision is recorded in the message's record together with the flag change, so a
        redelivered or overlapping run gets the first run's decision back instead of deciding
        again from a flag that run already changed. Returns (decision, first): the decision is
        'stopped' (this message opted out), 'already-out' (a STOP while opted out), 'started' (this
        message opted back in), 'not-out' (a START while not opted out), 'out' or 'in' (any other
        message, while opted out or not), or 'missing' (no record); `first` is True only for the
        run that decided.
        """
        decision, first = self._decide_opt_out(
            keys=[self._key("msg", message.inbound.message_sid), self._key("optout", message.conversation)],
            args=[change, time.time() if now is None else now],
        )
        return _text(decision), bool(first)

    # --- voice-note transcripts (issue 11): transcribed once per media item -----------------------

    def record_transcript(self, message: StoredMessage, index: int, text: str) -> bool:
        """Keep media item `index`'s transcript on the message, once; False if kept before or the record is gone."""
        return bool(self._record_transcript(keys=[self._key("msg", message.inbound.message_sid)],
                                            args=[f"transcript:{index}", text]))

    # --- WhatsApp delivery (issue 11): replies not sent, the 24-hour window, when a part went out ---

    def mark_undelivered(self, message_sid: str, reason: str) -> bool:
        """Record why the reply did not (fully) go out (opted-out, outside-window, ...); False: no record."""
        return bool(self._set_delivery_field(keys=[self._key("msg", message_sid)], args=["undelivered", reason]))

    def mark_outside_window(self, message_sid: str, template_index: int, first_part: int) -> tuple[int, int] | None:
        """The 24-hour window closed for this reply (our clock, or Twilio's 63016): it goes as the template,
        claimed as part `template_index` and carrying the answer from part `first_part` on.

        The first choice is kept, so every later run sends the same template once; returns the choice
        on record (None: no record).
        """
        chosen = self._mark_outside_window(keys=[self._key("msg", message_sid)],
                                           args=[f"{template_index}:{first_part}"])
        return _template_choice(chosen)

    def outside_window(self, message_sid: str) -> tuple[int, int] | None:
        """(template's part index, first part it carries) once the window was found closed, else None."""
        return _template_choice(self.redis.hget(self._key("msg", message_sid), "outside_window"))

    def part_claimed_at(self, message_sid: str, index: int) -> float | None:
        """When part `index` was first claimed, just before it was sent (None: never claimed)."""
        value = self.redis.hget(self._key("msg", message_sid), f"claimed:{index}")
        return float(value) if value is not None else None

    def set_last_inbound_at(self, conversation: str, when: float) -> None:
        """Set when the user last wrote, earlier or later (accept only ever moves it on): for tests and repairs."""
        ttl = max(self.limits.ttl_seconds, self.limits.message_ttl_seconds)
        self.redis.set(self._conv(conversation, "last-inbound"), when, ex=ttl)

    # --- history folding (issue 11): turns past the budget wait on a fold list for the summary task ---

    def summary(self, conversation: str) -> str:
        """The running summary of the turns folded out of the conversation's history ("" when none)."""
        text = self.redis.hget(self._conv(conversation, "summary"), "text")
        return _text(text) if text else ""

    def fold_due(self, conversation: str) -> str | None:
        """The fold generation when turns wait to be folded into the summary (None: nothing waits).

        The generation changes with every fold, so it makes a deduplication id per fold.
        """
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.llen(self._conv(conversation, "to-fold"))
            pipe.hget(self._conv(conversation, "summary"), "generation")
            waiting, generation = pipe.execute()
        if not waiting:
            return None
        return _text(generation) if generation else "new"

    def begin_fold(self, conversation: str, max_turns: int) -> FoldBatch | None:
        """The oldest waiting turns (at most `max_turns`), the summary so far and its generation; None: none wait."""
        found = self._begin_fold(
            keys=[self._conv(conversation, "summary"), self._conv(conversation, "to-fold")],
            args=[uuid.uuid4().hex[:12], max(max_turns, 1), self.limits.ttl_seconds],
        )
        if not found:
            return None
        generation, summary, turns = found
        return FoldBatch(_text(generation), _text(summary), [json.loads(t) for t in turns])

    def end_fold(self, conversation: str, batch: FoldBatch, summary: str | None) -> int | None:
        """Take the batch's turns off the fold list and store `summary` (None: keep the old one), once.

        A longer summary leaves less room: the history is trimmed to its bounds again (its oldest
        exchanges join the fold list). Returns how many turns still wait, or None when the generation
        changed since `begin_fold`: another run ended this fold first, or /reset, forget or expiry
        removed the summary meanwhile.
        """
        left = self._end_fold(
            keys=[self._conv(conversation, "summary"), self._conv(conversation, "to-fold"),
                  self._conv(conversation, "history")],
            args=[batch.generation, len(batch.turns), summary or "", "keep" if summary is None else "set",
                  uuid.uuid4().hex[:12], self.limits.ttl_seconds, time.time(), *self._bounds()],
        )
        return None if int(left) < 0 else int(left)

    def _bounds(self) -> list[int | str]:
        """The history's bounds as _TRIM_HISTORY's bounds() reads them from ARGV."""
        limits = self.limits
        return [limits.max_turns, max(limits.max_chars, 0), limits.max_tokens, BYTES_PER_TOKEN, TOKENS_PER_MESSAGE,
                "1" if limits.summarize else "0"]

    def forget_folded_text(self, conversation: str, turns: Sequence[str]) -> bool:
        """Text past its retention that has left the history: off the fold list, or else the summary goes.

        `turns` are JSON turns as record_answer stored them. A fold in progress is voided (its
        generation changes). Returns True when the summary was deleted.
        """
        return bool(self._forget_folded(
            keys=[self._conv(conversation, "summary"), self._conv(conversation, "to-fold")],
            args=[uuid.uuid4().hex[:12], *turns],
        ))

    # --- SQS faults (tasks/sqs_faults.py): seen by one worker, shown by every process ------------

    def record_sqs_fault(self, queue: str, cause: str, ttl_seconds: int) -> None:
        # A short TTL, renewed while the fault lasts, so a dead worker's fault ages out by itself.
        self.redis.set(self._key("sqs-fault", queue), cause, ex=ttl_seconds)

    def clear_sqs_fault(self, queue: str) -> None:
        self.redis.delete(self._key("sqs-fault", queue))

    def sqs_faults(self) -> dict[str, str]:
        """Queue name -> cause, for every SQS configuration fault some worker sees now."""
        prefix = self._key("sqs-fault", "")
        keys = list(self.redis.scan_iter(match=prefix + "*", count=100))
        values = self.redis.mget(keys) if keys else []
        return {_text(key)[len(prefix):]: _text(value) for key, value in zip(keys, values, strict=True)
                if value is not None}


    # --- owed links, parked entries, rebuilt records and follow-ups (issue 8) -------------------

    def owe_link(self, message_sid: str, stage: str, due_at: float) -> str:
        """Record that `stage` onwards must still be published for this message; returns its generation.

        A fresh generation per debt makes the relay's deduplication ids new, so SQS FIFO does not drop
        the republish as a copy of a publish that was attempted (and may have landed) minutes ago.
        """
        generation = uuid.uuid4().hex[:12]
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("outbox-owed"), message_sid, f"{stage}:{generation}")
            pipe.zadd(self._key("outbox"), {message_sid: due_at})
            pipe.execute()
        return generation

    def owed_link(self, message_sid: str) -> tuple[str, str] | None:
        """(stage, generation) owed for this message, or None when only its whole chain is due."""
        raw = self.redis.hget(self._key("outbox-owed"), message_sid)
        if raw is None:
            return None
        stage, _, generation = _text(raw).partition(":")
        return stage, generation

    def outbox_clear(self, message_sid: str, published: tuple[str, str] | None) -> bool:
        """Remove the entry after publishing `published` (None: the whole chain); False if a newer debt came."""
        owed = "" if published is None else ":".join(published)
        return bool(self._outbox_remove(
            keys=[self._key("outbox"), self._key("outbox-owed")], args=[message_sid, owed]))

    def park(self, message_sid: str) -> None:
        """Set an entry aside (SQS refuses it): out of the outbox, into the parked set, its debt kept."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key("outbox-parked"), {message_sid: time.time()})
            pipe.zrem(self._key("outbox"), message_sid)
            pipe.execute()

    def parked(self) -> list[str]:
        sids = self.redis.zrange(self._key("outbox-parked"), 0, -1)
        return _members(sids)

    def unpark(self, message_sid: str) -> bool:
        """Put a parked entry back in the outbox (after its cause is fixed); False if it was not parked."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._key("outbox-parked"), message_sid)
            pipe.zadd(self._key("outbox"), {message_sid: 0})
            removed, _ = pipe.execute()
        if not removed:
            self.redis.zrem(self._key("outbox"), message_sid)
        return bool(removed)

    def restore(self, message: InboundMessage) -> bool:
        """Recreate a lost record from Twilio's copy, with its TTL; False if it exists.

        Its seq is the conversation's oldest unfinished position, so it waits for no one.
        """
        fields: list[str] = []
        for name, value in message.to_fields().items():
            fields += [name, value]
        return bool(self._restore(
            keys=[self._key("msg", message.message_sid), self._conv(message.conversation_id, "seq"),
                  self._key("unanswered"), self._conv(message.conversation_id, "answered"),
                  self._conv(message.conversation_id, "replied")],
            # The seq counter outlives every record that carries one of its numbers (as in _ACCEPT).
            args=[max(self.limits.ttl_seconds, self.limits.message_ttl_seconds), message.received_at,
                  message.message_sid, self.limits.message_ttl_seconds, time.time(), *fields],
        ))

    def forget_unanswered(self, message_sid: str) -> None:
        """A message that can never be answered (its record is lost for good) stops counting as backlog."""
        self.redis.zrem(self._key("unanswered"), message_sid)

    def mark_reply_given_up(self, message_sid: str) -> None:
        self._mark_given_up(keys=[self._key("msg", message_sid)], args=[time.time()])

    def reopen_for_follow_up(self, message_sid: str, apology: str) -> bool:
        """Let a redriven message get its real answer: forget an apology answer or a given-up reply, once.

        False when there is nothing to follow up (no record, a real answer, or already followed up).
        """
        return bool(self._reopen_for_follow_up(
            keys=[self._key("msg", message_sid), self._key("unanswered")],
            args=[time.time(), message_sid, apology],
        ))

    def was_followed_up(self, message_sid: str) -> bool:
        """True when an apology or a given-up reply was reopened for this message before."""
        return bool(self.redis.hexists(self._key("msg", message_sid), "follow_up_at"))

    # --- leases: two overlapping runs of one step (a redelivery, a republish) never both act ---

    @contextmanager
    def lease(self, message_sid: str, step: str, seconds: float = LEASE_SECONDS) -> Iterator[str | None]:
        """Hold `step`'s lease on a message while the block runs: yields our token, or None if another run has it.

        The lease is renewed every third of `seconds` while the block runs, so a live run keeps it
        however long its call takes, and a crashed run's lease lapses `seconds` after its last renewal.
        """
        key = self._key("lease", message_sid, step)
        token = uuid.uuid4().hex
        if not self.redis.set(key, token, nx=True, px=int(seconds * 1000)):
            yield None
            return
        stop = threading.Event()
        renewer = threading.Thread(target=self._keep_lease, args=(key, token, seconds, stop),
                                   name=f"lease-{step}", daemon=True)
        renewer.start()
        try:
            yield token
        finally:
            stop.set()
            renewer.join()
            try:
                self._release_lease(keys=[key], args=[token])
            except redis.RedisError as exc:
                # Not worth failing the step for: the lease lapses by itself within `seconds`.
                log.warning("could not release lease %s: %s", key, exc)

    def _keep_lease(self, key: str, token: str, seconds: float, stop: threading.Event) -> None:
        while not stop.wait(seconds / 3):
            try:
                if not self._extend_lease(keys=[key], args=[token, int(seconds * 1000)]):
                    # Lapsed (this process stalled longer than the lease): claim_part's fence stops our sends.
                    log.warning("lease %s was lost to another run", key)
                    return
            except redis.RedisError as exc:
                log.warning("could not renew lease %s: %s", key, exc)

    def claim_part(self, message: StoredMessage, index: int, token: str) -> PartClaim:
        """Under the reply lease `token`, claim part `index` for sending; says what was found instead if not ours."""
        sid = message.inbound.message_sid
        outcome, value = self._claim_part(
            keys=[self._key("msg", sid), self._key("lease", sid, "reply")], args=[index, token, time.time()],
        )
        outcome, value = _text(outcome), _text(value)
        if outcome == "sent":
            return PartClaim(outcome, sid=value)
        if outcome in ("claimed", "reclaimed"):
            return PartClaim(outcome, claimed_at=float(value))
        return PartClaim(outcome)

    def unclaim_part(self, message: StoredMessage, index: int, token: str) -> None:
        """Twilio refused part `index` with an answer, so it was not sent: a later run needs no log lookup."""
        sid = message.inbound.message_sid
        self._unclaim_part(keys=[self._key("msg", sid), self._key("lease", sid, "reply")], args=[index, token])


_OUTBOX_REMOVE = """
if (redis.call('HGET', KEYS[2], ARGV[1]) or '') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
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

_EXTEND_LEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: the message record, the reply lease. ARGV: part index, our lease token, now. A recorded SID
# wins over everything; only the lease holder may claim; the first claim's time is kept, so a later
# run knows from when to look for the part in Twilio's log.
_CLAIM_PART = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', ''} end
local sid = redis.call('HGET', KEYS[1], 'part:' .. ARGV[1])
if sid then return {'sent', sid} end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'lost', ''} end
local before = redis.call('HGET', KEYS[1], 'claimed:' .. ARGV[1])
if before then return {'reclaimed', before} end
redis.call('HSET', KEYS[1], 'claimed:' .. ARGV[1], ARGV[3])
return {'claimed', ARGV[3]}
"""

_UNCLAIM_PART = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], 'claimed:' .. ARGV[1])
"""


@dataclass(frozen=True)
class PartClaim:
    """What claiming one part of a reply found.

    outcome: "claimed" (ours to send), "reclaimed" (ours, but an earlier run claimed it and left no
    SID: it may have been sent), "sent" (its SID is recorded), "lost" (our lease is gone) or "gone"
    (the message's record is gone).
    """

    outcome: str
    sid: str | None = None
    claimed_at: float | None = None


# --- spend, privacy (issue 9): completion budget, per-sender cap, forgetting a person -------------


@dataclass(frozen=True)
class SpendLimits:
    """Completions allowed before any model call; 0 means no limit (COMPLETION_BUDGET_*, SENDER_DAILY_CAP)."""

    per_minute: int = 0  # all senders together: a token bucket refilled evenly over a minute
    per_day: int = 0  # all senders together: a token bucket refilled evenly over a day
    sender_per_day: int = 0  # one conversation, per UTC day


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

# Record intake's result once, index the message under its conversation (so a person's records
# can be found and forgotten) and, for messages refused or over a limit, drop the text.
_SETTLE_INTAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HSETNX', KEYS[1], 'intake', ARGV[1]) == 1 and ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'body', '', 'body_removed_at', ARGV[3])
end
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'seq'), ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[5])
if ARGV[7] == '1' then
  redis.call('ZADD', KEYS[4], 'NX', redis.call('HGET', KEYS[1], 'received_at'), ARGV[4])
  redis.call('EXPIRE', KEYS[4], ARGV[5])
end
return redis.call('HGET', KEYS[1], 'intake')
"""

# After forgetting a conversation's earlier messages, count them as answered and replied, so the
# message that asked to forget (and any after it) does not wait for records that are gone.
_RAISE_PROGRESS = """
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2])
  end
end
return 1
"""


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


# Opt-out at intake: decide once per message (field opt_out on its record) and change the
# conversation's flag in the same step; an existing decision is returned as it was.
_DECIDE_OPT_OUT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', 0} end
local found = redis.call('HGET', KEYS[1], 'opt_out')
if found then return {found, 0} end
local out = redis.call('EXISTS', KEYS[2]) == 1
local decision
if ARGV[1] == 'out' then
  if out then decision = 'already-out' else redis.call('SET', KEYS[2], ARGV[2]); decision = 'stopped' end
elseif ARGV[1] == 'in' then
  if out then redis.call('DEL', KEYS[2]); decision = 'started' else decision = 'not-out' end
elseif out then decision = 'out' else decision = 'in' end
redis.call('HSET', KEYS[1], 'opt_out', decision)
return {decision, 1}
"""


# Transcripts: the first one made is kept (a retry reuses it and never pays twice); an expired
# record is not recreated.
_RECORD_TRANSCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
"""


# WhatsApp delivery (issue 11): one field of a message's record, written only while the record exists.
_SET_DELIVERY_FIELD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


# --- history folding (issue 11): see ConversationStore.begin_fold / end_fold ------------------------


@dataclass(frozen=True)
class FoldBatch:
    """The oldest turns waiting to be folded, the summary they fold into, and the generation both were read at."""

    generation: str
    summary: str
    turns: list[dict[str, str]]


# KEYS: summary, fold list. ARGV: a fresh generation (used if none is set), most turns, TTL.
_BEGIN_FOLD = """
if redis.call('LLEN', KEYS[2]) == 0 then return false end
if redis.call('HSETNX', KEYS[1], 'generation', ARGV[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local state = redis.call('HMGET', KEYS[1], 'generation', 'text')
return {state[1], state[2] or '', redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)}
"""

# Compare-and-set on the generation: of two runs that read the same batch, only the first ends it.
# Folded turns are only ever appended, so the batch is still the head of the list.
# KEYS: summary, fold list, history. ARGV: generation read, turns folded, new summary, 'set' or
# 'keep', next generation, TTL, now, the bounds (8-13).
_END_FOLD = _TRIM_HISTORY + """
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return -1 end
redis.call('LTRIM', KEYS[2], tonumber(ARGV[2]), -1)
if ARGV[4] == 'set' then redis.call('HSET', KEYS[1], 'text', ARGV[3], 'updated_at', ARGV[7]) end
redis.call('HSET', KEYS[1], 'generation', ARGV[5])
trim_history(KEYS[3], KEYS[2], KEYS[1], bounds(8))
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
return redis.call('LLEN', KEYS[2])
"""

# Text past its retention (remove_old_texts) that is no longer in the history: still waiting on the
# fold list (remove it there), or already folded (the summary may hold it: delete the summary's
# text). Either way a fold in progress may hold it, so the generation changes and voids that fold.
# KEYS: summary, fold list. ARGV: a fresh generation, the turns (JSON).
_FORGET_FOLDED = """
local removed = 0
for i = 2, #ARGV do removed = removed + redis.call('LREM', KEYS[2], 1, ARGV[i]) end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[1])
if removed > 0 then return 0 end
return redis.call('HDEL', KEYS[1], 'text')
"""


_MARK_OUTSIDE_WINDOW = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'outside_window', ARGV[1])
return redis.call('HGET', KEYS[1], 'outside_window')
"""


def _template_choice(value: bytes | str | None) -> tuple[int, int] | None:
    if not value:
        return None
    index, _, first_part = _text(value).partition(":")
    return int(index), int(first_part)


def _members(reply: Any) -> list[str]:
    """A list or set reply of redis-py (typed loosely by redis-py) as text."""
    return [_text(item) for item in reply]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
