"""Wrapper around the twilio SDK for sending replies: explicit timeout, our error vocabulary."""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from switchboard.errors import PermanentError, TransientError
from switchboard.settings import Settings

log = logging.getLogger(__name__)

# Errors that will not go away by retrying the same request (Twilio error dictionary).
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21408: "region not enabled",
    21610: "recipient has unsubscribed (STOP)",
    21614: "'To' is not a mobile number",
    63016: "outside the WhatsApp 24-hour window (needs a template)",
    63018: "WhatsApp rate limit exceeded for this sender",
}


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
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(f"Twilio status {exc.status} code {exc.code}") from exc
            # Not str(exc): Twilio's wording often quotes the recipient's number, which would reach logs.
            reason = PERMANENT_CODES.get(exc.code or 0, f"HTTP {exc.status}")
            raise PermanentError(f"Twilio refused the message: {exc.code} {reason}", exc.code) from exc
        except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from exc
        return str(message.sid)
