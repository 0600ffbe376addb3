"""Privacy (issue 9): messages indexed for forgetting, text removed past its retention, a person forgotten."""

from __future__ import annotations

import json
import time

from switchboard.store.base import as_text, as_texts
from switchboard.store.folding import Folding
from switchboard.store.records import Records, StoredMessage

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


class Privacy(Folding, Records):
    """What is kept of a person (their records, the text, the numbers we heard from) and forgetting it."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._settle_intake = self.redis.register_script(_SETTLE_INTAKE)
        self._raise_progress = self.redis.register_script(_RAISE_PROGRESS)

    def settle_intake(self, message: StoredMessage, result: str, drop_body: bool) -> str | None:
        """Record intake's result once and index the message; returns the result on record (None: no record)."""
        sid, conversation = message.inbound.message_sid, message.conversation
        stored = self._settle_intake(
            keys=[self._msg(sid, conversation), self._conv(conversation, "messages"),
                  self._of(conversation, "our-numbers"), self._of(conversation, "texts")],
            args=[result, "1" if drop_body else "0", time.time(), sid,
                  max(self.limits.ttl_seconds, self.limits.message_ttl_seconds), message.inbound.recipient,
                  "1" if self.text_retention_seconds is not None else "0"],
        )
        return as_text(stored) if stored else None

    def remove_old_texts(self, older_than_seconds: float, limit: int = 50, now: float | None = None) -> int:
        """Blank the text (question and answer) of replied messages older than this, in records and history.

        A message still waiting for its reply keeps its text until the reply is done. Returns how
        many messages lost their text. Every shard is swept, the oldest texts first.
        """
        cutoff = (time.time() if now is None else now) - older_than_seconds
        found = self._across_shards(lambda pipe, shard: pipe.zrangebyscore(
            self._in(shard, "texts"), "-inf", cutoff, start=0, num=limit, withscores=True))
        due = sorted((float(score), as_text(sid), shard) for shard, entries in enumerate(found) for sid, score in entries)
        removed = 0
        for _, sid, shard in due[:limit]:
            try:
                message = self.load(sid)
            except (KeyError, ValueError):  # unreadable: it expires with its record
                message = None
            if message is not None and not message.replied:
                continue  # still needed; looked at again on the next sweep
            if message is not None:
                self._blank_text(message)
                removed += 1
            self.redis.zrem(self._in(shard, "texts"), sid)
        return removed

    def _blank_text(self, message: StoredMessage) -> None:
        """Blank one replied message's text in its record and in its conversation's history (and fold list)."""
        history = self._conv(message.conversation, "history")
        record = self._msg(message.inbound.message_sid, message.conversation)
        # The turns as record_answer stored them: the oldest equal turn is this message's.
        turns = [json.dumps({"role": role, "content": content}, ensure_ascii=False)
                 for role, content in (("user", message.inbound.body), ("assistant", message.answer or ""))
                 if content]
        with self.redis.pipeline(transaction=True) as pipe:  # one slot: atomic on a cluster too
            for turn in turns:
                pipe.lrem(history, 1, turn)
            pipe.hset(record, mapping={"body": "", "answer": "", "body_removed_at": time.time()})
            if message.transcripts:  # a voice note's transcript is the user's words too (issue 11)
                pipe.hdel(record, *(f"transcript:{i}" for i in message.transcripts))
            # What the operator's tools said about the person for this turn (tool_calls.py, issue 14).
            pipe.delete(self._of(message.conversation, "tools", message.inbound.message_sid))
            found = pipe.execute()
        # Folding (issue 11): a chat message's turns no longer in the history wait on the fold list or
        # are in the summary ("chat" is user_commands.Command.CHAT, which the store cannot import).
        if turns and message.intake_result == "chat" and not any(found[:len(turns)]):
            self.forget_folded_text(message.conversation, turns)

    def our_numbers(self) -> list[str]:
        """The numbers (and WhatsApp senders) this deployment has received messages on (every shard's)."""
        found = self._across_shards(lambda pipe, shard: pipe.smembers(self._in(shard, "our-numbers")))
        return sorted({number for members in found for number in as_texts(members)})

    def forget_conversation(self, conversation: str, before_seq: int | None = None) -> dict[str, int]:
        """Delete what is stored for one conversation; returns counts of what was deleted.

        `before_seq` keeps that message and later ones (the /forget request itself, still being
        answered) and counts the earlier ones as done. Claims (claim:{MessageSid}) are kept: they
        hold no personal data, and deleting them would let a captured webhook be replayed as new.
        Everything else of the conversation is in its shard, but for the sid index.
        """
        upper = "+inf" if before_seq is None else f"({before_seq}"
        index = self._conv(conversation, "messages")
        sids = set(as_texts(self.redis.zrangebyscore(index, "-inf", upper)))
        # Messages accepted but not yet through intake are not indexed yet; they are all unanswered.
        for sid in as_texts(self.redis.zrange(self._of(conversation, "unanswered"), 0, -1)):
            try:
                found = self.load(sid)
            except (KeyError, ValueError):  # a corrupt record cannot be matched; it expires by itself
                continue
            if found and found.conversation == conversation and (before_seq is None or found.seq < before_seq):
                sids.add(found.inbound.message_sid)
        deliveries = []
        for sid in sids:
            fields = self.redis.hgetall(self._msg(sid, conversation))
            deliveries += [as_text(v) for k, v in fields.items() if as_text(k).startswith("part:")]
        limit_keys = [k for pattern in (self._of(conversation, "rate", conversation, "*"),
                                        self._of(conversation, "spend", conversation, "*"))
                      for k in self.redis.scan_iter(match=pattern, count=500)]
        history = self._conv(conversation, "history")
        # Turns waiting to be folded into the summary (issue 11) are conversation turns too.
        turns = int(self.redis.llen(history)) + int(self.redis.llen(self._conv(conversation, "to-fold")))
        with self.redis.pipeline(transaction=True) as pipe:  # one slot: atomic on a cluster too
            for sid in sids:
                pipe.delete(self._msg(sid, conversation))
                # What the operator's tools answered about the person (tool_calls.py, issue 14).
                pipe.delete(self._of(conversation, "tools", sid))
            for outbound in deliveries:
                pipe.delete(self._of(conversation, "delivery", outbound))
            if sids:
                for zset in ("outbox", "unanswered", "outbox-parked", "texts"):
                    pipe.zrem(self._of(conversation, zset), *sids)
                pipe.hdel(self._of(conversation, "outbox-owed"), *sids)
                pipe.zrem(index, *sids)
            if limit_keys:
                pipe.delete(*limit_keys)
            pipe.delete(history, self._conv(conversation, "to-fold"), self._conv(conversation, "summary"))
            # A hand-off's pause and its inbox entry (handoff.py, issue 14): the person asked to be forgotten.
            pipe.delete(self._of(conversation, "handoff", conversation))
            pipe.zrem(self._of(conversation, "paused"), conversation)
            if before_seq is None:
                pipe.delete(*(self._conv(conversation, what) for what in ("seq", "answered", "replied", "messages",
                                                                     "last-inbound")))
            pipe.execute()
        if sids:
            # The sid index entries are in slots of their own, so not in the step above; a replay of a
            # forgotten webhook finds its claim all the same (its conversation names the shard).
            self.redis.delete(*(self._key("where", sid) for sid in [*sids, *deliveries]))
        if before_seq is not None:
            self._raise_progress(keys=[self._conv(conversation, "answered"), self._conv(conversation, "replied")],
                                 args=[before_seq - 1, self.limits.ttl_seconds])
        return {"messages": len(sids), "conversation turns": turns, "delivery records": len(deliveries),
                "limit counters": len(limit_keys)}
