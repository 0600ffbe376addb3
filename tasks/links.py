"""The links of a message's chain, by task name, each with its queue, FIFO group and deduplication id.

Built from task names, not task objects, so a process that only publishes (the web, the CLI's
catch-up) never imports the task modules; the worker has them registered, so there every publish
still passes through PipelineTask.apply_async (tasks/pipeline_task.py).
"""

from __future__ import annotations

from typing import Any

from celery import chain

from switchboard.clients.sqs_admin import STAGES, queue_names
from switchboard.clients.sqs_fifo import fifo_options
from switchboard.settings import Settings, get_settings
from tasks.celery import app

TASK_PREFIX = "switchboard."


def task_name(stage: str) -> str:
    return TASK_PREFIX + stage


def stage_of(name: str) -> str:
    return name.removeprefix(TASK_PREFIX)


def message_options(stage: str, message_sid: str, conversation: str, step: str,
                    settings: Settings | None = None) -> dict[str, object]:
    """Queue, FIFO group and deduplication id for one publish of `stage` (first, retry, turn wait, give-up, relay)."""
    names = queue_names(settings or get_settings())
    return {"queue": names.stage(stage), **fifo_options(names.fifo, message_sid, conversation, step)}


def pipeline_for(message_sid: str, conversation: str, start: str = "intake", generation: str = "",
                 settings: Settings | None = None) -> Any:
    """The chain from `start` to reply for one message; queue and FIFO options set on every link.

    Options given to the chain's own apply_async reach only its first link, hence one `.set` per
    link. `generation` is empty for the webhook's publish (and the relay's republish of it, which
    SQS FIFO must deduplicate against it), and fresh for a link owed after a failed publish.
    """
    links = []
    for stage in STAGES[STAGES.index(start):]:
        step = f"{stage}-{generation}" if generation else stage
        link = app.signature(task_name(stage), args=(message_sid, conversation), immutable=True)
        links.append(link.set(**message_options(stage, message_sid, conversation, step, settings)))
    return chain(*links)
