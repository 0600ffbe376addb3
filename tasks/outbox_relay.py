"""Republish what is owed to SQS: messages the webhook accepted while SQS was unreachable, and links tasks owe."""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Protocol

import redis

from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.lost_records import MessageDropped, rebuild
from switchboard.errors import TransientError
from switchboard.metrics import OUTBOX_PARKED
from switchboard.services import get_services
from switchboard.store import ConversationStore, StoredMessage
from tasks.publishing import PublishOutcome
from tasks.sqs_answers import AnswerKind

log = logging.getLogger(__name__)

# Entries younger than this may still be in the middle of the webhook's own publish.
SETTLE_SECONDS = 10.0


class ChainPublisher(Protocol):
    def send(self, message_sid: str, conversation: str, start: str = "intake", generation: str = "") -> PublishOutcome:
        ...


class OutboxRelay:
    """One relay at a time across all workers (a short Redis lock); oldest entries first.

    An entry is either a whole chain (the webhook could not publish it) or a link a task owes
    (store.owed_link: the chain from that stage, under its own deduplication generation).
    """

    def __init__(self, store: ConversationStore, publisher: ChainPublisher, interval: float = 2.0,
                 twilio: ReplySender | None = None) -> None:
        self.store = store
        self.publisher = publisher
        self.interval = interval
        self.twilio = twilio  # to rebuild a record the store lost; None: the process's own client
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
        """Publish due entries in acceptance order.

        Stops at the first failure that means SQS is unreachable, throttling or misconfigured (the
        rest would fail alike, and order is kept); an entry SQS refuses for itself is parked instead.
        """
        if not self.store.try_relay_lock(self.owner, seconds=max(5, int(self.interval * 3))):
            return 0
        relayed = 0
        for message_sid in self.store.outbox_due(settle_seconds):
            message = self._message(message_sid)
            if message is None:
                continue
            owed = self.store.owed_link(message_sid)
            start, generation = owed if owed is not None else ("intake", "")
            outcome = self.publisher.send(message_sid, message.conversation, start, generation)
            if outcome.published:
                self.store.outbox_clear(message_sid, owed)
                relayed += 1
            elif outcome.kind is AnswerKind.REJECTED:
                self.store.park(message_sid)
                OUTBOX_PARKED.inc()
                log.error("outbox relay: SQS refused %s (%s); parked it, going on with later entries",
                          message_sid, outcome.error)
            else:
                break
        if relayed:
            log.info("outbox relay: published %s message(s)", relayed)
        return relayed

    def _message(self, message_sid: str) -> StoredMessage | None:
        """The entry's record, rebuilt from Twilio when the store lost it; None when it cannot be had now."""
        message = self.store.load(message_sid)
        if message is not None:
            return message
        try:
            rebuild(self.store, self.twilio or get_services().replies, message_sid, "relay")
        except TransientError:
            log.warning("outbox relay: %s has no record and Twilio cannot be asked now; will try again", message_sid)
            return None
        except MessageDropped:
            self.store.outbox_clear(message_sid, self.store.owed_link(message_sid))
            return None
        return self.store.load(message_sid)
