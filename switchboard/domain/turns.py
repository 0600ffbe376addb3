"""What every step of a message's chain shares: loading its record, and waiting for its turn."""

from __future__ import annotations

import logging
import time

from switchboard.errors import NotYourTurn, PermanentError
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)


class UnknownMessage(PermanentError):
    """The message is not in Redis (expired, or never accepted): nothing can be done with it."""


def load(store: ConversationStore, message_sid: str) -> StoredMessage:
    message = store.load(message_sid)
    if message is None:
        raise UnknownMessage(f"message {message_sid} is not in the store")
    return message


def wait_for_turn(message: StoredMessage, done_upto: int, order_wait_max_seconds: float) -> None:
    if done_upto >= message.seq - 1:
        return
    waited = time.time() - message.inbound.received_at
    if waited > order_wait_max_seconds:
        # An earlier message is stuck; answering out of order beats not answering at all.
        log.warning("seq %s gave up waiting for seq %s after %.0fs", message.seq, done_upto + 1, waited)
        return
    raise NotYourTurn(f"seq {message.seq} waits for seq {done_upto + 1}")
