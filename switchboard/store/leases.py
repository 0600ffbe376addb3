"""Leases: two overlapping runs of one step (a redelivery, a republish) never both act."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from switchboard.store.base import StoreBase

log = logging.getLogger(__name__)

# A lease lasts this long past its last renewal: how soon another run may take over from a crashed
# one. Renewals keep a live run's lease however long its OpenAI or Twilio call takes.
LEASE_SECONDS = 10.0

_EXTEND_LEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Leases(StoreBase):
    """The lease of one step (answer, reply) on a message, held and renewed while the step runs."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._extend_lease = self.redis.register_script(_EXTEND_LEASE)
        self._release_lease = self.redis.register_script(_RELEASE_LEASE)

    @contextmanager
    def lease(self, message_sid: str, step: str, seconds: float = LEASE_SECONDS) -> Iterator[str | None]:
        """Hold `step`'s lease on a message while the block runs: yields our token, or None if another run has it.

        The lease is renewed every third of `seconds` while the block runs, so a live run keeps it
        however long its call takes, and a crashed run's lease lapses `seconds` after its last renewal.
        """
        # In the message's shard, beside its record (claim_part reads both); the summary task leases by
        # conversation id, which the sid index does not know, so that lease lands in the conversation's shard.
        key = self._in(self._shard_of_sid(message_sid), "lease", message_sid, step)
        token = uuid.uuid4().hex
        if not self.redis.set(key, token, nx=True, px=int(seconds * 1000)):
            yield None
            return
        stop = threading.Event()
        renewer = threading.Thread(target=self._keep_lease, args=(key, token, seconds, stop),
                                   name=f"lease-{step}", daemon=True)
        renewer.start()
        try:
            yield token
        finally:
            stop.set()
            renewer.join()
            try:
                self._release_lease(keys=[key], args=[token])
            except redis.RedisError as exc:
                # Not worth failing the step for: the lease lapses by itself within `seconds`.
                log.warning("could not release lease %s: %s", key, exc)

    def _keep_lease(self, key: str, token: str, seconds: float, stop: threading.Event) -> None:
        while not stop.wait(seconds / 3):
            try:
                if not self._extend_lease(keys=[key], args=[token, int(seconds * 1000)]):
                    # Lapsed (this process stalled longer than the lease): claim_part's fence stops our sends.
                    log.warning("lease %s was lost to another run", key)
                    return
            except redis.RedisError as exc:
                log.warning("could not renew lease %s: %s", key, exc)
