"""Wrapper around the twilio SDK for sending replies: explicit timeout, our error vocabulary."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from switchboard.clients.twilio_refusals import CREDENTIALS_STATUSES, SendOutcomeUnknown, send_refusal, status_of
from switchboard.clients.twilio_typing import TypingIndicator
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import TWILIO_CREDENTIALS_ERRORS
from switchboard.settings import Settings

__all__ = ["ContentTemplate", "ReplySender", "SendOutcomeUnknown"]

log = logging.getLogger(__name__)

# How far before our claim a part Twilio accepted may be dated (its clock against ours), and how
# many of the newest messages to one user a lookup reads.
LOOKUP_CLOCK_SKEW_SECONDS = 10
LOOKUP_LIMIT = 50


@dataclass(frozen=True)
class ContentTemplate:
    """The approved WhatsApp template a reply goes out as once the 24-hour window has closed."""

    content_sid: str  # HX…
    variables: Mapping[str, str] = field(default_factory=dict)  # values may use {answer} and {profile_name}


class ReplySender:
    """Sends one message part (or the template); says which failures are worth retrying."""

    def __init__(self, client: Client, messaging_service_sid: str | None, status_callback: str | None = None, *,
                 template: ContentTemplate | None = None, part_order_wait_seconds: float = 30.0,
                 typing: TypingIndicator | None = None) -> None:
        self.client = client
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.template = template  # WHATSAPP_TEMPLATE_CONTENT_SID and _VARIABLES; None: none configured
        # PART_ORDER_WAIT_SECONDS: how long a long answer's next part waits for the previous one's "sent".
        self.part_order_wait_seconds = part_order_wait_seconds
        self.typing = typing

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplySender:
        http = TwilioHttpClient(timeout=settings.twilio_timeout_seconds, max_retries=0, pool_connections=True)
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
        return cls(client, settings.twilio_messaging_service_sid, status_callback, template=template,
                   part_order_wait_seconds=wait, typing=TypingIndicator.from_settings(settings))

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
        try:
            message = self.client.messages.create(to=to, **content, **options)
        except (TwilioRestException, TwilioServiceException) as exc:
            # The SDK raises TwilioServiceException (not a subclass) for RFC 9457 problem bodies.
            raise send_refusal(exc) from exc
        except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
            # Sent, maybe: Twilio has no idempotency key, so the next attempt looks in its log first.
            raise SendOutcomeUnknown(f"Twilio unreachable: {type(exc).__name__}") from exc
        return str(message.sid)

    def show_typing(self, inbound_message_sid: str) -> None:
        """WhatsApp only: "typing…" for the user (and their message marked read). Best effort, off this thread."""
        if self.typing is not None:
            self.typing.show(inbound_message_sid)

    def message_status(self, message_sid: str) -> tuple[str, str] | None:
        """(status, error code or "") Twilio reports now for a message we sent; None when it cannot be read now.

        Best effort: the caller (waiting for a part to be sent) asks again later, or stops waiting.
        """
        try:
            instance = self.client.messages(message_sid).fetch()
        except (TwilioException, OSError) as exc:
            log.info("could not read the status of %s: %s", message_sid, type(exc).__name__)
            return None
        if not instance.status:
            return None
        return str(instance.status), str(instance.error_code or "")

    def find_sent(self, to: str, from_: str, body: str | None, since: float) -> list[str]:
        """SIDs of messages with exactly `body` we sent to `to` since `since` (Unix time), oldest first.

        `body` None matches any text: a template's is Twilio's rendering of it, which we never see.

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
                        (body is None or message.body == body)
                        and str(message.direction or "").startswith("outbound")
                        and (not self.messaging_service_sid or message.messaging_service_sid == self.messaging_service_sid)
                        and created is not None and created >= after
                    ):
                        found[str(message.sid)] = created
        except TwilioException as exc:
            # The list path raises a bare TwilioException("Unable to fetch page", response) for an
            # error answer. Without an answer we cannot know whether the part went out, so never
            # treat a failed lookup as "not sent"; refused credentials are a setup fault, as for send.
            if status_of(exc) in CREDENTIALS_STATUSES:
                TWILIO_CREDENTIALS_ERRORS.inc()
                raise ConfigurationFault(
                    f"Twilio refused our credentials reading its message log (HTTP {status_of(exc)})"
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

