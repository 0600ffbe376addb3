"""What every concern of the store shares: the Redis client, the limits, and how keys are spelled and placed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.store.connection import RedisClient
from switchboard.store.limits import HistoryLimits, SpendLimits
from switchboard.store.shards import SHARDS, ShardMemo, parse_shard, shard_of, tag

# The sid index (where:{sid}): the first conversation to place a SID keeps it, so a SID's shard never
# changes and every process may remember it. Returns the shard on record.
_PLACE = """
local found = redis.call('GET', KEYS[1])
if found then return found end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
"""


class StoreBase:
    """The state each concern's mixin works on; the package's ConversationStore composes the mixins.

    A mixin that runs Lua scripts registers them in `_register_scripts`, calling super() first, so
    the composed store registers every concern's scripts once, when it is made.
    """

    def __init__(self, client: RedisClient, prefix: str, limits: HistoryLimits,
                 spend: SpendLimits | None = None, text_retention_seconds: int | None = None) -> None:
        self.redis = client
        self.prefix = prefix
        self.limits = limits
        self.spend = spend or SpendLimits()
        self.text_retention_seconds = text_retention_seconds  # MESSAGE_BODY_RETENTION_SECONDS
        self._shards = ShardMemo()
        self._register_scripts()

    def _register_scripts(self) -> None:
        """Register this concern's Lua scripts with the client; each mixin extends it."""
        self._place_sid = self.redis.register_script(_PLACE)

    def ping(self) -> bool:
        return bool(self.redis.ping())

    # --- spelling keys ---------------------------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        """A key of the whole deployment with no hash tag (its own slot): the relay lock, the sid index, ..."""
        return self.prefix + ":".join(parts)

    def _in(self, shard: int, *parts: str) -> str:
        """A key in `shard`: its hash tag right after the prefix, so the shard alone decides its slot."""
        return self.prefix + tag(shard) + ":" + ":".join(parts)

    def _deployment(self, *parts: str) -> str:
        """A deployment-wide key that a script changes together with others of its kind: tag {global}."""
        return self.prefix + "{global}:" + ":".join(parts)

    def _of(self, conversation: str, *parts: str) -> str:
        """A key in the conversation's shard."""
        return self._in(shard_of(conversation), *parts)

    def _conv(self, conversation: str, what: str) -> str:
        return self._of(conversation, "conv", conversation, what)

    def _msg(self, message_sid: str, conversation: str | None = None) -> str:
        """The message's record, in its conversation's shard (looked up by SID when the conversation is not at hand)."""
        return self._in(self._shard_of_sid(message_sid, conversation), "msg", message_sid)

    # --- where a SID's keys live -------------------------------------------------------------------------------
    def _shard_of_sid(self, sid: str, conversation: str | None = None) -> int:
        """The shard of an inbound or outbound SID's keys: its conversation's.

        From the conversation when the caller has it, else from the sid index (once per process).
        A SID the index does not know has no record anywhere; its own hash then gives a shard where
        lookups find nothing (and the summary task's lease, taken by conversation id, lands in the
        conversation's shard).
        """
        if conversation is not None:
            # A script's keys all come from this one shard, so it never spans two slots.
            shard = shard_of(conversation)
        else:
            known = self._shards.get(sid)
            if known is not None:
                return known
            on_record = parse_shard(self.redis.get(self._key("where", sid)))
            if on_record is None:
                return shard_of(sid)
            shard = on_record
        self._shards.put(sid, shard)
        return shard

    def _place(self, sid: str, conversation: str, ttl_seconds: int) -> bool:
        """Record in the sid index that `sid` belongs to the conversation's shard, unless it belongs elsewhere.

        Written before the SID's keys (its own slot, so in a step of its own): a crash in between leaves
        an index entry pointing at nothing, which reads as no record. False: the SID was placed before
        under another shard (a replay under another conversation, or a claim from before the shards).
        """
        shard = shard_of(conversation)
        on_record = self._shards.get(sid)  # placed (or read) by this process before: the index never changes
        if on_record is None:
            on_record = parse_shard(self._place_sid(keys=[self._key("where", sid)], args=[shard, ttl_seconds]))
            if on_record is not None:
                self._shards.put(sid, on_record)
        return on_record == shard

    def _sid_index_ttl(self) -> int:
        # An inbound SID's entry lasts as long as its claim, so a late replay is still found a duplicate.
        limits = self.limits
        return max(limits.claim_ttl_seconds, limits.message_ttl_seconds, limits.ttl_seconds)

    def _across_shards(self, read: Callable[[Any, int], object]) -> list[Any]:
        """Run `read(pipeline, shard)` for every shard in one non-transactional pipeline; the replies in order.

        A cluster pipeline sends each master its commands at once, so this is one round trip per master.
        """
        with self.redis.pipeline(transaction=False) as pipe:
            for shard in range(SHARDS):
                read(pipe, shard)
            return list(pipe.execute())


def as_texts(reply: Any) -> list[str]:
    """A list or set reply of redis-py (typed loosely by redis-py) as text."""
    return [as_text(item) for item in reply]


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
