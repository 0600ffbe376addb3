"""How long a pipeline task waits before trying again: bounded exponential backoff with jitter, honouring Retry-After."""

from __future__ import annotations

import random

from switchboard.settings import Settings, get_settings

BACKOFF_BASE_SECONDS = 2.0
# Retries wait in the worker until due (ETA) while their SQS message stays in flight, so the
# longest wait stays well inside the queue's visibility timeout (a third of it at most).
BACKOFF_CAP_SECONDS = 20.0
# An earlier message of the conversation is still in progress: ask again soon.
TURN_WAIT_SECONDS = 1.0
# A limit said "not now" (Backpressure) without saying for how long.
BACKPRESSURE_WAIT_SECONDS = 1.0


def backoff_cap_seconds(settings: Settings | None = None) -> float:
    settings = settings or get_settings()
    return min(BACKOFF_CAP_SECONDS, settings.sqs_visibility_timeout / 3)


def backoff_seconds(attempt: int, retry_after: float | None = None, cap: float | None = None) -> float:
    """Exponential backoff with jitter; a server's Retry-After is a floor, the cap a ceiling."""
    cap = backoff_cap_seconds() if cap is None else cap
    ceiling = min(cap, BACKOFF_BASE_SECONDS * 2.0**attempt)
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)
