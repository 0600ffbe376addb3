"""Moving keys of the layout before shards (issue 13: msg:{sid}, conv:{c}:..., outbox, ...) into their shards.

Run once by `switchboard migrate-keys --yes` while the web and the workers are stopped (docs/runbook.md):
nothing else may write meanwhile. Each key is copied to its new name with its TTL (DUMP and RESTORE,
so it works on a cluster restored from an old snapshot too) and then deleted; a key found already
moved is only deleted, so a run that stopped half-way is simply run again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis

from switchboard.domain.inbound import InboundMessage
from switchboard.store.base import StoreBase, as_text
from switchboard.store.shards import shard_of

# Conversation keys move by their name alone; leases go (the runs that held them are stopped).
_CONVERSATION_KINDS = ("conv", "rate", "spend", "optout")
_DROPPED = ("lease",)
_SETS = ("outbox", "outbox-parked", "unanswered", "texts", "outbox-owed", "our-numbers")
_UNCHANGED = ("where", "relay-lock", "sqs-fault", "twilio-slots", "twilio-hold")  # the same names in both
# A claim without a record, kept in the sid index under this marker: a replay is a duplicate, as before.
LEGACY_CLAIM = "-"


@dataclass
class LegacyMove:
    """What a run found (a dry run) or did: counts by kind, and accepted messages whose records were lost."""

    counts: Counter[str] = field(default_factory=Counter)
    # (MessageSid, accepted at): in the outbox with no record left; `switchboard catchup` accepts them again.
    to_catch_up: list[tuple[str, float]] = field(default_factory=list)


class LegacyLayout(StoreBase):
    """The one-off move of keys from the unsharded layout (see the package docstring's upgrade note)."""

    def move_legacy_keys(self, apply: bool = False) -> LegacyMove:
        """Find every key of the old layout under our prefix; with `apply`, move each into its shard."""
        keys: dict[str, list[str]] = {}
        for raw in self.redis.scan_iter(match=_glob(self.prefix) + "*", count=1000):
            name = as_text(raw)[len(self.prefix):]
            if not name.startswith("{"):
                keys.setdefault(name.split(":", 1)[0], []).append(name)
        move = LegacyMove()
        shards = self._move_records(keys.get("msg", []), move, apply)
        self._move_deliveries(keys.get("delivery", []), move, apply)
        lost = self._move_sets(keys, shards, move, apply)
        self._move_claims(keys.get("claim", []), shards, lost, move, apply)
        for kind in _CONVERSATION_KINDS:
            for name in keys.get(kind, []):
                conversation = name.split(":")[1]
                self._move(name, self._of(conversation, name), move, kind, apply)
        for name in keys.get("budget", []):
            self._move(name, self._deployment(name), move, "budget", apply)
        for kind in _DROPPED:
            for name in keys.get(kind, []):
                move.counts[f"{kind} (dropped)"] += 1
                if apply:
                    self.redis.delete(self.prefix + name)
        known = {"msg", "delivery", "claim", "budget", *_CONVERSATION_KINDS, *_DROPPED, *_SETS, *_UNCHANGED}
        unknown = sum(len(names) for kind, names in keys.items() if kind not in known)
        if unknown:
            move.counts["unknown (left alone)"] += unknown
        return move

    def _move_records(self, names: list[str], move: LegacyMove, apply: bool) -> dict[str, int]:
        """msg:{sid} into its conversation's shard, placed in the sid index; returns sid -> shard."""
        shards: dict[str, int] = {}
        for name in names:
            sid = name.split(":", 1)[1]
            try:
                fields = {as_text(k): as_text(v) for k, v in self.redis.hgetall(self.prefix + name).items()}
                conversation = InboundMessage.from_fields(fields).conversation_id
            except (KeyError, ValueError):
                move.counts["msg (unreadable, left to expire)"] += 1
                continue
            shards[sid] = shard_of(conversation)
            if apply:
                self.redis.set(self._key("where", sid), shards[sid], ex=self._sid_index_ttl())
            self._move(name, self._of(conversation, name), move, "msg", apply)
        return shards

    def _move_deliveries(self, names: list[str], move: LegacyMove, apply: bool) -> None:
        for name in names:
            conversation = self.redis.hget(self.prefix + name, "conversation")
            if conversation is None:
                move.counts["delivery (no conversation, left to expire)"] += 1
                continue
            outbound_sid = name.split(":", 1)[1]
            if apply:
                self.redis.set(self._key("where", outbound_sid), shard_of(as_text(conversation)),
                               ex=self.limits.ttl_seconds)
            self._move(name, self._of(as_text(conversation), name), move, "delivery", apply)

    def _move_sets(self, keys: dict[str, list[str]], shards: dict[str, int], move: LegacyMove,
                   apply: bool) -> set[str]:
        """The deployment-wide sets, member by member into their records' shards; returns outbox sids with no record."""
        lost: set[str] = set()
        for kind in ("outbox", "outbox-parked", "unanswered", "texts"):
            if kind not in keys:
                continue
            entries: Any = self.redis.zrange(self.prefix + kind, 0, -1, withscores=True)  # typed loosely by redis-py
            for raw, score in entries:
                sid = as_text(raw)
                if sid in shards:
                    move.counts[kind] += 1
                    if apply:
                        self.redis.zadd(self._in(shards[sid], kind), {sid: score})
                elif kind in ("outbox", "outbox-parked"):
                    lost.add(sid)  # never queued and its record gone: only Twilio's log still has it
                    move.to_catch_up.append((sid, float(score)))
                else:
                    move.counts[f"{kind} (record gone, dropped)"] += 1
        if "outbox-owed" in keys:
            for raw_sid, owed in self.redis.hgetall(self.prefix + "outbox-owed").items():
                sid = as_text(raw_sid)
                if sid in shards:
                    move.counts["outbox-owed"] += 1
                    if apply:
                        self.redis.hset(self._in(shards[sid], "outbox-owed"), sid, owed)
        if "our-numbers" in keys:
            numbers = self.redis.smembers(self.prefix + "our-numbers")
            move.counts["our-numbers"] += len(numbers)
            if apply and numbers:
                # Read as the union of every shard's set, so any one shard will do.
                self.redis.sadd(self._in(0, "our-numbers"), *numbers)
        if apply:
            for kind in _SETS:
                if kind in keys:
                    self.redis.delete(self.prefix + kind)
        return lost

    def _move_claims(self, names: list[str], shards: dict[str, int], lost: set[str], move: LegacyMove,
                     apply: bool) -> None:
        for name in names:
            sid = name.split(":", 1)[1]
            if sid in shards:
                self._move(name, self._in(shards[sid], name), move, "claim", apply)
                continue
            if sid in lost:
                # Claimed, never answered, record gone: without its claim `catchup` accepts it again.
                move.counts["claim (dropped for catch-up)"] += 1
            else:
                # Its record expired long ago: the sid index keeps it a duplicate for the claim's remaining life.
                move.counts["claim (kept in the sid index)"] += 1
                ttl = int(self.redis.pttl(self.prefix + name))
                if apply and ttl != -2:
                    self.redis.set(self._key("where", sid), LEGACY_CLAIM, px=ttl if ttl > 0 else None, nx=True)
            if apply:
                self.redis.delete(self.prefix + name)

    def _move(self, name: str, new_key: str, move: LegacyMove, kind: str, apply: bool) -> None:
        """One key to its new name with its TTL, then gone from the old one."""
        move.counts[kind] += 1
        if not apply:
            return
        old_key = self.prefix + name
        dumped, ttl = self.redis.dump(old_key), int(self.redis.pttl(old_key))
        if dumped is None:
            return  # expired meanwhile
        try:
            self.redis.restore(new_key, max(ttl, 0), dumped)
        except redis.ResponseError as exc:
            if "BUSYKEY" not in str(exc):
                raise
            # Moved by an earlier run that stopped before deleting the old key.
        self.redis.delete(old_key)


def _glob(prefix: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix)

