"""A link of a chain a task could not publish (next step, retry, give-up reply) is recorded as owed, never lost.

The task's own message is then acknowledged as usual: the outbox relay publishes the chain from the
owed stage once SQS takes messages again, under a fresh deduplication generation (so SQS FIFO does not
drop it as a copy of the failed attempt). Only when Redis cannot take the debt either does the publish
error propagate, so the task's message is not acknowledged and SQS redelivers it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis
from botocore.exceptions import BotoCoreError, ClientError
from kombu.exceptions import OperationalError
from kombu.transport.SQS.exceptions import (
    AccessDeniedQueueException,
    DoesNotExistQueueException,
    UndefinedQueueException,
)

from switchboard.logs import correlated
from switchboard.metrics import OWED_LINKS
from switchboard.services import get_services
from tasks.links import stage_of
from tasks.outbox_relay import SETTLE_SECONDS
from tasks.sqs_answers import SqsAnswerError, answer_kind

log = logging.getLogger(__name__)

# What a publish to SQS raises when SQS did not take the message. Not EncodeError and friends:
# a message that cannot be serialised is a bug, and owing it would only fail again in the relay.
PUBLISH_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, ClientError, BotoCoreError, OSError, SqsAnswerError,
    UndefinedQueueException, DoesNotExistQueueException, AccessDeniedQueueException,
)

def message_sid_of(args: Sequence[Any] | None, kwargs: Mapping[str, Any] | None) -> str:
    """The MessageSid a pipeline task's publish is for (positional in chain links, keyword in retries)."""
    kwargs = kwargs or {}
    return str(kwargs.get("message_sid") or (args or [None])[0])


def owe(task_name: str, args: Sequence[Any] | None, kwargs: Mapping[str, Any] | None,
        error: BaseException) -> None:
    """Record the failed publish as owed; re-raises `error` when Redis cannot take the debt either."""
    message_sid = message_sid_of(args, kwargs)
    # The chain's next link is published after the task body returned, outside its log context.
    with correlated(message_sid):
        _owe(message_sid, stage_of(task_name), error)


def _owe(message_sid: str, stage: str, error: BaseException) -> None:
    try:
        # Due at once: no webhook publish can be racing this one.
        generation = get_services().store.owe_link(message_sid, stage, due_at=time.time() - SETTLE_SECONDS)
    except redis.RedisError:
        log.error("could not publish %s (%s) and Redis cannot record it owed; the message stays unacknowledged",
                  stage, type(error).__name__, exc_info=True)
        raise error from None
    OWED_LINKS.labels(stage=stage).inc()
    log.warning("could not publish %s (%s, %s); owed to the outbox relay as generation %s",
                stage, type(error).__name__, answer_kind(error).value, generation)
