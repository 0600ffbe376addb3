"""A message whose Redis record is gone when a step runs (a failover lost the last writes): rebuild it from Twilio.

The task carries only the MessageSid (phone numbers stay out of task arguments, which Flower and SQS
show), so Twilio's own copy of the message is the one place left to learn who wrote and what.
"""

from __future__ import annotations

import logging

from switchboard.clients.twilio_client import ReplySender
from switchboard.clients.twilio_messages import inbound_from_resource
from switchboard.domain.inbound import MalformedMessage
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import DROPPED, RECORDS_REBUILT
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)


class MessageDropped(Exception):
    """The record is gone and cannot be rebuilt: the message can get no answer (counted, alarmed on)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def rebuild(store: ConversationStore, twilio: ReplySender, message_sid: str, stage: str) -> None:
    """Recreate the message's record from Twilio's copy (a no-op if another run did it first).

    Raises TransientError when Twilio cannot be asked now, MessageDropped (already counted) when
    Twilio has no usable copy.
    """
    try:
        resource = twilio.fetch_message(message_sid)
    except ConfigurationFault as exc:
        # Our Twilio credentials are wrong: worth asking again once they are fixed, like a 5xx.
        raise TransientError(str(exc)) from exc
    except PermanentError as exc:
        raise drop(store, message_sid, stage, "twilio_refused") from exc
    if resource is None:
        raise drop(store, message_sid, stage, "not_in_twilio")
    if getattr(resource, "direction", None) != "inbound":
        raise drop(store, message_sid, stage, "not_inbound")
    try:
        message = inbound_from_resource(resource)
    except MalformedMessage as exc:
        raise drop(store, message_sid, stage, "unreadable") from exc
    if store.restore(message):
        RECORDS_REBUILT.labels(stage=stage).inc()
        log.warning("%s: the message's record was missing; rebuilt it from Twilio's copy", stage)


def drop(store: ConversationStore, message_sid: str, stage: str, reason: str) -> MessageDropped:
    """Count a message that can get no answer (switchboard_dropped_total{reason}), log it, drop it from the backlog."""
    store.forget_unanswered(message_sid)
    DROPPED.labels(reason=reason).inc()
    log.error("%s: the message's record is gone and cannot be rebuilt (%s); dropping it unanswered", stage, reason)
    return MessageDropped(reason)
