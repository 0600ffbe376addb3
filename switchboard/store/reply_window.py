"""WhatsApp delivery (issue 11): the 24-hour window, and why a reply was not sent as it was."""

from __future__ import annotations

from switchboard.store.base import StoreBase, as_text

# WhatsApp delivery (issue 11): one field of a message's record, written only while the record exists.
_SET_DELIVERY_FIELD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

_MARK_OUTSIDE_WINDOW = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'outside_window', ARGV[1])
return redis.call('HGET', KEYS[1], 'outside_window')
"""


class ReplyWindow(StoreBase):
    """When the user last wrote (conv:{c}:last-inbound), and the fields undelivered and outside_window."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._set_delivery_field = self.redis.register_script(_SET_DELIVERY_FIELD)
        self._mark_outside_window = self.redis.register_script(_MARK_OUTSIDE_WINDOW)

    def last_inbound_at(self, conversation: str) -> float | None:
        """When the user last wrote to us (the WhatsApp 24-hour window starts there); None when unknown."""
        value = self.redis.get(self._conv(conversation, "last-inbound"))
        return float(value) if value is not None else None

    def set_last_inbound_at(self, conversation: str, when: float) -> None:
        """Set when the user last wrote, earlier or later (accept only ever moves it on): for tests and repairs."""
        ttl = max(self.limits.ttl_seconds, self.limits.message_ttl_seconds)
        self.redis.set(self._conv(conversation, "last-inbound"), when, ex=ttl)

    def mark_undelivered(self, message_sid: str, reason: str) -> bool:
        """Record why the reply did not (fully) go out (opted-out, outside-window, ...); False: no record."""
        return bool(self._set_delivery_field(keys=[self._msg(message_sid)], args=["undelivered", reason]))

    def mark_outside_window(self, message_sid: str, template_index: int, first_part: int) -> tuple[int, int] | None:
        """The 24-hour window closed for this reply (our clock, or Twilio's 63016): it goes as the template,
        claimed as part `template_index` and carrying the answer from part `first_part` on.

        The first choice is kept, so every later run sends the same template once; returns the choice
        on record (None: no record).
        """
        chosen = self._mark_outside_window(keys=[self._msg(message_sid)],
                                           args=[f"{template_index}:{first_part}"])
        return _template_choice(chosen)

    def outside_window(self, message_sid: str) -> tuple[int, int] | None:
        """(template's part index, first part it carries) once the window was found closed, else None."""
        return _template_choice(self.redis.hget(self._msg(message_sid), "outside_window"))


def _template_choice(value: bytes | str | None) -> tuple[int, int] | None:
    if not value:
        return None
    index, _, first_part = as_text(value).partition(":")
    return int(index), int(first_part)
