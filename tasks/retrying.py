"""How our tasks retry: bounded exponential backoff with jitter, honouring Retry-After, on SQS FIFO."""

from __future__ import annotations

import random
import uuid
from typing import Any

from celery import Task

from switchboard.settings import get_settings

BACKOFF_BASE_SECONDS = 2.0
# Retries wait in the worker until due (ETA) while their SQS message stays in flight, so the
# longest wait stays well inside the queue's visibility timeout (a third of it at most).
BACKOFF_CAP_SECONDS = 20.0
TURN_WAIT_SECONDS = 1.0


def backoff_cap_seconds() -> float:
    return min(BACKOFF_CAP_SECONDS, get_settings().sqs_visibility_timeout / 3)


def backoff_seconds(attempt: int, retry_after: float | None = None, cap: float | None = None) -> float:
    """Exponential backoff with jitter; a server's Retry-After is a floor, the cap a ceiling."""
    cap = backoff_cap_seconds() if cap is None else cap
    ceiling = min(cap, BACKOFF_BASE_SECONDS * 2**attempt)
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


def retry_later(task: Task, message_sid: str, conversation: str, attempt: int, countdown: float) -> Any:
    """Re-publish this task for the same message, in the same FIFO group, with a fresh dedup id.

    Celery's retry() does not carry SQS message properties over, and a reused deduplication id
    would make SQS drop the retry as a duplicate of the first delivery.
    """
    return task.retry(
        args=(),
        kwargs={"message_sid": message_sid, "conversation": conversation, "attempt": attempt},
        countdown=countdown,
        max_retries=None,  # bounded by `attempt` in the task, and by the order wait for turn retries
        **fifo_options(message_sid, conversation, f"{task.name}-retry-{uuid.uuid4().hex[:8]}"),
    )


def fifo_options(message_sid: str, conversation: str, step: str) -> dict[str, str]:
    if not get_settings().sqs_fifo:
        return {}
    return {"MessageGroupId": conversation, "MessageDeduplicationId": f"{message_sid}-{step}"}
