"""The three tasks of the chain. Each loads by id, calls one function, and maps errors to retry or give up."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Task, chain

from switchboard.clients.sqs_admin import queue_names
from switchboard.domain.conversation import (
    RateLimit,
    UnknownMessage,
    answer_with_apology,
    deliver_reply,
    finish_reply_undelivered,
    produce_answer,
    run_intake,
)
from switchboard.errors import ConfigurationFault, NotYourTurn, PermanentError, TransientError
from switchboard.logs import correlated
from switchboard.services import get_services
from switchboard.settings import get_settings
from tasks.celery import app
from tasks.lost_records import recover_record
from tasks.requests import PipelineTask
from tasks.retrying import TURN_WAIT_SECONDS, backoff_cap_seconds, backoff_seconds, fifo_options, retry_later

log = logging.getLogger(__name__)

COMPLETE_MAX_ATTEMPTS = 5
REPLY_MAX_ATTEMPTS = 6
STAGES = ("intake", "complete", "reply")


@app.task(bind=True, base=PipelineTask, name="switchboard.intake")
def intake(self: Task, message_sid: str, conversation: str, attempt: int = 0) -> Any:
    with correlated(message_sid):
        try:
            settings = get_settings()
            limit = RateLimit(settings.rate_limit_messages, settings.rate_limit_window_seconds)
            services = get_services()
            command = run_intake(services.store, message_sid, limit, moderation=services.moderation)
        except UnknownMessage:
            if recover_record(self, message_sid, conversation, attempt):
                return retry_later(self, message_sid, conversation, attempt, 0)  # the record is back: run again
            self.request.chain = None  # nothing to answer
            return None
        log.info("intake: %s", command.value)
        return None


@app.task(bind=True, base=PipelineTask, name="switchboard.complete")
def complete(self: Task, message_sid: str, conversation: str, attempt: int = 0) -> Any:
    with correlated(message_sid):
        services = get_services()
        settings = services.settings
        try:
            produce_answer(services.store, services.completions, settings.system_prompt_text(), message_sid,
                           settings.order_wait_max_seconds)
        except NotYourTurn:
            return retry_later(self, message_sid, conversation, attempt, TURN_WAIT_SECONDS)
        except UnknownMessage:
            if recover_record(self, message_sid, conversation, attempt):
                return retry_later(self, message_sid, conversation, attempt, 0)
            self.request.chain = None
        except TransientError as exc:
            if attempt + 1 >= COMPLETE_MAX_ATTEMPTS:
                log.error("complete: giving up after %s attempts (%s); sending the apology", attempt + 1, exc)
                answer_with_apology(services.store, message_sid)
                return None
            log.warning("complete: %s; retry %s", exc, attempt + 1)
            return retry_later(self, message_sid, conversation, attempt + 1, backoff_seconds(attempt, exc.retry_after))
        except PermanentError as exc:
            log.error("complete: %s; sending the apology", exc)
            answer_with_apology(services.store, message_sid)
        return None


@app.task(bind=True, base=PipelineTask, name="switchboard.reply")
def reply(self: Task, message_sid: str, conversation: str, attempt: int = 0) -> Any:
    with correlated(message_sid):
        services = get_services()
        try:
            parts = deliver_reply(services.store, services.replies, message_sid,
                                  services.settings.order_wait_max_seconds)
        except NotYourTurn:
            return retry_later(self, message_sid, conversation, attempt, TURN_WAIT_SECONDS)
        except UnknownMessage:
            if recover_record(self, message_sid, conversation, attempt):
                # The rebuilt record has no answer yet: the chain goes on from complete.
                pipeline_for(message_sid, conversation, start="complete", generation=uuid.uuid4().hex[:12]).apply_async()
            return None
        except ConfigurationFault as exc:
            # Our credentials, not this message: keep the reply, do not use up its retries, ask slowly.
            delay = backoff_cap_seconds()
            log.error("reply: %s; keeping the reply and trying again in %.0fs", exc, delay)
            return retry_later(self, message_sid, conversation, attempt, delay)
        except TransientError as exc:
            if attempt + 1 >= REPLY_MAX_ATTEMPTS:
                log.error("reply: giving up after %s attempts: %s", attempt + 1, exc)
                finish_reply_undelivered(services.store, message_sid)
                return None
            log.warning("reply: %s; retry %s", exc, attempt + 1)
            return retry_later(self, message_sid, conversation, attempt + 1, backoff_seconds(attempt, exc.retry_after))
        log.info("reply: sent %s part(s)", len(parts))
        return None


def pipeline_for(message_sid: str, conversation: str, start: str = "intake", generation: str = "") -> Any:
    """The chain from `start` to reply for one message; queue and FIFO options set on every link.

    `generation` is empty for the webhook's publish (and the relay's republish of it, which SQS FIFO
    must deduplicate against it), and fresh for a link owed after a failed publish.
    """
    names = queue_names(get_settings())
    tasks = {"intake": intake, "complete": complete, "reply": reply}
    links = []
    for stage in STAGES[STAGES.index(start):]:
        step = f"{stage}-{generation}" if generation else stage
        links.append(tasks[stage].si(message_sid, conversation).set(
            queue=names.stage(stage), **fifo_options(message_sid, conversation, step)
        ))
    return chain(*links)
