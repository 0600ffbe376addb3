"""The three tasks of a message's chain: each loads by id and calls one domain function; PipelineTask does the rest.

Loaded only by the worker (tasks/celery.py `include`); publishers build links by task name (tasks/links.py).
"""

from __future__ import annotations

import logging

from switchboard.domain.answering import AnswerOptions
from switchboard.domain.conversation import RateLimit, deliver_reply, produce_answer, run_intake
from switchboard.domain.handoff import is_kept_for_operator
from tasks.celery import app
from tasks.pipeline_task import PipelineTask
from tasks.summaries import fold_if_due

log = logging.getLogger(__name__)


@app.task(bind=True, base=PipelineTask, name="switchboard.intake")  # type: ignore[untyped-decorator]  # celery is untyped
def intake(self: PipelineTask, message_sid: str, conversation: str, attempt: int = 0) -> None:
    """Classify the message (chat, command, over a limit, flagged) and record the result once."""
    with self.step(message_sid, conversation, attempt) as services:
        limit = RateLimit(services.settings.rate_limit_messages, services.settings.rate_limit_window_seconds)
        command = run_intake(services.store, message_sid, limit, moderation=services.moderation,
                             readable=services.settings.readable_media())
        log.info("intake: %s", command.value)


@app.task(bind=True, base=PipelineTask, name="switchboard.complete", max_attempts=5)  # type: ignore[untyped-decorator]
def complete(self: PipelineTask, message_sid: str, conversation: str, attempt: int = 0) -> str | None:
    """Answer the message, after every earlier message of the conversation is answered.

    Returns "paused" for a message kept for a person (issue 14), so Flower's task result shows it.
    """
    with self.step(message_sid, conversation, attempt) as services:
        settings = services.settings
        options = AnswerOptions.from_settings(settings, last_attempt=attempt + 1 >= self.max_attempts,
                                              notifier=services.handoff.notifier)
        answer = produce_answer(services.store, services.completions, settings.system_prompt_text(), message_sid,
                                options=options, media=services.media, replies=services.replies, bots=services.bots)
        fold_if_due(services, conversation)  # history past its budget: summarised in the background (issue 11)
        # Only an empty answer can be a kept message: an answered one costs no extra Redis read.
        return "paused" if not answer and is_kept_for_operator(services.store, message_sid) else None
    return None  # the step turned a failure into a retry or a give-up


@app.task(bind=True, base=PipelineTask, name="switchboard.reply", max_attempts=6,  # type: ignore[untyped-decorator]
          rerun_from="complete", sends_the_reply=True)
def reply(self: PipelineTask, message_sid: str, conversation: str, attempt: int = 0) -> None:
    """Send the answer's parts, after the previous message's reply; a rebuilt record starts again at complete."""
    with self.step(message_sid, conversation, attempt) as services:
        parts = deliver_reply(services.store, services.replies, message_sid, services.settings.order_wait_max_seconds)
        log.info("reply: sent %s part(s)", len(parts))
