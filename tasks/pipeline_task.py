"""The pipeline tasks' base: every message option and every failure path (retry, turn wait, rebuild, give-up) in one place.

A task body loads ids and calls one domain function inside `with self.step(...)`; this class turns
what that function raises into the next move:

| raised                    | move                                                                  |
| ------------------------- | --------------------------------------------------------------------- |
| NotYourTurn               | the same attempt again in its retry_after, else TURN_WAIT_SECONDS     |
| UnknownMessage            | rebuild the record from Twilio and run again (or drop it, counted)    |
| ConfigurationFault        | the same attempt again slowly: our setup, not this message            |
| Backpressure              | the same attempt again after its retry_after (a rate limit, not a     |
|                           | failure: it never uses up attempts)                                   |
| TransientError            | the next attempt after a backoff; the give-up after `max_attempts`    |
| PermanentError            | the give-up                                                           |
| anything else             | the task fails; SQS redelivers it, and its last delivery gives up     |
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NoReturn

from celery import Task
from celery._state import get_current_worker_task
from celery.exceptions import Ignore, Reject, Retry
from kombu.utils.uuid import uuid as task_uuid

from switchboard.domain.conversation import (
    UnknownMessage,
    answer_with_apology,
    apologise_directly,
    finish_reply_undelivered,
)
from switchboard.domain.lost_records import MessageDropped, drop, rebuild
from switchboard.errors import Backpressure, ConfigurationFault, NotYourTurn, PermanentError, TransientError
from switchboard.logs import correlated
from switchboard.services import Services, get_services
from tasks.backoff import BACKPRESSURE_WAIT_SECONDS, TURN_WAIT_SECONDS, backoff_cap_seconds, backoff_seconds
from tasks.hop_timings import HopTimedRequest
from tasks.links import message_options, pipeline_for, stage_of
from tasks.owed_links import PUBLISH_ERRORS, owe

log = logging.getLogger(__name__)

# While Twilio cannot be asked for a lost record's copy, this many tries before the message is dropped.
REBUILD_MAX_ATTEMPTS = 5

_services: ContextVar[Services | None] = ContextVar("pipeline_services", default=None)


@contextmanager
def services_for_tasks(services: Services) -> Iterator[None]:
    """Pipeline tasks run in this context use `services` instead of the process's own (tests hand in fakes)."""
    token = _services.set(services)
    try:
        yield
    finally:
        _services.reset(token)


def receive_count(request: Any) -> int:
    """How many times SQS has handed out this message (1 on first delivery; kombu's `redelivered` is always False)."""
    info = getattr(getattr(request, "message", None), "delivery_info", None) or {}
    attributes = (info.get("sqs_message") or {}).get("Attributes") or {}
    return int(attributes.get("ApproximateReceiveCount", 1))


def is_last_failed_delivery(exc: BaseException, receives: int, max_receives: int) -> bool:
    """Whether a step's failure is the one SQS dead-letters next: its last delivery, and a real failure.

    Celery calls `Request.on_failure` for its own control flow too (a Retry, Reject or Ignore): a step
    that asked to retry on its last delivery has not failed, and must not be given up.
    """
    return not isinstance(exc, Retry | Reject | Ignore) and receives >= max_receives


class LastDeliveryRequest(HopTimedRequest):  # hop timings (tasks/hop_timings.py) for every pipeline delivery
    """Runs in the worker's main process when a task fails with an unexpected error.

    The failed message is not deleted (task_acks_on_failure=False), so SQS redelivers it until
    maxReceiveCount and then moves it to the dead-letter queue. On that last failure the task gives
    up, so the user hears from us and their later messages are not held up.
    """

    def on_failure(self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False) -> None:
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)
        task = self.task
        if not isinstance(task, PipelineTask):
            return
        exc = getattr(exc_info.exception, "exc", exc_info.exception)  # billiard wraps it for the pool
        if not is_last_failed_delivery(exc, receive_count(self), task.services().settings.sqs_max_receive_count):
            return
        log.error("%s failed on its last delivery; it goes to the dead-letter queue", self.task_name)
        message_sid, conversation = (list(self.args) + [None, None])[:2]
        message_sid = self.kwargs.get("message_sid", message_sid)
        conversation = self.kwargs.get("conversation", conversation)
        try:
            task.give_up(str(message_sid), str(conversation), chain_goes_on=False)
        except Exception:  # noqa: BLE001 - in the pool's result callback a raised exception vanishes unlogged
            log.exception("%s: giving up on %s failed; the user may not have been told", self.task_name, message_sid)


