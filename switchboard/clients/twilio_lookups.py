"""What the reply path reads back from Twilio's message log, paced like its sends: a status, our sends, one message."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.rest import Client

from switchboard.clients.twilio_http import retry_after_of
from switchboard.clients.twilio_pacing import SlotUnavailable, TwilioPacing
from switchboard.clients.twilio_refusals import CREDENTIALS_STATUSES, RateLimited, rate_limit, status_of
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.metrics import TWILIO_CREDENTIALS_ERRORS

log = logging.getLogger(__name__)

# How far before our claim a part Twilio accepted may be dated (its clock against ours), and how
# many of the newest messages to one user a lookup reads.
LOOKUP_CLOCK_SKEW_SECONDS = 10
LOOKUP_LIMIT = 50
# A status poll waits little for a request slot: it is best effort, and asked again shortly.
STATUS_SLOT_WAIT_SECONDS = 0.25


class MessageLookups:
    """ReplySender's reads of Twilio's message log; each request holds one of the account's request slots.

    Twilio counts every REST request against the account's concurrency, reads as well as sends, so
    they share TWILIO_MAX_CONCURRENT_REQUESTS; a 429 on a read holds every process off as on a send.
    """

    client: Client
    messaging_service_sid: str | None
    pacing: TwilioPacing | None

    def _slot(self, sender: str | None = None, wait_seconds: float | None = None) -> AbstractContextManager[None]:
        """One of the account's request slots for the block (or nothing, unpaced); see TwilioPacing.slot."""
        return nullcontext() if self.pacing is None else self.pacing.slot(sender, wait_seconds)

    def _held_off(self, error: Exception, sender: str | None = None) -> Exception:
        """`error`, after a rate-limit answer has made every process hold off the account or the sender."""
        if isinstance(error, RateLimited) and self.pacing is not None:
            self.pacing.hold_off(error, sender)
        return error

    def _rate_limited(self, exc: TwilioException) -> RateLimited | None:
        """A read's answer refusing for rate, with every process held off; None for any other answer."""
        limited = rate_limit(status_of(exc), getattr(exc, "code", None), retry_after_of(self.client))
        if limited is not None:
            self._held_off(limited)
        return limited

    def message_status(self, message_sid: str) -> tuple[str, str] | None:
        """(status, error code or "") Twilio reports now for a message we sent; None when it cannot be read now.

        Best effort: the caller (waiting for a part to be sent) asks again later, or stops waiting.
        """
        try:
            with self._slot(wait_seconds=STATUS_SLOT_WAIT_SECONDS):
                instance = self.client.messages(message_sid).fetch()
        except SlotUnavailable as exc:
            log.info("did not read the status of %s now: %s", message_sid, exc)
            return None
        except TwilioException as exc:
            self._rate_limited(exc)
            log.info("could not read the status of %s: %s", message_sid, type(exc).__name__)
            return None
        except OSError as exc:
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
                with self._slot():  # one request each: `list` reads a single page of LOOKUP_LIMIT
                    page = self.client.messages.list(to=to, limit=LOOKUP_LIMIT, **sender, **dated)
                for message in page:
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
            raise (self._rate_limited(exc)
                   or TransientError(f"Twilio message log unavailable: {type(exc).__name__}")) from exc
        except OSError as exc:
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from exc
        return sorted(found, key=lambda sid: found[sid])

    def fetch_message(self, message_sid: str) -> object | None:
        """Twilio's own copy of one message (the SDK's MessageInstance), or None when Twilio has none.

        Used to rebuild a message whose record our store lost; an answer we cannot read raises, so a
        lookup that failed is never taken for "Twilio has no such message".
        """
        try:
            with self._slot():
                # The SDK is untyped (Any); callers read the instance by attribute, so it is handed on as object.
                instance: object = self.client.messages(message_sid).fetch()
            return instance
        except (TwilioRestException, TwilioServiceException) as exc:
            if exc.status == 404:
                return None
            if exc.status in CREDENTIALS_STATUSES:
                TWILIO_CREDENTIALS_ERRORS.inc()
                raise ConfigurationFault(f"Twilio refused our credentials (HTTP {exc.status})") from exc
            limited = self._rate_limited(exc)
            if limited is not None:
                raise limited from exc
            if exc.status >= 500:
                raise TransientError(f"Twilio status {exc.status} code {exc.code}") from exc
            raise PermanentError(f"Twilio refused the lookup: HTTP {exc.status} code {exc.code}", exc.code) from exc
        except TwilioException as exc:
            raise TransientError(f"Twilio message lookup failed: {type(exc).__name__}") from exc
        except OSError as exc:
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from exc
