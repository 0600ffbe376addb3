"""Twilio's WhatsApp typing indicator, asked for on a small shared thread pool: it never raises and never waits."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from switchboard.clients.twilio_pacing import SlotUnavailable, TwilioPacing
from switchboard.metrics import TYPING_INDICATORS
from switchboard.settings import Settings

log = logging.getLogger(__name__)

# Short: the indicator is worth nothing once the answer is there, and a slow call holds a pool thread.
TIMEOUT_SECONDS = 3.0
# WhatsApp shows "typing…" until our reply arrives (at most 25 s). One that waited this long for a
# pool thread would come as the answer does, so it is dropped.
STALE_AFTER_SECONDS = 5.0
POOL_THREADS = 2

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _shared_pool() -> ThreadPoolExecutor:
    """One pool per process, made on first use (never at import: a forked worker gets its own)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="twilio-typing")
        return _pool


class TypingIndicator:
    """Shows "typing…" on WhatsApp for an inbound message, which also marks that message read."""

    def __init__(self, client: Client, enabled: bool = True, pacing: TwilioPacing | None = None) -> None:
        self.client = client  # its own client: a short timeout, and calls that never queue behind sends
        self.enabled = enabled
        # Twilio counts the indicator against the account's concurrent requests too; it takes a request
        # slot only if one is free at once (a late indicator is worth nothing), so sends never wait for it.
        self.pacing = pacing

    @classmethod
    def from_settings(cls, settings: Settings, pacing: TwilioPacing | None = None) -> TypingIndicator:
        http = TwilioHttpClient(timeout=TIMEOUT_SECONDS, max_retries=0, pool_connections=True)
        client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=http
        )
        # messaging.twilio.com, as client.api.base_url is api.twilio.com: a local stand-in can take its place.
        client.messaging.base_url = settings.messaging_base_url
        return cls(client, enabled=settings.whatsapp_typing_indicator, pacing=pacing)

    def show(self, inbound_message_sid: str) -> Future[str] | None:
        """Ask Twilio, off the calling thread, to show the indicator; the future says the outcome (tests wait on it)."""
        if not self.enabled:
            TYPING_INDICATORS.labels(outcome="off").inc()
            return None
        try:
            return _shared_pool().submit(self._show, inbound_message_sid, time.monotonic())
        except RuntimeError:  # the pool is shut down: the interpreter is exiting
            return None

    def _show(self, inbound_message_sid: str, asked_at: float) -> str:
        try:
            outcome = self._ask(inbound_message_sid, asked_at)
        except Exception:
            # Nothing waits for this thread: an error not foreseen is logged here or never seen.
            log.exception("typing indicator failed unexpectedly")
            outcome = "error"
        TYPING_INDICATORS.labels(outcome=outcome).inc()
        return outcome

    def _ask(self, inbound_message_sid: str, asked_at: float) -> str:
        if time.monotonic() - asked_at > STALE_AFTER_SECONDS:
            return "stale"
        if self.pacing is None:
            return self._create(inbound_message_sid)
        try:
            with self.pacing.slot(wait_seconds=0):
                return self._create(inbound_message_sid)
        except SlotUnavailable:
            return "busy"

    def _create(self, inbound_message_sid: str) -> str:
        try:
            self.client.messaging.v2.typing_indicator.create(channel="whatsapp", message_id=inbound_message_sid)
        except (TwilioRestException, TwilioServiceException) as exc:
            log.info("Twilio refused the typing indicator: HTTP %s code %s", exc.status, exc.code)
            return "refused"
        except (TwilioException, OSError) as exc:  # requests' ConnectionError and Timeout are OSErrors
            log.info("typing indicator not shown: %s", type(exc).__name__)
            return "unreachable"
        return "shown"
