"""Refuse to start a worker whose settings could lose or double-process messages."""

from __future__ import annotations

import logging
from typing import Any

# The queue comparison lives beside the queues' creation, where `switchboard doctor` uses it too.
from switchboard.clients.sqs_checks import inspect_queues
from switchboard.settings import ConfigError, Settings

__all__ = ["check_celery_config", "check_queues", "ensure_safe", "inspect_queues"]

log = logging.getLogger(__name__)


def check_celery_config(conf: Any, settings: Settings) -> list[str]:
    """Problems with the Celery settings alone (no network)."""
    problems = []
    if not conf.task_acks_late:
        problems.append("task_acks_late must be True (else a crash loses the running message)")
    if not conf.task_reject_on_worker_lost:
        problems.append("task_reject_on_worker_lost must be True (else a killed pool child loses its message)")
    acks_on_failure = getattr(conf, "task_acks_on_failure", None)
    if acks_on_failure is None:
        acks_on_failure = getattr(conf, "task_acks_on_failure_or_timeout", True)
    if acks_on_failure:
        problems.append("task_acks_on_failure must be False (else poison messages never reach the DLQ)")
    if conf.worker_prefetch_multiplier != 1:
        problems.append("worker_prefetch_multiplier must be 1 (prefetched messages wait while their clock runs)")
    return problems


def check_queues(sqs: Any, settings: Settings) -> list[str]:
    """Problems with the queues as they exist in SQS: missing, no redrive policy, wrong timeout."""
    return inspect_queues(sqs, settings)[0]


def ensure_safe(conf: Any, sqs: Any, settings: Settings) -> None:
    queue_problems, warnings = inspect_queues(sqs, settings)
    for warning in warnings:
        log.warning("queue settings: %s", warning)
    problems = check_celery_config(conf, settings) + queue_problems
    if problems:
        raise ConfigError("unsafe worker configuration: " + "; ".join(problems))
