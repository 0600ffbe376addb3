"""The queues as they exist in SQS compared with what `switchboard queues init` makes them: problems and warnings.

A problem can lose or double-process messages; a warning is for what is safe but slower or weaker than
it should be. The worker's start-up check (tasks/startup_check.py) refuses on the stage queues'
problems; `switchboard doctor` also looks at the dead-letter queues and the redrive target.
"""

from __future__ import annotations

import json
from typing import Any

from switchboard.clients.sqs_admin import (
    DEAD_LETTER_RETENTION_SECONDS,
    HIGH_THROUGHPUT_FIFO,
    STAGES,
    queue_names,
)
from switchboard.settings import SQS_STAGE_RETENTION_SECONDS, Settings

# Every message ends with its fix, which the doctor shows in a column of its own.
INIT_FIX = "run `switchboard queues init`"
STACK_FIX = f"{INIT_FIX} or update the stack"


def inspect_queues(sqs: Any, settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, warnings) for the stage queues: missing, no redrive policy, wrong receive count or timeout."""
    problems: list[str] = []
    warnings: list[str] = []
    for stage in STAGES:
        stage_problems, stage_warnings = inspect_stage(sqs, settings, stage)
        problems += stage_problems
        warnings += stage_warnings
    return problems, warnings


def inspect_stage(sqs: Any, settings: Settings, stage: str) -> tuple[list[str], list[str]]:
    """(problems, warnings) for one stage queue."""
    names = queue_names(settings)
    name = names.in_sqs(names.stage(stage))
    attributes = _attributes(sqs, name)
    if attributes is None:
        return [f"queue {name} does not exist: {INIT_FIX}"], []
    problems = []
    if "RedrivePolicy" not in attributes:
        problems.append(f"queue {name} has no RedrivePolicy: failed messages would be deleted, not dead-lettered; "
                        f"{INIT_FIX}")
    else:
        max_receives = int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
        if max_receives != settings.sqs_max_receive_count:
            problems.append(f"queue {name} has maxReceiveCount {max_receives}, SQS_MAX_RECEIVE_COUNT says "
                            f"{settings.sqs_max_receive_count}: {INIT_FIX}")
    actual = int(attributes.get("VisibilityTimeout", 0))
    if actual != settings.sqs_visibility_timeout:
        problems.append(f"queue {name} has VisibilityTimeout {actual}s, SQS_VISIBILITY_TIMEOUT says "
                        f"{settings.sqs_visibility_timeout}s: {INIT_FIX}")
    return problems, queue_warnings(name, attributes, names.fifo)


def inspect_dead_letters(sqs: Any, settings: Settings, stage: str) -> tuple[list[str], list[str]]:
    """(problems, warnings) the start-up check leaves out: the stage's dead-letter queue, retention, redrive target."""
    names = queue_names(settings)
    dlq_name = names.in_sqs(names.dead_letter(stage))
    dlq = _attributes(sqs, dlq_name)
    if dlq is None:
        return [f"dead-letter queue {dlq_name} does not exist: messages that fail every attempt have nowhere "
                f"to go: {INIT_FIX}"], []
    problems = _retention(dlq_name, dlq, DEAD_LETTER_RETENTION_SECONDS)
    stage_name = names.in_sqs(names.stage(stage))
    queue = _attributes(sqs, stage_name)
    if queue is not None:
        problems += _retention(stage_name, queue, SQS_STAGE_RETENTION_SECONDS)
        target = json.loads(queue.get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
        if target is not None and target != dlq.get("QueueArn"):
            problems.append(f"queue {stage_name} dead-letters to {target}, not to {dlq_name}: {INIT_FIX}")
    return problems, queue_warnings(dlq_name, dlq, names.fifo)


def queue_warnings(name: str, attributes: dict[str, str], fifo: bool) -> list[str]:
    # Both modes deliver each group in order and deduplicate our ids, so normal mode is slower, not unsafe.
    warnings = []
    if fifo and any(attributes.get(k) != v for k, v in HIGH_THROUGHPUT_FIFO.items()):
        warnings.append(f"queue {name} is not in high-throughput FIFO mode (DeduplicationScope="
                        f"{attributes.get('DeduplicationScope')}, FifoThroughputLimit="
                        f"{attributes.get('FifoThroughputLimit')}): SQS caps it at 300 calls per second per action; "
                        f"{STACK_FIX}")
    if attributes.get("SqsManagedSseEnabled") != "true" and not attributes.get("KmsMasterKeyId"):
        warnings.append(f"queue {name} is not encrypted at rest: {STACK_FIX}")
    return warnings


def _retention(name: str, attributes: dict[str, str], retention: int) -> list[str]:
    # No FIFO check: SQS names every FIFO queue *.fifo and no other, so the name we found already says it.
    actual = int(attributes.get("MessageRetentionPeriod", 0))
    if actual != retention:
        return [f"queue {name} keeps messages {actual}s, not {retention}s: {INIT_FIX}"]
    return []


def _attributes(sqs: Any, name: str) -> dict[str, str] | None:
    """Every attribute of the queue, or None when it does not exist (other SQS errors propagate)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return None
    attributes: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return attributes
