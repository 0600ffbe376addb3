"""The pipeline's SQS queues: their names, creating them (with dead-letter queues) and their depths, through boto3."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from switchboard.settings import SQS_STAGE_RETENTION_SECONDS, Settings

if TYPE_CHECKING:  # boto3-stubs' SQS client type; without the stubs installed mypy takes it as Any
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

log = logging.getLogger(__name__)

STAGES = ("intake", "complete", "reply")

# High-throughput FIFO: SQS's quotas apply per message group (one per conversation) instead of per
# queue, which in normal mode caps each action at 300 calls per second. Groups and deduplication ids
# are both derived from the message, so deduplicating within a group loses nothing.
HIGH_THROUGHPUT_FIFO: dict[QueueAttributeNameType, str] = {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
# Encrypted at rest with SQS-owned keys: no KMS key, policy or permission to manage.
SQS_MANAGED_ENCRYPTION: dict[QueueAttributeNameType, str] = {"SqsManagedSseEnabled": "true"}
# SQS's longest: a dead letter waits two weeks for `switchboard dlq redrive`.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class QueueNames:
    """Names as Celery routes to them (kombu adds SQS_QUEUE_PREFIX) and as they exist in SQS."""

    prefix: str
    fifo: bool

    def stage(self, stage: str) -> str:
        return stage + (".fifo" if self.fifo else "")

    def dead_letter(self, stage: str) -> str:
        return f"{stage}-dlq" + (".fifo" if self.fifo else "")

    def in_sqs(self, name: str) -> str:
        return self.prefix + name


def queue_names(settings: Settings) -> QueueNames:
    return QueueNames(prefix=settings.sqs_queue_prefix, fifo=settings.sqs_fifo)


def sqs_client(settings: Settings, connect_timeout: float = 2, read_timeout: float = 25) -> SQSClient:
    """A boto3 SQS client for the configured endpoint (AWS when SQS_ENDPOINT_URL is unset)."""
    secret = settings.aws_secret_access_key
    return boto3.client(
        "sqs",
        endpoint_url=settings.sqs_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


@dataclass(frozen=True)
class QueueDepth:
    name: str
    visible: int
    in_flight: int
    delayed: int


def queue_depths(sqs: SQSClient, names: QueueNames) -> list[QueueDepth]:
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


def init_queues(settings: Settings, client: SQSClient | None = None) -> list[str]:
    """Create every queue and its dead-letter queue, or bring their attributes up to date. Idempotent."""
    client = client or sqs_client(settings)
    names = queue_names(settings)
    urls = []
    for stage in STAGES:
        # Dead-letter queues get high-throughput mode too: a failure that dead-letters every message
        # fills them at the stage queue's rate, and `dlq list`/`redrive` must drain them as fast.
        dlq_url = _ensure(client, names.in_sqs(names.dead_letter(stage)), names.fifo, {
            "MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS),
        })
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = _ensure(client, names.in_sqs(names.stage(stage)), names.fifo, {
            "VisibilityTimeout": str(settings.sqs_visibility_timeout),
            "MessageRetentionPeriod": str(SQS_STAGE_RETENTION_SECONDS),
            "RedrivePolicy": json.dumps({
                "deadLetterTargetArn": dlq_arn,
                "maxReceiveCount": str(settings.sqs_max_receive_count),
            }),
        })
        urls += [url, dlq_url]
    return urls


def _ensure(client: SQSClient, name: str, fifo: bool, attributes: dict[QueueAttributeNameType, str]) -> str:
    attributes = {**attributes, **SQS_MANAGED_ENCRYPTION}
    if fifo:
        # Deduplication ids are set per message (from MessageSid), so content-based dedup stays off.
        attributes = {**attributes, "FifoQueue": "true", "ContentBasedDeduplication": "false", **HIGH_THROUGHPUT_FIFO}
    try:
        url: str = client.get_queue_url(QueueName=name)["QueueUrl"]
    except client.exceptions.QueueDoesNotExist:
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        log.info("created queue %s", name)
        return url
    current = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    mutable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
    if current.get("KmsMasterKeyId"):
        # An operator chose a KMS key (their key policy, their audit trail): keep it, do not swap in SQS-owned keys.
        del mutable["SqsManagedSseEnabled"]
    changed = sorted(k for k, v in mutable.items() if _normalised(k, current.get(k)) != _normalised(k, v))
    if changed:
        client.set_queue_attributes(QueueUrl=url, Attributes={k: mutable[k] for k in changed})
        log.info("updated queue %s: %s", name, ", ".join(changed))
    return url


def _normalised(attribute: str, value: str | None) -> object:
    """A value as SQS means it: RedrivePolicy comes back as JSON whose maxReceiveCount may be a number."""
    if attribute == "RedrivePolicy" and value:
        policy = json.loads(value)
        return {**policy, "maxReceiveCount": str(policy.get("maxReceiveCount"))}
    return value
