"""Opt-out (STOP / START, issue 11): one flag per conversation, kept until the user opts back in."""

from __future__ import annotations

import time

from switchboard.store.base import StoreBase, as_text
from switchboard.store.records import StoredMessage

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


class OptOut(StoreBase):
    """The conversation's opt-out flag, and STOP/START applied once per message."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._decide_opt_out = self.redis.register_script(_DECIDE_OPT_OUT)

    def set_opted_out(self, conversation: str, opted_out: bool, now: float | None = None) -> bool:
        """Record STOP (True) or START (False); returns whether this changed the state."""
        key = self._of(conversation, "optout", conversation)
        if opted_out:
            return bool(self.redis.set(key, time.time() if now is None else now, nx=True))
        return bool(self.redis.delete(key))

    def is_opted_out(self, conversation: str) -> bool:
        return bool(self.redis.exists(self._of(conversation, "optout", conversation)))

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
            keys=[self._msg(message.inbound.message_sid, message.conversation),
                  self._of(message.conversation, "optout", message.conversation)],
            args=[change, time.time() if now is None else now],
        )
        return as_text(decision), bool(first)
