"""A task request that gives the user an answer when SQS is about to dead-letter their message."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.worker.request import Request

from switchboard.settings import get_settings
from tasks.heartbeat import receive_count

log = logging.getLogger(__name__)


class DeadLetterAwareRequest(Request):
    """Runs in the worker's main process when a task fails with an unexpected error.

    The failed message is not deleted (task_acks_on_failure=False), so SQS redelivers it
    until maxReceiveCount and then moves it to the dead-letter queue. On that last failure we
    record the apology, so the user hears from us and their later messages are not held up.
    """

    def on_failure(self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False) -> None:
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)
        if receive_count(self) < get_settings().sqs_max_receive_count:
            return
        from tasks.giving_up import give_up

        log.error("%s failed on its last delivery; it goes to the dead-letter queue", self.task_name)
        args, kwargs = list(self.args), dict(self.kwargs)
        message_sid = kwargs.get("message_sid") or args[0]
        conversation = kwargs.get("conversation") or args[1]
        try:
            give_up(self.task_name, message_sid, conversation)
        except Exception:  # noqa: BLE001 - in the pool's result callback a raised exception vanishes unlogged
            log.exception("%s: giving up on %s failed; the user may not have been told", self.task_name, message_sid)


class PipelineTask(Task):
    Request = DeadLetterAwareRequest
    # retry(max_retries=None) falls back to this attribute (Celery's default is 3). Our tasks bound
    # their own retries (by `attempt`, and turn waits by ORDER_WAIT_MAX_SECONDS).
    max_retries = None
