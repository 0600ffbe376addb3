"""The twilio SDK's HTTP client, keeping each thread's last answer: the SDK's errors drop its headers (Retry-After)."""

from __future__ import annotations

import math
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

# A Retry-After past this is not believed: a worker holds off no longer than a minute at a time.
MAX_RETRY_AFTER_SECONDS = 60.0


class AnswerKeepingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # the twilio SDK is untyped here
    """TwilioHttpClient that remembers, per thread, the last answer it got.

    TwilioRestException carries the status and code but not the response, so a 429's Retry-After
    would be lost. The SDK's own `_test_only_last_response` is one slot for every thread of a
    worker; this one is per thread, so a send reads its own answer's headers.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._last = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        self._last.response = None  # a request that raises (a timeout) leaves no stale answer behind
        response = super().request(*args, **kwargs)
        self._last.response = response
        return response

    def last_retry_after(self) -> float | None:
        """The Retry-After of this thread's last answer, in seconds; None without one."""
        response: Response | None = getattr(self._last, "response", None)
        headers = getattr(response, "headers", None) or {}
        return parse_retry_after(headers.get("Retry-After"))


def retry_after_of(client: Client) -> float | None:
    """The Retry-After of the calling thread's last answer through `client` (None for another HTTP client)."""
    http = client.http_client
    return http.last_retry_after() if isinstance(http, AnswerKeepingHttpClient) else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds, from its two forms (delay-seconds or an HTTP date), bounded; None if absent or bad."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
