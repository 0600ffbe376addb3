"""Wrapper around the twilio SDK for sending replies: explicit timeout, our error vocabulary."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import TWILIO_CREDENTIALS_ERRORS
from switchboard.settings import Settings

log = logging.getLogger(__name__)

# Errors that will not go away by retrying the same request (Twilio error dictionary).
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21408: "region not enabled",
    21610: "recipient has unsubscribed (STOP)",
    21614: "'To' is not a mobile number",
    63016: "outside the WhatsApp 24-hour window (needs a template)",
}
# Errors that pass by themselves: retried like a 429 (63018: WhatsApp rate limit for this sender).
TRANSIENT_CODES = {63018}
# Our credentials were refused (a rotated or revoked token): a setup fault, not the message's.
CREDENTIALS_STATUSES = {401, 403}


class SendOutcomeUnknown(TransientError):
    """The request may have reached Twilio (a timeout, a connection cut mid-answer): the part may be sent."""


# How far before our claim a part Twilio accepted may be dated (its clock against ours), and how
# many of the newest messages to one user a lookup reads.
LOOKUP_CLOCK_SKEW_SECONDS = 10
LOOKUP_LIMIT = 50


class ReplySender:
    """Sends one message part; says which failures are worth retrying."""

    def __init__(self, client: Client, messaging_service_sid: str | None, status_callback: str | None = None) -> None:
        self.client = client
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplySender:
        http = TwilioHttpClient(timeout=settings.twilio_timeout_seconds, max_retries=0, pool_connections=True)
        client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=http
        )
        # The SDK builds every URL from this base, so a local stand-in can take Twilio's place.
        client.api.base_url = settings.twilio_api_base_url
        # Twilio reports delivery (sent, delivered, read, failed) to this URL when we can be reached.
        status_callback = f"{settings.public_base_url}/twilio/status" if settings.public_base_url else None
        return cls(client, settings.twilio_messaging_service_sid, status_callback)

    def send(self, to: str, from_: str, body: str) -> str:
        """Send `body` to `to`; returns the outbound message SID Twilio accepted it under."""
        options: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": from_}
        )
        if self.status_callback:
            options["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(to=to, body=body, **options)
        except (TwilioRestException, TwilioServiceException) as exc:
            # The SDK raises TwilioServiceException (not a subclass) for RFC 9457 problem bodies.
            if exc.status in CREDENTIALS_STATUSES:
                TWILIO_CREDENTIALS_ERRORS.inc()
                raise ConfigurationFault(
                    f"Twilio refused our credentials (HTTP {exc.status} code {exc.code}): check TWILIO_AUTH_TOKEN"
                ) from exc
            if exc.status == 429 or exc.status >= 500 or (exc.code or 0) in TRANSIENT_CODES:
                raise TransientError(f"Twilio status {exc.status} code {exc.code}") from exc
            # Not str(exc): Twilio's wording often quotes the recipient's number, which would reach logs.
            reason = PERMANENT_CODES.get(exc.code or 0, f"HTTP {exc.status}")
            raise PermanentError(f"Twilio refused the message: {exc.code} {reason}", exc.code) from exc
        except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
            # Sent, maybe: Twilio has no idempotency key, so the next attempt looks in its log first.
            raise SendOutcomeUnknown(f"Twilio unreachable: {type(exc).__name__}") from exc
        return str(message.sid)

    def find_sent(self, to: str, from_: str, body: str, since: float) -> list[str]:
        """SIDs of messages with exactly `body` we sent to `to` since `since` (Unix time), oldest first.

        After a send whose outcome is unknown this is how we learn whether Twilio accepted it. Two
        reads: by DateSent (what Twilio's log filters on), and the newest messages to `to` by
        creation time, since a message Twilio still queues has no DateSent yet.
        """
        after = datetime.fromtimestamp(int(since) - LOOKUP_CLOCK_SKEW_SECONDS, UTC)
        # With a Messaging Service Twilio picks the sender, so only the service identifies our sends.
        sender: dict[str, str] = {} if self.messaging_service_sid else {"from_": from_}
        found: dict[str, datetime] = {}
        try:
            for dated in ({"date_sent_after": after}, {}):
                for message in self.client.messages.list(to=to, limit=LOOKUP_LIMIT, **sender, **dated):
                    created = message.date_created
                    if (
                        message.body == body
                        and str(message.direction or "").startswith("outbound")
                        and (not self.messaging_service_sid or message.messaging_service_sid == self.messaging_service_sid)
                        and created is not None and created >= after
                    ):
                        found[str(message.sid)] = created
        except TwilioException as exc:
            # The list path raises a bare TwilioException("Unable to fetch page", response) for an
            # error answer. Without an answer we cannot know whether the part went out, so never
            # treat a failed lookup as "not sent"; refused credentials are a setup fault, as for send.
            if _status_of(exc) in CREDENTIALS_STATUSES:
                TWILIO_CREDENTIALS_ERRORS.inc()
                raise ConfigurationFault(
                    f"Twilio refused our credentials reading its message log (HTTP {_status_of(exc)})"
                ) from exc
            raise TransientError(f"Twilio message log unavailable: {type(exc).__name__}") from exc
        except OSError as exc:
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from exc
        return sorted(found, key=lambda sid: found[sid])

    def fetch_message(self, message_sid: str) -> object | None:
        """Twilio's own copy of one message (the SDK's MessageInstance), or None when Twilio has none.

        Used to rebuild a message whose record our store lost; an answer we cannot read raises, so a
        lookup that failed is never taken for "Twilio has no such message".
        """
        try:
            # The SDK is untyped (Any); callers read the instance by attribute, so it is handed on as object.
            instance: object = self.client.messages(message_sid).fetch()
            return instance
        except (TwilioRestException, TwilioServiceException) as exc:
            if exc.status == 404:
                return None
            if exc.status in CREDENTIALS_STATUSES:
                TWILIO_CREDENTIALS_ERRORS.inc()
                raise ConfigurationFault(f"Twilio refused our credentials (HTTP {exc.status})") from exc
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(f"Twilio status {exc.status} code {exc.code}") from exc
            raise PermanentError(f"Twilio refused the lookup: HTTP {exc.status} code {exc.code}", exc.code) from exc
        except TwilioException as exc:
            raise TransientError(f"Twilio message lookup failed: {type(exc).__name__}") from exc
        except OSError as exc:
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from exc


def _status_of(exc: Exception) -> int | None:
    """The HTTP status behind a twilio SDK error: its own attribute, or the response it carries."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status
    response = exc.args[1] if len(exc.args) > 1 else None
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None