class PipelineTask(Task):  # type: ignore[misc]  # celery has no type information
    Request = LastDeliveryRequest
    # retry(max_retries=None) falls back to this attribute (Celery's default is 3). Our tasks bound
    # their own retries (by `attempt`, and turn waits by ORDER_WAIT_MAX_SECONDS).
    max_retries = None
    # Per-task policy, set in the task decorator: tries for a transient error before the give-up;
    # the stage the chain starts again from once a lost record is rebuilt (None: this step); and
    # whether giving up means releasing the reply (the reply step) or answering with the apology.
    max_attempts = 5
    rerun_from: str | None = None
    sends_the_reply = False

    @property
    def stage(self) -> str:
        return stage_of(self.name)

    def services(self) -> Services:
        return _services.get() or get_services()

    @contextmanager
    def step(self, message_sid: str, conversation: str, attempt: int) -> Iterator[Services]:
        """Run a task body for one message; what it raises becomes the next move (see the module's table)."""
        services = self.services()
        with correlated(message_sid):
            try:
                yield services
            except NotYourTurn as exc:
                wait = TURN_WAIT_SECONDS if exc.retry_after is None else min(exc.retry_after, TURN_WAIT_SECONDS * 30)
                self.retry_later(message_sid, conversation, attempt, max(wait, 0.05))
            except UnknownMessage:
                self.recover(services, message_sid, conversation, attempt)
            except ConfigurationFault as exc:
                # Our credentials, not this message (in practice Twilio's, so the reply): keep the work,
                # do not use up its attempts, ask slowly.
                delay = backoff_cap_seconds(services.settings)
                log.error("%s: %s; keeping the reply and trying again in %.0fs", self.stage, exc, delay)
                self.retry_later(message_sid, conversation, attempt, delay)
            except Backpressure as exc:
                wait = BACKPRESSURE_WAIT_SECONDS if exc.retry_after is None else exc.retry_after
                wait = min(max(wait, 0.05), backoff_cap_seconds(services.settings))
                log.info("%s: %s; the same attempt again in %.1fs", self.stage, exc, wait)
                self.retry_later(message_sid, conversation, attempt, wait)
            except TransientError as exc:
                self.retry_or_give_up(exc, message_sid, conversation, attempt)
            except PermanentError as exc:
                log.error("%s: %s; giving up", self.stage, exc)
                self.give_up(message_sid, conversation, chain_goes_on=True)

    def retry_or_give_up(self, exc: TransientError, message_sid: str, conversation: str, attempt: int) -> None:
        """A transient failure: the next attempt after a backoff or, when attempts run out, the give-up."""
        if attempt + 1 < self.max_attempts:
            log.warning("%s: %s; retry %s", self.stage, exc, attempt + 1)
            cap = backoff_cap_seconds(self.services().settings)
            self.retry_later(message_sid, conversation, attempt + 1, backoff_seconds(attempt, exc.retry_after, cap))
        log.error("%s: giving up after %s attempts (%s)", self.stage, attempt + 1, exc)
        self.give_up(message_sid, conversation, chain_goes_on=True)

    def retry_later(self, message_sid: str, conversation: str, attempt: int, countdown: float) -> NoReturn:
        """Publish this step again for the message, in its FIFO group, under a fresh deduplication id.

        Celery's retry() does not carry SQS message properties over, and a reused deduplication id
        would make SQS drop the retry as a duplicate of the first delivery.
        """
        step = f"{self.stage}-retry-{uuid.uuid4().hex[:8]}"
        raise self.retry(
            args=(), kwargs={"message_sid": message_sid, "conversation": conversation, "attempt": attempt},
            countdown=countdown, max_retries=None,  # bounded by `attempt`, and turn waits by the order wait
            **message_options(self.stage, message_sid, conversation, step, self.services().settings),
        )

    def recover(self, services: Services, message_sid: str, conversation: str, attempt: int) -> None:
        """The message's record is gone: rebuild it from Twilio and run again, or drop the message, counted."""
        try:
            rebuild(services.store, services.replies, message_sid, self.stage)
        except MessageDropped:
            self.request.chain = None  # nothing to answer
            return
        except TransientError as exc:
            if attempt + 1 >= REBUILD_MAX_ATTEMPTS:
                drop(services.store, message_sid, self.stage, "twilio_unavailable")
                self.request.chain = None
                return
            cap = backoff_cap_seconds(services.settings)
            self.retry_later(message_sid, conversation, attempt + 1, backoff_seconds(attempt, exc.retry_after, cap))
        if self.rerun_from is None:
            self.retry_later(message_sid, conversation, attempt, 0)
        # The rebuilt record lacks what an earlier stage adds: the chain starts again there, under a fresh generation.
        pipeline_for(message_sid, conversation, start=self.rerun_from, generation=uuid.uuid4().hex[:12],
                     settings=services.settings).apply_async()
        self.request.chain = None

    def give_up(self, message_sid: str, conversation: str, chain_goes_on: bool) -> None:
        """This step failed for good: the reply step releases its turn; an earlier step answers with the apology.

        Inside the task (`chain_goes_on`) the chain's next links carry the apology to the reply; after
        the last SQS delivery there is no next link, so the reply is published here.
        """
        services = self.services()
        store = services.store
        if self.sends_the_reply or store.was_followed_up(message_sid):
            # A redriven message that failed again was apologised for already: release it, say nothing more.
            finish_reply_undelivered(store, message_sid)
            return self._end_chain(chain_goes_on)
        try:
            answer_with_apology(store, message_sid)
        except (ValueError, KeyError):
            # The record itself is broken (likely why every delivery failed): tell the user directly.
            log.error("the message's record cannot be read; sending the apology directly", exc_info=True)
            apologise_directly(store, services.replies, message_sid)
            return self._end_chain(chain_goes_on)
        if not chain_goes_on:
            # Outside any running task (the request's failure callback): owe it explicitly if SQS refuses.
            pipeline_for(message_sid, conversation, start="reply", generation="after-failure",
                         settings=services.settings).apply_async(owe_on_failure=True)

    def _end_chain(self, chain_goes_on: bool) -> None:
        if chain_goes_on:  # outside the task there is no chain, and self.request is no message's
            self.request.chain = None

    def apply_async(self, args: Any = None, kwargs: Any = None, task_id: str | None = None,
                    producer: Any = None, link: Any = None, link_error: Any = None, shadow: str | None = None,
                    **options: Any) -> Any:
        """Every publish of a pipeline task in the worker passes here: a chain's next link, a retry, a give-up's reply.

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
            return self.AsyncResult(task_id or task_uuid())
