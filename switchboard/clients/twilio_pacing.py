"""Twilio pacing across every process and host: a shared limit on requests in flight, and holds after rate limits.

Twilio limits the REST requests an account has in flight at once (HTTP 429, error 20429) and each
sender's rate (63018). Twenty workers of sixteen threads would trip the first, so each request of the
reply path holds one of TWILIO_MAX_CONCURRENT_REQUESTS slots, kept in Redis (the store's
twilio-slots), while it runs. One that finds no slot free within a couple of seconds gives its task
back to the queue (SlotUnavailable: Backpressure, the same attempt again later) instead of holding a worker thread. After a
rate-limit answer every process holds off the account (20429) or that sender (63018) for Twilio's
Retry-After, or a few seconds without one.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import redis

from switchboard.clients.twilio_refusals import ACCOUNT_CONCURRENCY, RateLimited
from switchboard.errors import Backpressure, TransientError
from switchboard.metrics import TWILIO_SLOTS
from switchboard.settings import Settings

log = logging.getLogger(__name__)

ACCOUNT = "account"
# How long a request waits for a slot before its task goes back to the queue, polling at first every
# FIRST_POLL_SECONDS and then half as often each time, up to POLL_MAX_SECONDS (jittered, so waiting
# threads do not ask in step).
SLOT_WAIT_SECONDS = 2.0
FIRST_POLL_SECONDS = 0.01
POLL_MAX_SECONDS = 0.2
# A request ends within its connect and read timeouts, so a slot's lease is a few timeouts long: a
# worker killed mid-request frees its slot when the lease ends.
LEASE_TIMEOUTS = 3
# Holds when Twilio gives no Retry-After: the account's concurrency clears as soon as requests end;
# a sender's rate takes longer.
ACCOUNT_HOLD_SECONDS = 2.0
SENDER_HOLD_SECONDS = 5.0
# A held task comes back between the hold's end and half as long again, so they do not all come back at once.
HOLD_JITTER = 0.5


class Slots(Protocol):
    """What pacing needs of the store (switchboard/store/send_slots.py)."""

    def take_twilio_slot(self, token: str, limit: int, lease_seconds: float) -> bool: ...
    def free_twilio_slot(self, token: str) -> None: ...
    def hold_twilio(self, scope: str, seconds: float, why: str) -> None: ...
    def twilio_held_for(self, scopes: Sequence[str]) -> float: ...


class SlotUnavailable(Backpressure):
    """No Twilio request slot came free in time, or Twilio asked us to hold off: nothing was sent."""


def sender_scope(sender: str) -> str:
    """The hold scope of one sender: its From address, or the Messaging Service SID that picks it."""
    return f"sender:{sender}"


class TwilioPacing:
    """Hands out the account's Twilio request slots (`limit`; 0: no limit of ours) and keeps Twilio's holds."""

    def __init__(self, slots: Slots, limit: int, lease_seconds: float, wait_seconds: float = SLOT_WAIT_SECONDS) -> None:
        self.slots = slots
        self.limit = limit  # TWILIO_MAX_CONCURRENT_REQUESTS
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds

    @classmethod
    def from_settings(cls, settings: Settings, slots: Slots | None) -> TwilioPacing | None:
        """None without a store to keep the slots in (a client built on its own, as some tests do)."""
        if slots is None:
            return None
        return cls(slots, settings.twilio_max_concurrent_requests,
                   lease_seconds=LEASE_TIMEOUTS * settings.twilio_timeout_seconds + 1)

    @contextmanager
    def slot(self, sender: str | None = None, wait_seconds: float | None = None) -> Iterator[None]:
        """Hold one of the account's request slots while the block calls Twilio.

        `sender` (a send's From or Messaging Service SID): a hold on that sender applies as well as the
        account's. Raises SlotUnavailable when Twilio asked us to hold off, or when no slot came free
        within `wait_seconds` (default SLOT_WAIT_SECONDS; 0: take one only if free now).
        """
        scopes = [ACCOUNT, *([sender_scope(sender)] if sender else [])]
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        try:
            held = self.slots.twilio_held_for(scopes)
            if held > 0:
                TWILIO_SLOTS.labels(outcome="held").inc()
                raise SlotUnavailable(f"Twilio asked us to hold off for {held:.1f}s more",
                                      retry_after=jittered(held))
            token = self._take(wait) if self.limit > 0 else None
        except redis.RedisError as exc:
            # Redis is down: a real failure, counted against the attempts like any other.
            raise TransientError(f"Twilio request slots unreadable: {type(exc).__name__}") from exc
        try:
            yield
        finally:
            if token is not None:
                self._free(token)

    def hold_off(self, error: RateLimited, sender: str | None) -> None:
        """Twilio refused for rate: every process holds off the account or this sender; sets when to come back."""
        if error.code == ACCOUNT_CONCURRENCY:
            scope, default = ACCOUNT, ACCOUNT_HOLD_SECONDS
            log.warning("Twilio answered 20429 (too many concurrent requests): holding off every request %s; if it "
                        "recurs, TWILIO_MAX_CONCURRENT_REQUESTS=%s is above what the account allows",
                        _how_long(error.retry_after, default), self.limit)
        else:
            scope, default = sender_scope(sender or "unknown"), SENDER_HOLD_SECONDS
            log.warning("Twilio answered %s (the sender's rate limit): holding off its sends %s", error.code,
                        _how_long(error.retry_after, default))
        seconds = error.retry_after if error.retry_after is not None else default
        try:
            self.slots.hold_twilio(scope, seconds, str(error.code))
        except redis.RedisError as exc:
            log.warning("could not share the hold on %s: %s; only this task waits", scope, type(exc).__name__)
        error.retry_after = jittered(seconds)

    def _take(self, wait_seconds: float) -> str:
        """A slot's token, polling for up to `wait_seconds`; raises SlotUnavailable when none came free."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait_seconds
        pause, waited = FIRST_POLL_SECONDS, False
        while not self.slots.take_twilio_slot(token, self.limit, self.lease_seconds):
            left = deadline - time.monotonic()
            if left <= 0:
                TWILIO_SLOTS.labels(outcome="unavailable").inc()
                raise SlotUnavailable(f"all {self.limit} Twilio request slots stayed taken for {wait_seconds:g}s")
            waited = True
            time.sleep(min(left, random.uniform(pause / 2, pause)))
            pause = min(pause * 2, POLL_MAX_SECONDS)
        TWILIO_SLOTS.labels(outcome="waited" if waited else "free").inc()
        return token

    def _free(self, token: str) -> None:
        try:
            self.slots.free_twilio_slot(token)
        except redis.RedisError as exc:
            # Not worth failing a request Twilio has answered: the slot frees itself when its lease ends.
            log.warning("could not free a Twilio request slot: %s; its lease ends in %.0fs", type(exc).__name__,
                        self.lease_seconds)


def jittered(seconds: float) -> float:
    """When a held task should come back: after the hold, spread over half as long again."""
    return seconds * random.uniform(1, 1 + HOLD_JITTER)


def _how_long(retry_after: float | None, default: float) -> str:
    return f"for {retry_after:g}s (Retry-After)" if retry_after is not None else f"for {default:g}s"
