"""What operators ask first: can we reach Redis and SQS, do the queues exist, how far behind are we."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis
from botocore.exceptions import BotoCoreError, ClientError

from switchboard.queues import STAGES, QueueNames
from switchboard.store import ConversationStore


@dataclass(frozen=True)
class QueueDepth:
    name: str
    visible: int
    in_flight: int
    delayed: int


def queue_depths(sqs: Any, names: QueueNames) -> list[QueueDepth]:
    """Approximate counts from GetQueueAttributes for every stage queue and dead-letter queue."""
    depths = []
    for stage in STAGES:
        for name in (names.stage(stage), names.dead_letter(stage)):
            url = sqs.get_queue_url(QueueName=names.in_sqs(name))["QueueUrl"]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ])["Attributes"]
            depths.append(QueueDepth(
                name=name,
                visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
            ))
    return depths


def readiness(store: ConversationStore, sqs: Any, names: QueueNames) -> dict[str, str]:
    """'ok' or the reason, per dependency; ready when every value is 'ok'."""
    checks = {}
    try:
        store.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"unreachable: {exc}"
    try:
        for stage in STAGES:
            sqs.get_queue_url(QueueName=names.in_sqs(names.stage(stage)))
        checks["sqs"] = "ok"
    except sqs.exceptions.QueueDoesNotExist:
        checks["sqs"] = "queues missing: run `switchboard queues init`"
    except (BotoCoreError, ClientError) as exc:
        checks["sqs"] = f"unreachable: {exc}"
    return checks


@dataclass(frozen=True)
class Backlog:
    outbox: int
    unanswered: int
    oldest_unanswered_age_seconds: float | None


def backlog(store: ConversationStore, now: float | None = None) -> Backlog:
    count, oldest = store.unanswered()
    now = time.time() if now is None else now
    return Backlog(store.outbox_size(), count, None if oldest is None else max(0.0, now - oldest))
