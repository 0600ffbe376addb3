"""Twilio's refusals in our vocabulary: which answers are permanent, transient, or a fault of our own setup."""

from __future__ import annotations

from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import TWILIO_CREDENTIALS_ERRORS

UNSUBSCRIBED = 21610  # the recipient sent STOP: expected, recorded as an opt-out, never retried
OUTSIDE_WINDOW = 63016  # WhatsApp's 24-hour window has closed: only a template may go out

# Errors that will not go away by retrying the same request (Twilio error dictionary).
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21408: "region not enabled",
    UNSUBSCRIBED: "recipient has unsubscribed (STOP)",
    21614: "'To' is not a mobile number",
    21654: "ContentVariables without a ContentSid",
    21655: "the ContentSid is invalid (check WHATSAPP_TEMPLATE_CONTENT_SID)",
    21656: "the ContentVariables are invalid (check WHATSAPP_TEMPLATE_VARIABLES)",
    OUTSIDE_WINDOW: "outside the WhatsApp 24-hour window (needs a template)",
}
# Errors that pass by themselves: retried like a 429 (63018: WhatsApp rate limit for this sender).
TRANSIENT_CODES = {63018}
# Our credentials were refused (a rotated or revoked token): a setup fault, not the message's.
CREDENTIALS_STATUSES = {401, 403}


class SendOutcomeUnknown(TransientError):
    """The request may have reached Twilio (a timeout, a connection cut mid-answer): the part may be sent."""


def send_refusal(exc: TwilioRestException | TwilioServiceException) -> Exception:
    """The error to raise for Twilio's answer refusing a send."""
    if exc.status in CREDENTIALS_STATUSES:
        TWILIO_CREDENTIALS_ERRORS.inc()
        return ConfigurationFault(
            f"Twilio refused our credentials (HTTP {exc.status} code {exc.code}): check TWILIO_AUTH_TOKEN"
        )
    if exc.status == 429 or exc.status >= 500 or (exc.code or 0) in TRANSIENT_CODES:
        return TransientError(f"Twilio status {exc.status} code {exc.code}")
    # Not str(exc): Twilio's wording often quotes the recipient's number, which would reach logs.
    reason = PERMANENT_CODES.get(exc.code or 0, f"HTTP {exc.status}")
    return PermanentError(f"Twilio refused the message: {exc.code} {reason}", exc.code)


def status_of(exc: Exception) -> int | None:
    """The HTTP status behind a twilio SDK error: its own attribute, or the response it carries."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status
    response = exc.args[1] if len(exc.args) > 1 else None
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None
