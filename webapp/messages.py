"""POST /twilio/messages: authenticate, accept, acknowledge with empty TwiML."""

from __future__ import annotations

import functools
import logging
import time

from flask import Blueprint, Response, abort, current_app, g, request
from twilio.twiml.messaging_response import MessagingResponse

from switchboard.domain.acceptance import Outcome, StoreUnavailable, accept
from switchboard.domain.inbound import InboundMessage, MalformedMessage
from switchboard.logs import correlated
from switchboard.metrics import WEBHOOK_LATENCY, WEBHOOK_REQUESTS
from switchboard.services import get_services
from tasks.publishing import Publisher
from webapp.direct import process_now
from webapp.signature import require_twilio_signature

log = logging.getLogger(__name__)

bp = Blueprint("messages", __name__)

_OUTCOME_BY_STATUS = {400: "malformed", 403: "forbidden", 413: "too_large", 503: "unavailable"}


@bp.before_request
def _start_clock() -> None:
    g.webhook_started = time.perf_counter()


@bp.after_request
def _count(response: Response) -> Response:
    outcome = g.get("webhook_outcome") or _OUTCOME_BY_STATUS.get(response.status_code, str(response.status_code))
    WEBHOOK_REQUESTS.labels(outcome=outcome).inc()
    WEBHOOK_LATENCY.observe(time.perf_counter() - g.webhook_started)
    return response


@functools.cache
def _publisher() -> Publisher:
    return Publisher(current_app.config["SETTINGS"].publish_timeout_seconds)


def _process_now(message_sid: str, conversation: str) -> bool:
    return process_now(get_services(), message_sid, conversation)


@bp.post("/twilio/messages")
@require_twilio_signature
def inbound_message() -> Response:
    settings = current_app.config["SETTINGS"]
    try:
        message = InboundMessage.from_twilio_form(request.form, conversation_key=settings.conversation_key())
    except MalformedMessage as exc:
        abort(400, description=str(exc))
    if message.account_sid != settings.twilio_account_sid:
        abort(403, description="message is for another Twilio account")
    with correlated(message.message_sid):
        hand_over = current_app.config.get("HAND_OVER") or (
            _publisher().publish if settings.processing_mode == "queue" else _process_now
        )
        try:
            outcome = accept(current_app.config["STORE"], message, hand_over)
        except StoreUnavailable:
            log.error("Redis unavailable; answering 503 so Twilio uses the fallback URL")
            abort(503)
        if outcome is Outcome.QUEUED and settings.processing_mode == "direct":
            outcome = Outcome.PROCESSED  # handed over to process_now, which answered within this request
        g.webhook_outcome = outcome.value
        log.info("inbound message %s", outcome.value)
    return Response(str(MessagingResponse()), status=200, mimetype="text/xml")


__all__ = ["bp", "Outcome"]
