"""What a task does when its message's record is gone: rebuild it from Twilio and run again, or drop it counted."""

from __future__ import annotations

from celery import Task

from switchboard.domain.lost_records import MessageDropped, drop, rebuild
from switchboard.errors import TransientError
from switchboard.services import get_services
from tasks.owed_links import stage_of
from tasks.retrying import backoff_seconds, retry_later

REBUILD_MAX_ATTEMPTS = 5


def recover_record(task: Task, message_sid: str, conversation: str, attempt: int) -> bool:
    """True when the record is back (the caller runs its step again); False when the message is dropped.

    While Twilio cannot be asked, this retries the task (raises celery's Retry), up to
    REBUILD_MAX_ATTEMPTS; then the message is dropped, counted in switchboard_dropped_total.
    """
    services, stage = get_services(), stage_of(task.name)
    try:
        rebuild(services.store, services.replies, message_sid, stage)
    except MessageDropped:
        return False
    except TransientError as exc:
        if attempt + 1 >= REBUILD_MAX_ATTEMPTS:
            drop(services.store, message_sid, stage, "twilio_unavailable")
            return False
        retry_later(task, message_sid, conversation, attempt + 1, backoff_seconds(attempt, exc.retry_after))
    return True
