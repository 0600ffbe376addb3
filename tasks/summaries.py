"""The summary task: folds a conversation's overflowed history into its running summary, off the reply's path.

Routed to the complete queue in a FIFO group of its own (`<conversation>:summary`), so a fold never
waits behind the conversation's answers nor holds them up; deduplicated per fold generation, so the
answers that find the same fold due publish it once. Loaded only by the worker (tasks/celery.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import NoReturn

import redis
from celery import Task

from switchboard.clients.sqs_admin import queue_names
from switchboard.clients.sqs_fifo import fifo_options
from switchboard.domain.summaries import fold_history, give_up_fold
from switchboard.errors import ConfigurationFault, NotYourTurn, PermanentError, TransientError
from switchboard.logs import correlated
from switchboard.services import Services, get_services
from switchboard.settings import Settings
from tasks.backoff import TURN_WAIT_SECONDS, backoff_cap_seconds, backoff_seconds
from tasks.celery import app
from tasks.owed_links import PUBLISH_ERRORS

log = logging.getLogger(__name__)

SUMMARIZE = "switchboard.summarize"
MAX_ATTEMPTS = 5  # model calls that fail transiently before the waiting turns are dropped
# What may stop the publish after an answer: Redis (asking whether a fold is due) or SQS refusing it.
_POSTPONING_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, *PUBLISH_ERRORS)


def summary_options(conversation: str, step: str, settings: Settings) -> dict[str, object]:
    """Queue, FIFO group and deduplication id of one publish of the summary task."""
    names = queue_names(settings)
    group = f"{conversation}:summary"
    return {"queue": names.stage("complete"), **fifo_options(names.fifo, group, group, step)}


def publish_fold(conversation: str, step: str, settings: Settings) -> None:
    """Put one run of the summary task on SQS (`step` names the publish in its deduplication id)."""
    app.signature(SUMMARIZE, args=(conversation,), immutable=True).apply_async(
        **summary_options(conversation, step, settings))


Publish = Callable[[str, str, Settings], None]


def fold_if_due(services: Services, conversation: str, publish: Publish = publish_fold) -> None:
    """After an answer: publish the summary task when turns wait to be folded. Never fails the answer's step.

    A publish or Redis failure only postpones the fold: the turns wait, and the next answer publishes it.
    """
    if not services.settings.history_summary:
        return
    try:
        generation = services.store.fold_due(conversation)
        if generation is not None:
            publish(conversation, f"fold-{generation}", services.settings)
    except _POSTPONING_ERRORS as exc:
        log.warning("could not publish the history fold (%s); the next answer publishes it", type(exc).__name__)


class SummaryTask(Task):  # type: ignore[misc]  # celery has no type information
    """Retries like a pipeline step (fresh deduplication id, backoff, bounded attempts), but has no apology to give."""

    max_retries = None  # bounded by `attempt`

    def fold(self, services: Services, conversation: str, attempt: int) -> None:
        """One fold; a failure becomes a retry or the give-up (the old summary kept, the waiting turns dropped)."""
        settings = services.settings
        with correlated(f"{conversation}:summary"):
            try:
                waiting = fold_history(services.store, services.completions, conversation,
                                       settings.history_summary_max_tokens)
            except NotYourTurn:  # another run is folding: look again shortly, in case it dies
                if attempt + 1 < MAX_ATTEMPTS:
                    self.retry_later(conversation, attempt + 1, TURN_WAIT_SECONDS, settings)
                return
            except ConfigurationFault as exc:  # our key, not this fold: keep the turns, ask again slowly
                log.error("summary: %s; trying again later", exc)
                self.retry_later(conversation, attempt, backoff_cap_seconds(settings), settings)
            except TransientError as exc:
                if attempt + 1 < MAX_ATTEMPTS:
                    log.warning("summary: %s; retry %s", exc, attempt + 1)
                    delay = backoff_seconds(attempt, exc.retry_after, backoff_cap_seconds(settings))
                    self.retry_later(conversation, attempt + 1, delay, settings)
                log.error("summary: giving up after %s attempts (%s)", attempt + 1, exc)
                give_up_fold(services.store, conversation)
                return
            except PermanentError as exc:
                log.error("summary: %s; keeping the old summary", exc)
                give_up_fold(services.store, conversation)
                return
            if waiting:  # a backlog larger than one batch: the next run folds the rest
                publish_fold(conversation, f"more-{uuid.uuid4().hex[:8]}", settings)

    def retry_later(self, conversation: str, attempt: int, countdown: float, settings: Settings) -> NoReturn:
        """Publish this fold again in its group under a fresh deduplication id (SQS would drop a reused one)."""
        step = f"retry-{uuid.uuid4().hex[:8]}"
        raise self.retry(args=(), kwargs={"conversation": conversation, "attempt": attempt}, countdown=countdown,
                         max_retries=None, **summary_options(conversation, step, settings))


@app.task(bind=True, base=SummaryTask, name=SUMMARIZE)  # type: ignore[untyped-decorator]  # celery is untyped
def summarize(self: SummaryTask, conversation: str, attempt: int = 0) -> None:
    """Fold the conversation's waiting turns into its running summary."""
    self.fold(get_services(), conversation, attempt)
