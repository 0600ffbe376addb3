"""History folding (issue 11): turns past the history's budget wait on a fold list for the summary task."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.store.base import as_text
from switchboard.store.history import TRIM_HISTORY, History


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
_END_FOLD = TRIM_HISTORY + """
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


class Folding(History):
    """The running summary and the fold list feeding it, read and written once per fold generation."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._begin_fold = self.redis.register_script(_BEGIN_FOLD)
        self._end_fold = self.redis.register_script(_END_FOLD)
        self._forget_folded = self.redis.register_script(_FORGET_FOLDED)

    def summary(self, conversation: str) -> str:
        """The running summary of the turns folded out of the conversation's history ("" when none)."""
        text = self.redis.hget(self._conv(conversation, "summary"), "text")
        return as_text(text) if text else ""

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
        return as_text(generation) if generation else "new"

    def begin_fold(self, conversation: str, max_turns: int) -> FoldBatch | None:
        """The oldest waiting turns (at most `max_turns`), the summary so far and its generation; None: none wait."""
        found = self._begin_fold(
            keys=[self._conv(conversation, "summary"), self._conv(conversation, "to-fold")],
            args=[uuid.uuid4().hex[:12], max(max_turns, 1), self.limits.ttl_seconds],
        )
        if not found:
            return None
        generation, summary, turns = found
        return FoldBatch(as_text(generation), as_text(summary), [json.loads(t) for t in turns])

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

    def forget_folded_text(self, conversation: str, turns: Sequence[str]) -> bool:
        """Text past its retention that has left the history: off the fold list, or else the summary goes.

        `turns` are JSON turns as record_answer stored them. A fold in progress is voided (its
        generation changes). Returns True when the summary was deleted.
        """
        return bool(self._forget_folded(
            keys=[self._conv(conversation, "summary"), self._conv(conversation, "to-fold")],
            args=[uuid.uuid4().hex[:12], *turns],
        ))
