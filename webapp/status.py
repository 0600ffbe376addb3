"""POST /twilio/status: Twilio's delivery reports for the parts we sent (sent, delivered, read, failed)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from switchboard.clients.twilio_refusals import OUTSIDE_WINDOW, UNSUBSCRIBED
from switchboard.metrics import DELIVERY_FAILURES, DELIVERY_STATUS
from switchboard.store import ConversationStore
from webapp.signature import require_twilio_signature

log = logging.getLogger(__name__)

bp = Blueprint("status", __name__)


@bp.post("/twilio/status")
@require_twilio_signature
def delivery_status() -> Response:
    outbound_sid = request.form.get("MessageSid", "").strip()
    status = request.form.get("MessageStatus", "").strip().lower()
    if not outbound_sid or not status:
        abort(400, description="missing MessageSid or MessageStatus")
    error_code = request.form.get("ErrorCode", "").strip()
    DELIVERY_STATUS.labels(status=status).inc()
    if status in ("failed", "undelivered"):
        DELIVERY_FAILURES.labels(error_code=error_code or "none").inc()
        log.warning("outbound %s %s (error %s)", outbound_sid, status, error_code or "none")
    store: ConversationStore = current_app.config["STORE"]
    store.record_delivery_status(outbound_sid, status, error_code)
    if status in ("failed", "undelivered") and error_code in _REASONS:
        _note_refusal(store, outbound_sid, error_code)
    return Response(status=204)


# Refusals Twilio can report after accepting a part (WhatsApp's are often asynchronous): what the
# message's record says about them (`switchboard message`).
_REASONS = {str(UNSUBSCRIBED): "opted-out", str(OUTSIDE_WINDOW): "outside-window"}


def _note_refusal(store: ConversationStore, outbound_sid: str, error_code: str) -> None:
    """A 21610 records the opt-out; a finished reply whose part never arrived says why.

    A reply still being sent is left to its reply step, which sees the same report (a long answer
    then goes on as the template: switchboard/domain/part_order.py).
    """
    delivery = store.delivery(outbound_sid)
    message_sid, conversation = delivery.get("message_sid"), delivery.get("conversation")
    if not message_sid or not conversation:
        return  # not a part of ours, or its record expired
    if error_code == str(UNSUBSCRIBED):
        store.set_opted_out(conversation, True)
    message = store.load(message_sid)
    if message is not None and message.replied:
        store.mark_undelivered(message_sid, _REASONS[error_code])
