"""Reading and replaying the dead-letter queues (operator tooling over boto3)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

from switchboard.queues import STAGES, QueueNames


@dataclass(frozen=True)
class DeadLetter:
    stage: str
    task: str
    message_sid: str
    receive_count: int
    sent_at: float
    group: str | None
    receipt_handle: str
    body: str


def describe(raw_body: str) -> tuple[str, str]:
    """(task name, MessageSid) from a kombu message body, JSON or base64-encoded JSON."""
    try:
        envelope = json.loads(raw_body)
    except json.JSONDecodeError:
        envelope = json.loads(base64.b64decode(raw_body))
    task = envelope.get("headers", {}).get("task", "?")
    payload = envelope.get("body", "")
    if envelope.get("properties", {}).get("body_encoding") == "base64":
        payload = base64.b64decode(payload).decode()
    args, kwargs, _ = json.loads(payload) if payload else ([], {}, None)
    return task, kwargs.get("message_sid") or (args[0] if args else "?")


def peek(sqs: Any, names: QueueNames, limit: int = 100) -> list[DeadLetter]:
    """List what sits in every dead-letter queue. Receiving hides each message for 30 s."""
    found: list[DeadLetter] = []
    for stage in STAGES:
        url = sqs.get_queue_url(QueueName=names.in_sqs(names.dead_letter(stage)))["QueueUrl"]
        while len(found) < limit:
            batch = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                task, sid = describe(message["Body"])
                attributes = message.get("Attributes", {})
                found.append(DeadLetter(
                    stage=stage, task=task, message_sid=sid,
                    receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
                    sent_at=int(attributes.get("SentTimestamp", 0)) / 1000,
                    group=attributes.get("MessageGroupId"),
                    receipt_handle=message["ReceiptHandle"], body=message["Body"],
                ))
    return found


def release(sqs: Any, names: QueueNames, letters: list[DeadLetter]) -> None:
    """Make peeked dead letters visible again at once, so the next `list` or `redrive` sees them."""
    for letter in letters:
        url = sqs.get_queue_url(QueueName=names.in_sqs(names.dead_letter(letter.stage)))["QueueUrl"]
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0)


def redrive(sqs: Any, names: QueueNames, letters: list[DeadLetter]) -> int:
    """Send each dead letter back to its stage's queue, then delete it from the dead-letter queue.

    Replaying is safe: every step checks what was already done, so a message that was answered
    (for example with the apology) is not answered again.
    """
    moved = 0
    for letter in letters:
        target = sqs.get_queue_url(QueueName=names.in_sqs(names.stage(letter.stage)))["QueueUrl"]
        options: dict[str, str] = {}
        if names.fifo:
            options = {"MessageGroupId": letter.group or "default",
                       "MessageDeduplicationId": f"redrive-{uuid.uuid4().hex}"}
        sqs.send_message(QueueUrl=target, MessageBody=letter.body, **options)
        source = sqs.get_queue_url(QueueName=names.in_sqs(names.dead_letter(letter.stage)))["QueueUrl"]
        sqs.delete_message(QueueUrl=source, ReceiptHandle=letter.receipt_handle)
        moved += 1
    return moved
