"""Twilio's refusals in our vocabulary: which answers are permanent, transient, or a fault of our own setup."""

from __future__ import annotations

from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from switchboard.errors import Backpressure, ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import TWILIO_CREDENTIALS_ERRORS, TWILIO_RATE_LIMITED

UNSUBSCRIBED = 21610  # the recipient sent STOP: expected, recorded as an opt-out, never retried
OUTSIDE_WINDOW = 63016  # WhatsApp's 24-hour window has closed: only a template may go out
# Refused for rate (never processed, so always safe to send again): the whole account's concurrent
# REST requests (HTTP 429), or one sender's rate or messaging limit (WhatsApp, RCS).
ACCOUNT_CONCURRENCY = 20429
SENDER_RATE = 63018

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
# Our credentials were refused (a rotated or revoked token): a setup fault, not the message's.
CREDENTIALS_STATUSES = {401, 403}


class SendOutcomeUnknown(TransientError):
    """The request may have reached Twilio (a timeout, a connection cut mid-answer): the part may be sent."""


class RateLimited(Backpressure):
    """Twilio refused a request for rate; `code` says whose limit (ACCOUNT_CONCURRENCY or SENDER_RATE)."""

    def __init__(self, message: str, code: int, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after)
        self.code = code


def rate_limit(status: int | None, code: int | None, retry_after: float | None = None) -> RateLimited | None:
    """The RateLimited error for an answer refusing for rate (counted in a metric); None for any other answer.

    63018 may come with any status; any other 429 is the account's concurrency whatever its code.
    """
    if code == SENDER_RATE:
        which = SENDER_RATE
    elif status == 429 or code == ACCOUNT_CONCURRENCY:
        which = ACCOUNT_CONCURRENCY
    else:
        return None
    TWILIO_RATE_LIMITED.labels(code=str(which)).inc()
    return RateLimited(f"Twilio rate limit: HTTP {status} code {code}", which, retry_after)


def send_refusal(exc: TwilioRestException | TwilioServiceException, retry_after: float | None = None) -> Exception:
    """The error to raise for Twilio's answer refusing a send; `retry_after`: the answer's Retry-After header."""
    if exc.status in CREDENTIALS_STATUSES:
        TWILIO_CREDENTIALS_ERRORS.inc()
        return ConfigurationFault(
            f"Twilio refused our credentials (HTTP {exc.status} code {exc.code}): check TWILIO_AUTH_TOKEN"
        )
    limited = rate_limit(exc.status, exc.code, retry_after)
    if limited is not None:
        return limited
    if exc.status >= 500:
        return TransientError(f"Twilio status {exc.status} code {exc.code}", retry_after)
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
