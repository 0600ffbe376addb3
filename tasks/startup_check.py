"""Refuse to start a worker whose settings could lose or double-process messages."""

from __future__ import annotations

import json
import logging
from typing import Any

from switchboard.clients.sqs_admin import HIGH_THROUGHPUT_FIFO, STAGES, queue_names
from switchboard.settings import ConfigError, Settings

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


def inspect_queues(sqs: Any, settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, warnings) for the stage queues; a warning is for what is safe but slower or weaker than it should be."""
    names = queue_names(settings)
    problems: list[str] = []
    warnings: list[str] = []
    for stage in STAGES:
        name = names.in_sqs(names.stage(stage))
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            problems.append(f"queue {name} does not exist: run `switchboard queues init`")
            continue
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        if "RedrivePolicy" not in attributes:
            problems.append(f"queue {name} has no RedrivePolicy: failed messages would be deleted, not dead-lettered")
        else:
            max_receives = int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
            if max_receives != settings.sqs_max_receive_count:
                problems.append(f"queue {name} has maxReceiveCount {max_receives}, SQS_MAX_RECEIVE_COUNT says "
                                f"{settings.sqs_max_receive_count}: run `switchboard queues init`")
        actual = int(attributes.get("VisibilityTimeout", 0))
        if actual != settings.sqs_visibility_timeout:
            problems.append(f"queue {name} has VisibilityTimeout {actual}s, SQS_VISIBILITY_TIMEOUT says "
                            f"{settings.sqs_visibility_timeout}s: run `switchboard queues init`")
        warnings += _queue_warnings(name, attributes, names.fifo)
    return problems, warnings


def _queue_warnings(name: str, attributes: dict[str, str], fifo: bool) -> list[str]:
    # Both modes deliver each group in order and deduplicate our ids, so normal mode is slower, not unsafe.
    warnings = []
    if fifo and any(attributes.get(k) != v for k, v in HIGH_THROUGHPUT_FIFO.items()):
        warnings.append(f"queue {name} is not in high-throughput FIFO mode (DeduplicationScope="
                        f"{attributes.get('DeduplicationScope')}, FifoThroughputLimit="
                        f"{attributes.get('FifoThroughputLimit')}): SQS caps it at 300 calls per second per action; "
                        "run `switchboard queues init` or update the stack")
    if attributes.get("SqsManagedSseEnabled") != "true" and not attributes.get("KmsMasterKeyId"):
        warnings.append(f"queue {name} is not encrypted at rest: run `switchboard queues init` or update the stack")
    return warnings


def ensure_safe(conf: Any, sqs: Any, settings: Settings) -> None:
    queue_problems, warnings = inspect_queues(sqs, settings)
    for warning in warnings:
        log.warning("queue settings: %s", warning)
    problems = check_celery_config(conf, settings) + queue_problems
    if problems:
        raise ConfigError("unsafe worker configuration: " + "; ".join(problems))
