"""Long WhatsApp answers in order on the phone: part n+1 is created only once Twilio reports part n sent.

Twilio does not keep separately created WhatsApp messages in order, so the reply step waits, without
holding its thread: while part n has no report it raises NotYourTurn and the task comes back shortly,
continuing after the parts already sent (each part's claim keeps it exactly-once). The wait is
bounded (PART_ORDER_WAIT_SECONDS): a lost status callback must not strand the rest of an answer.
"""

from __future__ import annotations

import logging
import math
import time

from switchboard.clients.twilio_client import ReplySender
from switchboard.clients.twilio_refusals import OUTSIDE_WINDOW
from switchboard.errors import NotYourTurn
from switchboard.metrics import PART_ORDER
from switchboard.store import ConversationStore, StoredMessage

log = logging.getLogger(__name__)

ARRIVED = frozenset({"sent", "delivered", "read"})  # on its way to the phone, or there
ENDED = frozenset({"failed", "undelivered", "canceled"})  # will never arrive
# With status callbacks on, Twilio is asked directly only when none came this long after the send
# (a callback that reaches us before the part's SID is recorded finds nothing to update).
CALLBACK_GRACE_SECONDS = 5.0
# How soon the reply step looks again while it waits for a report.
POLL_SECONDS = 0.5


class WindowClosed(Exception):
    """Twilio reported part `index` failed with 63016: the rest of the answer must go as the template."""

    def __init__(self, index: int) -> None:
        super().__init__(f"part {index} failed outside the 24-hour window")
        self.index = index


def wait_until_sent(store: ConversationStore, replies: ReplySender, message: StoredMessage, index: int,
                    outbound_sid: str) -> None:
    """Return once part `index` (sent as `outbound_sid`) may be followed by the next part.

    Raises NotYourTurn while Twilio has not reported it sent and the wait is not over, and
    WindowClosed when Twilio reports it refused as outside the 24-hour window.
    """
    wait_max = replies.part_order_wait_seconds
    if wait_max <= 0:
        return
    claimed_at = store.part_claimed_at(message.inbound.message_sid, index)
    waited = time.time() - claimed_at if claimed_at is not None else math.inf
    status, error_code = _reported(store, outbound_sid)
    if status not in ARRIVED | ENDED and (replies.status_callback is None or waited > CALLBACK_GRACE_SECONDS):
        fetched = replies.message_status(outbound_sid)
        if fetched is not None:
            store.record_delivery_status(outbound_sid, *fetched)
            status, error_code = _reported(store, outbound_sid)
    if status in ARRIVED:
        PART_ORDER.labels(after="sent").inc()
        return
    if status in ENDED:
        if error_code == str(OUTSIDE_WINDOW):
            raise WindowClosed(index)
        log.warning("part %s of seq %s was reported %s (error %s); sending the next part", index, message.seq,
                    status, error_code or "none")
        PART_ORDER.labels(after="failed").inc()
        return
    if waited >= wait_max:
        log.warning("part %s of seq %s has no 'sent' report after %.0f s; sending the next part anyway", index,
                    message.seq, waited)
        PART_ORDER.labels(after="wait-ran-out").inc()
        return
    raise NotYourTurn(f"part {index} of seq {message.seq} is not reported sent yet", retry_after=POLL_SECONDS)


def _reported(store: ConversationStore, outbound_sid: str) -> tuple[str, str]:
    """The furthest status recorded for a part (from a status callback or an earlier fetch), and its error code."""
    delivery = store.delivery(outbound_sid)
    return delivery.get("status", ""), delivery.get("error_code", "")
