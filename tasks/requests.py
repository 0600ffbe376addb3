"""The pipeline's Task base: one seam for every publish (owed when SQS refuses), and a dead-letter-aware request."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery._state import get_current_worker_task
from celery.worker.request import Request
from kombu.utils.uuid import uuid

from switchboard.settings import get_settings
from tasks.owed_links import PUBLISH_ERRORS, owe
from tasks.visibility import receive_count

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

    def apply_async(self, args: Any = None, kwargs: Any = None, task_id: str | None = None,
                    producer: Any = None, link: Any = None, link_error: Any = None, shadow: str | None = None,
                    **options: Any) -> Any:
        """Every publish of a pipeline task passes here: the next link of a chain, a retry, give-up's reply.

        Published from inside a running pipeline task (or with `owe_on_failure=True`), a publish SQS
        does not take is recorded as owed (tasks/owed_links.py) instead of failing the task whose
        work is done; the webhook and the outbox relay see the error (their outbox entry keeps the
        message). `owe_on_failure` is ours: it never reaches the broker.
        """
        owe_on_failure = options.pop("owe_on_failure", None)
        if owe_on_failure is None:
            owe_on_failure = isinstance(get_current_worker_task(), PipelineTask)
        try:
            return super().apply_async(args, kwargs, task_id=task_id, producer=producer, link=link,
                                       link_error=link_error, shadow=shadow, **options)
        except PUBLISH_ERRORS as exc:
            if not owe_on_failure:
                raise
            owe(self.name, args, kwargs, exc)
            return self.AsyncResult(task_id or uuid())
