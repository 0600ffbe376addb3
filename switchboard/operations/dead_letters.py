"""Reading and replaying the dead-letter queues (operator tooling over boto3)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchboard.clients.sqs_admin import STAGES, QueueNames
from switchboard.clients.sqs_fifo import fifo_options
from switchboard.domain.conversation import APOLOGY
from switchboard.services import build_store
from switchboard.settings import get_settings
from switchboard.store import ConversationStore

if TYPE_CHECKING:  # boto3-stubs' SQS client type; without the stubs installed mypy takes it as Any
    from mypy_boto3_sqs import SQSClient


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


def peek(sqs: SQSClient, names: QueueNames, limit: int = 100) -> list[DeadLetter]:
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


def release(sqs: SQSClient, names: QueueNames, letters: list[DeadLetter]) -> None:
    """Make peeked dead letters visible again at once, so the next `list` or `redrive` sees them."""
    for letter in letters:
        url = sqs.get_queue_url(QueueName=names.in_sqs(names.dead_letter(letter.stage)))["QueueUrl"]
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0)


@dataclass(frozen=True)
class Redriven:
    """What a redrive did: letters sent back, and how many of them will follow an apology up."""

    moved: int
    follow_ups: int

    def __str__(self) -> str:
        line = f"redrove {self.moved} message(s)"
        if self.follow_ups:
            line += (f"; {self.follow_ups} of them had been answered with the apology (or their reply given up) "
                     "and will now get their real answer as a follow-up")
        return line


def redrive(sqs: SQSClient, names: QueueNames, letters: list[DeadLetter], store: ConversationStore | None = None) -> int:
    """Send each dead letter back to its stage's queue (see redrive_letters); returns how many."""
    return redrive_letters(sqs, names, letters, store).moved


def redrive_letters(sqs: SQSClient, names: QueueNames, letters: list[DeadLetter],
                    store: ConversationStore | None = None) -> Redriven:
    """Send each dead letter back to its stage's queue, then delete it from the dead-letter queue.

    Replaying is safe: every step checks what was already done. A message the give-up answered
    with the apology (or whose reply it gave up) is reopened first, once, so that now the cause is
    fixed the user gets the real answer as a follow-up; if it fails again, nothing more is sent.
    """
    if store is None:
        store = build_store(get_settings())
    moved = follow_ups = 0
    for letter in letters:
        if store.reopen_for_follow_up(letter.message_sid, APOLOGY):
            follow_ups += 1
        target = sqs.get_queue_url(QueueName=names.in_sqs(names.stage(letter.stage)))["QueueUrl"]
        # The letter's own group (its conversation); a fresh deduplication id, or SQS would drop the replay.
        options = fifo_options(names.fifo, letter.message_sid, letter.group or "default",
                               f"redrive-{uuid.uuid4().hex}")
        sqs.send_message(QueueUrl=target, MessageBody=letter.body, **options)
        source = sqs.get_queue_url(QueueName=names.in_sqs(names.dead_letter(letter.stage)))["QueueUrl"]
        sqs.delete_message(QueueUrl=source, ReceiptHandle=letter.receipt_handle)
        moved += 1
    return Redriven(moved, follow_ups)
