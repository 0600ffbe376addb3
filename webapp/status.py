"""POST /twilio/status: Twilio's delivery reports for the parts we sent (sent, delivered, read, failed)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from switchboard.metrics import DELIVERY_FAILURES, DELIVERY_STATUS
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
    current_app.config["STORE"].record_delivery_status(outbound_sid, status, error_code)
    return Response(status=204)
