"""Republish messages the webhook accepted while SQS was unreachable (the Redis outbox)."""

from __future__ import annotations

import logging
import os
import socket
import threading

import redis

from switchboard.store import ConversationStore

log = logging.getLogger(__name__)

# Entries younger than this may still be in the middle of the webhook's own publish.
SETTLE_SECONDS = 10.0


class OutboxRelay:
    """One relay at a time across all workers (a short Redis lock); oldest entries first."""

    def __init__(self, store: ConversationStore, publisher: object, interval: float = 2.0) -> None:
        self.store = store
        self.publisher = publisher
        self.interval = interval
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.relay_once()
            except redis.RedisError:
                log.warning("outbox relay: Redis unavailable; will try again", exc_info=True)

    def relay_once(self, settle_seconds: float = SETTLE_SECONDS) -> int:
        """Publish due entries in acceptance order; stop at the first failure (SQS still down)."""
        if not self.store.try_relay_lock(self.owner, seconds=max(5, int(self.interval * 3))):
            return 0
        relayed = 0
        for message_sid in self.store.outbox_due(settle_seconds):
            message = self.store.load(message_sid)
            if message is None:
                log.warning("outbox relay: %s has expired from the store; dropping the entry", message_sid)
                self.store.outbox_remove(message_sid)
                continue
            if not self.publisher.publish(message_sid, message.conversation):  # type: ignore[attr-defined]
                break
            self.store.outbox_remove(message_sid)
            relayed += 1
        if relayed:
            log.info("outbox relay: published %s message(s)", relayed)
        return relayed
