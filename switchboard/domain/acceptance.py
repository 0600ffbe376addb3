"""Accepting an inbound message: store it durably, then hand it to the queue (or process it at once)."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable

import redis

from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    QUEUED = "queued"  # on SQS
    OUTBOXED = "outboxed"  # SQS did not take it; the outbox relay will
    DUPLICATE = "duplicate"  # this MessageSid was accepted before (a Twilio retry)
    PROCESSED = "processed"  # direct mode: answered within the request


class StoreUnavailable(RuntimeError):
    """Redis could not take the message, so it was not accepted (the webhook answers 503)."""


def accept(
    store: ConversationStore, message: InboundMessage, hand_over: Callable[[str, str], bool]
) -> Outcome:
    """Store, claim and outbox the message in one step, then `hand_over(sid, conversation)`.

    The message leaves the outbox only once `hand_over` reports success, so a failed or
    interrupted hand-over is picked up by the relay instead of being lost.

    Idempotent across a lost answer: when Redis stored the message but its reply timed out, the
    webhook answered 503; Twilio's retry finds the claim and, while the message still waits in the
    outbox, hands it over now instead of leaving it to the relay (dedup ids and idempotent tasks
    absorb a second publish if the relay got there too).
    """
    try:
        claim = store.claim(message)
    except redis.RedisError as exc:
        raise StoreUnavailable(str(exc)) from exc
    if not claim.needs_hand_over:
        return Outcome.DUPLICATE
    if not claim.new:
        log.warning("accepted before but never known to be handed over; handing it over now")
    if not hand_over(message.message_sid, message.conversation_id):
        return Outcome.OUTBOXED
    try:
        store.outbox_remove(message.message_sid)
    except redis.RedisError:
        # The relay will publish it again; dedup ids and idempotent tasks absorb the duplicate.
        log.warning("could not clear the outbox entry", exc_info=True)
    return Outcome.QUEUED
