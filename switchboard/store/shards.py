"""Shards: which hash tag a conversation's keys (and its messages' keys) carry, so each script stays in one slot."""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict

# Fixed for the life of the data: a conversation's keys are found by this number. Changing it moves
# every key (a migration, like legacy_layout.py), so it is never changed in place. 64 tags spread
# over a cluster's masters evenly enough up to a dozen or so of them, and a reader of every shard
# (the outbox relay, the backlog count) makes 64 reads in one pipelined round trip per master.
SHARDS = 64


def shard_of(name: str) -> int:
    """The shard of a conversation id (or, for a SID no index knows, of that SID): stable across processes."""
    return zlib.crc32(name.encode()) % SHARDS


def tag(shard: int) -> str:
    """The hash tag of a shard: Redis Cluster hashes only what is inside the first {...} of a key."""
    return f"{{s{shard}}}"


def parse_shard(raw: bytes | str | None) -> int | None:
    """A shard as the sid index stores it; None for none, or a marker that names no shard (legacy claims)."""
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    return int(text) if text.isdigit() and int(text) < SHARDS else None


class ShardMemo:
    """SID -> shard, as learnt by this process. A SID's shard never changes, so an entry is never stale."""

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._items: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()  # the worker's threads share one store

    def get(self, sid: str) -> int | None:
        with self._lock:
            shard = self._items.get(sid)
            if shard is not None:
                self._items.move_to_end(sid)
            return shard

    def put(self, sid: str, shard: int) -> None:
        with self._lock:
            self._items[sid] = shard
            self._items.move_to_end(sid)
            if len(self._items) > self._size:
                self._items.popitem(last=False)
