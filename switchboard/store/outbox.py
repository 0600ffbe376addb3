"""The outbox: accepted messages not yet known to be on SQS, owed links, parked entries and the relay lock."""

from __future__ import annotations

import time
import uuid

from switchboard.store.base import StoreBase, as_text, as_texts

_OUTBOX_REMOVE = """
if (redis.call('HGET', KEYS[2], ARGV[1]) or '') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


class Outbox(StoreBase):
    """What the outbox relay reads and clears; owed links and parked entries come from issue 8."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._outbox_remove = self.redis.register_script(_OUTBOX_REMOVE)

    def outbox_remove(self, message_sid: str) -> None:
        # Guarded: a link a worker could not publish meanwhile (outbox-owed) keeps the entry.
        self.outbox_clear(message_sid, None)

    def outbox_due(self, older_than_seconds: float, limit: int = 100) -> list[str]:
        """MessageSids accepted at least `older_than_seconds` ago and still not known to be queued."""
        cutoff = time.time() - older_than_seconds
        sids = self.redis.zrangebyscore(self._key("outbox"), "-inf", cutoff, start=0, num=limit)
        return as_texts(sids)

    def outbox_size(self) -> int:
        return int(self.redis.zcard(self._key("outbox")))

    def try_relay_lock(self, owner: str, seconds: int) -> bool:
        return bool(self.redis.set(self._key("relay-lock"), owner, nx=True, ex=seconds))

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
        stage, _, generation = as_text(raw).partition(":")
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
        return as_texts(sids)

    def unpark(self, message_sid: str) -> bool:
        """Put a parked entry back in the outbox (after its cause is fixed); False if it was not parked."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._key("outbox-parked"), message_sid)
            pipe.zadd(self._key("outbox"), {message_sid: 0})
            removed, _ = pipe.execute()
        if not removed:
            self.redis.zrem(self._key("outbox"), message_sid)
        return bool(removed)
