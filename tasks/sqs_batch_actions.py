"""The SQS actions our transport batches: each request sent alone or as one entry of a batch, and what its answer means.

| action (reported as)      | sent alone as             | sent together as               | an entry's key     |
| ------------------------- | ------------------------- | ------------------------------ | ------------------ |
| `SendMessage`             | `send_message`            | `send_message_batch`           | its MessageGroupId |
| `DeleteMessage`           | `delete_message`          | `delete_message_batch`         | its ReceiptHandle  |
| `ChangeMessageVisibility` | `change_message_visibility` | `change_message_visibility_batch` | its ReceiptHandle |

Every failure an entry gets is an `SqsAnswerError` named after the logical action (the first column),
whichever call carried it, so fault reports, metrics and alerts read as they did before batching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasks.sqs_answers import AnswerKind, SqsAnswerError, as_answer_error, code_kind, normalise_code

# What a boto3 call to SQS can raise besides a good answer.
CALL_ERRORS = (ClientError, BotoCoreError, OSError, SqsAnswerError)

# SQS takes at most 10 entries per batch, and 256 KiB of message payload (bodies and attributes) in
# all. AWS has accepted 1 MiB since 2025; 256 KiB is what every region and emulator still takes.
MAX_ENTRIES = 10
MAX_PAYLOAD_BYTES = 256 * 1024

Request = dict[str, Any]  # one call's arguments without QueueUrl; a batch entry's without Id
Answer = dict[str, Any]  # the answer to a call alone, or a batch's `Successful` entry


@dataclass(frozen=True)
class Action:
    name: str  # the logical action: what callers, faults and metrics call it
    batch_name: str
    alone: str  # the boto3 method for one request
    together: str  # the boto3 method for a batch of them
    # Entries with the same key keep their arrival order (in one call, or in later rounds).
    key: Callable[[Request], str | None]
    # May entries with the same key share a call? A FIFO group may (SQS keeps a batch's order
    # within a group); one receipt handle may not (SQS refuses a batch that repeats one).
    keys_share_a_call: bool
    payload_bytes: Callable[[Request], int]
    # Why an answer that came back 200 is still no proof that this entry was done (None: it is proof).
    doubt: Callable[[Answer], str | None]

    def send_alone(self, client: Any, queue_url: str, request: Request, queue: str | None) -> Answer:
        """One request as the plain call; raises an `SqsAnswerError` (from the cause) when it was not done."""
        try:
            answer: Answer = getattr(client, self.alone)(QueueUrl=queue_url, **request) or {}
        except CALL_ERRORS as exc:
            raise self.call_failed(exc, queue) from exc
        doubt = self.doubt(answer)
        if doubt is not None:
            raise SqsAnswerError(self.name, queue, "EmptyAnswer", AnswerKind.TRANSIENT, doubt)
        return answer

    def send_together(self, client: Any, queue_url: str, requests: list[Request],
                      queue: str | None) -> list[Answer | SqsAnswerError]:
        """Several requests as one batch call: each one's answer, or its own error (its `Failed` entry).

        Raises the whole call's failure as it came (every entry shares it); `call_failed` names it.
        """
        entries = [{"Id": str(i), **request} for i, request in enumerate(requests)]
        answer = getattr(client, self.together)(QueueUrl=queue_url, Entries=entries) or {}
        done = {str(entry.get("Id")): entry for entry in answer.get("Successful") or []}
        failed = {str(entry.get("Id")): entry for entry in answer.get("Failed") or []}
        outcomes: list[Answer | SqsAnswerError] = []
        for i in range(len(requests)):
            if str(i) in failed:
                outcomes.append(self._entry_failed(failed[str(i)], queue))
            elif str(i) in done and (doubt := self.doubt(done[str(i)])) is None:
                outcomes.append(done[str(i)])
            else:  # an empty or cut-off answer says nothing about it: not proof that it was done
                outcomes.append(SqsAnswerError(self.name, queue, "EmptyAnswer", AnswerKind.TRANSIENT,
                                               f"{self.batch_name}: {doubt or 'no entry for it in the answer'}"))
        return outcomes

    def call_failed(self, exc: BaseException, queue: str | None, batch: bool = False) -> SqsAnswerError:
        """A fresh classified error for one entry of a call that failed as a whole (each caller raises its own)."""
        shared = as_answer_error(exc, self.name, queue)
        detail = f"{self.batch_name}: {shared.detail}" if batch else shared.detail
        return SqsAnswerError(self.name, queue or shared.queue, shared.code, shared.kind, detail)

    def _entry_failed(self, entry: dict[str, Any], queue: str | None) -> SqsAnswerError:
        code = normalise_code(str(entry.get("Code") or "Unknown"))
        fault = "sender" if entry.get("SenderFault") else "service"
        return SqsAnswerError(self.name, queue, code, code_kind(code),
                              f"{self.batch_name} entry ({fault} fault): {entry.get('Message', '')}"[:200])


def _no_message_id(answer: Answer) -> str | None:
    # An empty or cut-off 200 parses as success with no fields: SQS may never have seen the message.
    return None if answer.get("MessageId") else "no MessageId in the answer"


def _no_doubt(answer: Answer) -> str | None:
    return None  # a delete or visibility change answers nothing but its Id


def _message_bytes(request: Request) -> int:
    """What SQS counts toward a batch's payload limit: the body, and each attribute's name, type and value."""
    size = len(str(request.get("MessageBody", "")).encode())
    for name, attribute in (request.get("MessageAttributes") or {}).items():
        value = attribute.get("StringValue") or attribute.get("BinaryValue") or b""
        size += len(name.encode()) + len(str(attribute.get("DataType", "")).encode())
        size += len(value if isinstance(value, bytes) else str(value).encode())
    return size


def _group(request: Request) -> str | None:
    group = request.get("MessageGroupId")
    return None if group is None else str(group)


def _handle(request: Request) -> str | None:
    return str(request["ReceiptHandle"])


SEND = Action("SendMessage", "SendMessageBatch", "send_message", "send_message_batch",
              key=_group, keys_share_a_call=True, payload_bytes=_message_bytes, doubt=_no_message_id)
DELETE = Action("DeleteMessage", "DeleteMessageBatch", "delete_message", "delete_message_batch",
                key=_handle, keys_share_a_call=False, payload_bytes=lambda _: 0, doubt=_no_doubt)
CHANGE_VISIBILITY = Action("ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "change_message_visibility",
                           "change_message_visibility_batch", key=_handle, keys_share_a_call=False,
                           payload_bytes=lambda _: 0, doubt=_no_doubt)
