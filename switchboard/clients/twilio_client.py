"""Wrapper around the twilio SDK for sending replies: explicit timeout, our error vocabulary, paced sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.rest import Client

from switchboard.clients.twilio_http import AnswerKeepingHttpClient, retry_after_of
from switchboard.clients.twilio_lookups import MessageLookups
from switchboard.clients.twilio_pacing import Slots, TwilioPacing
from switchboard.clients.twilio_refusals import SendOutcomeUnknown, send_refusal
from switchboard.clients.twilio_typing import TypingIndicator
from switchboard.settings import Settings

__all__ = ["ContentTemplate", "ReplySender", "SendOutcomeUnknown"]


@dataclass(frozen=True)
class ContentTemplate:
    """The approved WhatsApp template a reply goes out as once the 24-hour window has closed."""

    content_sid: str  # HX…
    variables: Mapping[str, str] = field(default_factory=dict)  # values may use {answer} and {profile_name}


class ReplySender(MessageLookups):
    """Sends one message part (or the template); says which failures are worth retrying.

    With `pacing`, every request holds one of the account's Twilio request slots while it runs
    (switchboard/clients/twilio_pacing.py), and a rate-limit answer makes every process hold off.
    Its reads of Twilio's message log (status, our sends, one message) are in MessageLookups.
    """

    def __init__(self, client: Client, messaging_service_sid: str | None, status_callback: str | None = None, *,
                 template: ContentTemplate | None = None, part_order_wait_seconds: float = 30.0,
                 typing: TypingIndicator | None = None, pacing: TwilioPacing | None = None) -> None:
        self.client = client
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.template = template  # WHATSAPP_TEMPLATE_CONTENT_SID and _VARIABLES; None: none configured
        # PART_ORDER_WAIT_SECONDS: how long a long answer's next part waits for the previous one's "sent".
        self.part_order_wait_seconds = part_order_wait_seconds
        self.typing = typing
        self.pacing = pacing

    @classmethod
    def from_settings(cls, settings: Settings, slots: Slots | None = None) -> ReplySender:
        """`slots`: the store, where every process's requests share TWILIO_MAX_CONCURRENT_REQUESTS; None: unpaced."""
        # Keeps each thread's last answer: a 429's Retry-After is read from it.
        http = AnswerKeepingHttpClient(timeout=settings.twilio_timeout_seconds, max_retries=0, pool_connections=True)
        client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=http
        )
        # The SDK builds every URL from this base, so a local stand-in can take Twilio's place.
        client.api.base_url = settings.twilio_api_base_url
        client.messaging.base_url = settings.messaging_base_url
        # Twilio reports delivery (sent, delivered, read, failed) to this URL when we can be reached.
        status_callback = f"{settings.public_base_url}/twilio/status" if settings.public_base_url else None
        template = (ContentTemplate(settings.whatsapp_template_content_sid, settings.template_variables)
                    if settings.whatsapp_template_content_sid else None)
        # Direct mode has no worker to come back later: a long answer's parts go without waiting.
        wait = 0.0 if settings.processing_mode == "direct" else settings.part_order_wait_seconds
        pacing = TwilioPacing.from_settings(settings, slots)
        return cls(client, settings.twilio_messaging_service_sid, status_callback, template=template,
                   part_order_wait_seconds=wait, typing=TypingIndicator.from_settings(settings, pacing),
                   pacing=pacing)

    def send(self, to: str, from_: str, body: str) -> str:
        """Send `body` to `to`; returns the outbound message SID Twilio accepted it under."""
        return self._create(to, from_, body=body)

    def send_template(self, to: str, from_: str, content_sid: str, variables: Mapping[str, str]) -> str:
        """Send the Content template `content_sid` filled with `variables`; returns the message SID."""
        return self._create(to, from_, content_sid=content_sid,
                            content_variables=json.dumps(dict(variables), ensure_ascii=False))

    def _create(self, to: str, from_: str, **content: str) -> str:
        options: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": from_}
        )
        if self.status_callback:
            options["status_callback"] = self.status_callback
        # With a Messaging Service Twilio picks the number, so the service is the sender a 63018 holds off.
        sender = self.messaging_service_sid or from_
        with self._slot(sender):
            try:
                message = self.client.messages.create(to=to, **content, **options)
            except (TwilioRestException, TwilioServiceException) as exc:
                # The SDK raises TwilioServiceException (not a subclass) for RFC 9457 problem bodies.
                raise self._held_off(send_refusal(exc, retry_after_of(self.client)), sender) from exc
            except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
                # Sent, maybe: Twilio has no idempotency key, so the next attempt looks in its log first.
                raise SendOutcomeUnknown(f"Twilio unreachable: {type(exc).__name__}") from exc
        return str(message.sid)

    def show_typing(self, inbound_message_sid: str) -> None:
        """WhatsApp only: "typing…" for the user (and their message marked read). Best effort, off this thread."""
        if self.typing is not None:
            self.typing.show(inbound_message_sid)
