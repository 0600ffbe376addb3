"""Where Twilio sends our numbers' and WhatsApp senders' incoming messages, read through its API (for the doctor)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from switchboard.clients.twilio_refusals import status_of
from switchboard.errors import PermanentError, TransientError
from switchboard.settings import Settings


@dataclass(frozen=True)
class Webhook:
    """One number's or sender's configuration as Twilio holds it (None: not set)."""

    address: str  # "+15551234567" or "whatsapp:+15551234567"
    url: str | None  # where an incoming message is posted
    method: str | None
    status_callback: str | None  # a sender's default for delivery reports; numbers have none for messages
    application_sid: str | None = None  # a TwiML app that takes the number's messages instead of `url`


@dataclass(frozen=True)
class MessagingService:
    sid: str
    url: str | None  # inbound_request_url
    method: str | None
    status_callback: str | None
    defers_to_senders: bool  # use_inbound_webhook_on_number: each number's or sender's own webhook applies


class WebhookReader:
    """Reads webhook configuration; raises PermanentError (with the HTTP status as code) or TransientError."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookReader:
        http = TwilioHttpClient(timeout=settings.twilio_timeout_seconds, max_retries=0)
        client = Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=http)
        # api.twilio.com and messaging.twilio.com, both replaceable by a local stand-in.
        client.api.base_url = settings.twilio_api_base_url
        client.messaging.base_url = settings.messaging_base_url
        return cls(client)

    def phone_number(self, number: str) -> Webhook | None:
        """The IncomingPhoneNumber `number` (E.164), or None when this account has no such number."""
        # The PhoneNumber filter matches partial numbers too: keep only the exact one.
        with _converted():
            found = [n for n in self.client.incoming_phone_numbers.list(phone_number=number, limit=20)
                     if n.phone_number == number]
        if not found:
            return None
        resource = found[0]
        return Webhook(number, resource.sms_url or None, resource.sms_method, None, resource.sms_application_sid)

    def whatsapp_sender(self, sender_id: str) -> Webhook | None:
        """The WhatsApp sender `sender_id` ("whatsapp:+…") from the Senders API, or None when there is none."""
        with _converted():
            senders = list(self.client.messaging.v2.channels_senders.stream(channel="whatsapp"))
        sender = next((s for s in senders if s.sender_id == sender_id), None)
        if sender is None:
            return None
        # The SDK declares `webhook` a str; the API sends an object (callback_url, status_callback_url, …).
        webhook: dict[str, Any] = sender.webhook if isinstance(sender.webhook, dict) else {}
        return Webhook(sender_id, webhook.get("callback_url") or None, webhook.get("callback_method"),
                       webhook.get("status_callback_url") or None)

    def messaging_service(self, sid: str) -> MessagingService:
        with _converted():
            service = self.client.messaging.v1.services(sid).fetch()
        return MessagingService(sid, service.inbound_request_url or None, service.inbound_method,
                                service.status_callback or None, bool(service.use_inbound_webhook_on_number))


@contextmanager
def _converted() -> Iterator[None]:
    try:
        yield
    except TwilioException as exc:  # a list page's refusal is a bare TwilioException carrying the response
        status = status_of(exc)
        if status is not None and (status == 429 or status >= 500):
            raise TransientError(f"Twilio answered HTTP {status}") from exc
        code = getattr(exc, "code", None)
        raise PermanentError(f"Twilio refused the request: HTTP {status}" + (f" code {code}" if code else ""),
                             status) from exc
    except OSError as exc:  # requests' ConnectionError and Timeout
        raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from exc
