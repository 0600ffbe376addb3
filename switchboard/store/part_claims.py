"""Part claims: under the reply lease, each part of a reply is claimed just before it is sent."""

from __future__ import annotations

import time
from dataclasses import dataclass

from switchboard.store.base import StoreBase, as_text
from switchboard.store.records import StoredMessage

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


class PartClaims(StoreBase):
    """Claiming a part for sending, giving a refused one back, and when a part was first claimed."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._claim_part = self.redis.register_script(_CLAIM_PART)
        self._unclaim_part = self.redis.register_script(_UNCLAIM_PART)

    def claim_part(self, message: StoredMessage, index: int, token: str) -> PartClaim:
        """Under the reply lease `token`, claim part `index` for sending; says what was found instead if not ours."""
        outcome, value = self._claim_part(keys=self._part_keys(message), args=[index, token, time.time()])
        outcome, value = as_text(outcome), as_text(value)
        if outcome == "sent":
            return PartClaim(outcome, sid=value)
        if outcome in ("claimed", "reclaimed"):
            return PartClaim(outcome, claimed_at=float(value))
        return PartClaim(outcome)

    def unclaim_part(self, message: StoredMessage, index: int, token: str) -> None:
        """Twilio refused part `index` with an answer, so it was not sent: a later run needs no log lookup."""
        self._unclaim_part(keys=self._part_keys(message), args=[index, token])

    def _part_keys(self, message: StoredMessage) -> list[str]:
        # The record and the reply lease (leases.py spells it alike), both in the conversation's shard.
        sid, conversation = message.inbound.message_sid, message.conversation
        return [self._msg(sid, conversation), self._of(conversation, "lease", sid, "reply")]

    def part_claimed_at(self, message_sid: str, index: int) -> float | None:
        """When part `index` was first claimed, just before it was sent (None: never claimed)."""
        value = self.redis.hget(self._msg(message_sid), f"claimed:{index}")
        return float(value) if value is not None else None
