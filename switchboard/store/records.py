"""A message's record (msg:{sid}): read back as a StoredMessage, and where it sits in its conversation."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.domain.inbound import InboundMessage
from switchboard.store.base import StoreBase, as_text, as_texts


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


# Writes to a message's record check, in the same script, that the record exists: a plain HSET on
# an expired (or lost) record would recreate it without its TTL and without its seq.
_RECORD_INTAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'intake', ARGV[1])
"""


class Records(StoreBase):
    """Reading messages' records; recording intake's result on one."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._record_intake = self.redis.register_script(_RECORD_INTAKE)

    def load(self, message_sid: str) -> StoredMessage | None:
        raw = self.redis.hgetall(self._msg(message_sid))
        if not raw:
            return None
        data = {as_text(k): as_text(v) for k, v in raw.items()}
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

    def contact(self, message_sid: str) -> tuple[str, str] | None:
        """(sender, recipient) of a stored message, read without parsing the rest of its record."""
        sender, recipient = self.redis.hmget(self._msg(message_sid), "sender", "recipient")
        return (as_text(sender), as_text(recipient)) if sender and recipient else None

    def sid_at(self, conversation: str, seq: int) -> str | None:
        """The MessageSid the conversation's message `seq` was accepted as (None: no such message, or forgotten)."""
        found = as_texts(self.redis.zrangebyscore(self._conv(conversation, "messages"), seq, seq, start=0, num=1))
        return found[0] if found else None

    def last_seq(self, conversation: str) -> int:
        """The newest seq given to the conversation: a message accepted after `seq` has a higher one."""
        return int(self.redis.get(self._conv(conversation, "seq")) or 0)

    def record_intake(self, message_sid: str, result: str) -> bool:
        """Record intake's result once; False when recorded before or the record is gone (never recreated)."""
        return bool(self._record_intake(keys=[self._msg(message_sid)], args=[result]))
