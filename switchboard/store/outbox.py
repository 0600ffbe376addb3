"""The outbox: accepted messages not yet known to be on SQS, owed links, parked entries and the relay lock."""

from __future__ import annotations

import time
import uuid

from switchboard.store.base import StoreBase, as_text

_OUTBOX_REMOVE = """
if (redis.call('HGET', KEYS[2], ARGV[1]) or '') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


class Outbox(StoreBase):
    """What the outbox relay reads and clears; owed links and parked entries come from issue 8.

    Each shard has its own outbox, owed links and parked set, beside its messages' records; the
    relay reads every shard's and goes through them oldest first. A conversation's entries are all
    in one shard, so its messages keep their order.
    """

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._outbox_remove = self.redis.register_script(_OUTBOX_REMOVE)

    def outbox_remove(self, message_sid: str) -> None:
        # Guarded: a link a worker could not publish meanwhile (outbox-owed) keeps the entry.
        self.outbox_clear(message_sid, None)

    def outbox_due(self, older_than_seconds: float, limit: int = 100) -> list[str]:
        """MessageSids accepted at least `older_than_seconds` ago and still not known to be queued, oldest first."""
        cutoff = time.time() - older_than_seconds
        found = self._across_shards(lambda pipe, shard: pipe.zrangebyscore(
            self._in(shard, "outbox"), "-inf", cutoff, start=0, num=limit, withscores=True))
        due = sorted((float(score), as_text(sid)) for entries in found for sid, score in entries)
        return [sid for _, sid in due[:limit]]

    def outbox_size(self) -> int:
        return sum(int(n) for n in self._across_shards(lambda pipe, shard: pipe.zcard(self._in(shard, "outbox"))))

    def try_relay_lock(self, owner: str, seconds: int) -> bool:
        return bool(self.redis.set(self._key("relay-lock"), owner, nx=True, ex=seconds))

    def owe_link(self, message_sid: str, stage: str, due_at: float) -> str:
        """Record that `stage` onwards must still be published for this message; returns its generation.

        A fresh generation per debt makes the relay's deduplication ids new, so SQS FIFO does not drop
        the republish as a copy of a publish that was attempted (and may have landed) minutes ago.
        """
        generation = uuid.uuid4().hex[:12]
        shard = self._shard_of_sid(message_sid)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._in(shard, "outbox-owed"), message_sid, f"{stage}:{generation}")
            pipe.zadd(self._in(shard, "outbox"), {message_sid: due_at})
            pipe.execute()
        return generation

    def owed_link(self, message_sid: str) -> tuple[str, str] | None:
        """(stage, generation) owed for this message, or None when only its whole chain is due."""
        raw = self.redis.hget(self._in(self._shard_of_sid(message_sid), "outbox-owed"), message_sid)
        if raw is None:
            return None
        stage, _, generation = as_text(raw).partition(":")
        return stage, generation

    def outbox_clear(self, message_sid: str, published: tuple[str, str] | None) -> bool:
        """Remove the entry after publishing `published` (None: the whole chain); False if a newer debt came."""
        owed = "" if published is None else ":".join(published)
        shard = self._shard_of_sid(message_sid)
        return bool(self._outbox_remove(
            keys=[self._in(shard, "outbox"), self._in(shard, "outbox-owed")], args=[message_sid, owed]))

    def park(self, message_sid: str) -> None:
        """Set an entry aside (SQS refuses it): out of the outbox, into the parked set, its debt kept."""
        shard = self._shard_of_sid(message_sid)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._in(shard, "outbox-parked"), {message_sid: time.time()})
            pipe.zrem(self._in(shard, "outbox"), message_sid)
            pipe.execute()

    def parked(self) -> list[str]:
        """Every shard's parked entries, in the order they were parked."""
        found = self._across_shards(lambda pipe, shard: pipe.zrange(self._in(shard, "outbox-parked"), 0, -1,
                                                                    withscores=True))
        return [sid for _, sid in sorted((float(score), as_text(sid)) for entries in found for sid, score in entries)]

    def unpark(self, message_sid: str) -> bool:
        """Put a parked entry back in the outbox (after its cause is fixed); False if it was not parked."""
        shard = self._shard_of_sid(message_sid)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._in(shard, "outbox-parked"), message_sid)
            pipe.zadd(self._in(shard, "outbox"), {message_sid: 0})
            removed, _ = pipe.execute()
        if not removed:
            self.redis.zrem(self._in(shard, "outbox"), message_sid)
        return bool(removed)
