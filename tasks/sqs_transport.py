"""kombu's SQS transport, changed so that no answer from SQS stops a worker (selected by `broker_transport`).

What each call does with a failed answer (kinds from tasks/sqs_answers.py):
- ReceiveMessage (the worker's poll): never raises into the event loop. The batch is empty and that
  queue's next poll waits: transient → 0.2 s doubling to 10 s with jitter; configuration → ~5 s, the
  cached queue URL dropped so it is looked up again, and a fault reported until the queue answers.
- GetQueueUrl/ListQueues: kombu never creates a queue (it would lack its dead-letter redrive); a
  missing queue is a configuration fault. A failed look-up while declaring is reported, not raised.
- DeleteMessage (ack): the delivery is released at once and the delete runs on a small pool of its
  own (ACK_THREADS). Celery acks on the worker's event loop, one message at a time: a delete made
  there held every receive and dispatch behind it, and deletes never met to go as one batch. A
  throttled delete is retried once (boto's standard retries); any failure is reported; SQS then
  redelivers the message after its visibility timeout, which our idempotent steps absorb (as after a
  worker that dies between its task and its ack).
- GetQueueAttributes, ChangeMessageVisibility: reported; kombu's safe default (leave the message) holds.
- SendMessage: raises `SqsAnswerError`, also for a 200 without a MessageId (SQS may never have seen
  it; tasks/sqs_batch_actions.py checks every send's answer, alone or in a batch); to kombu it is a
  connection error, so Celery retries once, then raises OperationalError from it. The publish path
  decides with `answer_kind`.

Batching (tasks/sqs_batching.py): publishes, acks and kombu's requeue visibility changes go through
the process-wide batchers. Alone they are the plain calls above; when they meet a call to the same
queue in flight they go as SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch once
it returns. Each caller sees only its own entry's outcome, and faults are reported under the plain
action's name (SendMessage, DeleteMessage, ChangeMessageVisibility) whichever call carried them.
Not batched: kombu's delete of a rejected message (rare: a poison message without a redrive policy).

Receives already take up to 10 messages per call: kombu asks for `_get_message_estimate()`, the
room left in the QoS (prefetch = concurrency x 1, plus one per ETA task, minus unacked deliveries),
capped at 10. That stays safe with late acks and the visibility heartbeat (tasks/visibility.py):
an unacked delivery keeps its prefetch slot, so a worker never holds more than it can start, and
the heartbeat extends every message Celery holds (`state.requests`: prefetched, waiting for an
ETA, or running), not only the running ones, so a prefetched message does not expire while it waits.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from typing import Any

from amqp.protocol import queue_declare_ok_t
from kombu.asynchronous.aws.sqs.message import AsyncMessage
from kombu.transport import SQS, virtual
from kombu.transport.SQS.exceptions import DoesNotExistQueueException
from kombu.utils.json import dumps

from tasks.hop_timings import HopTimedMessage
from tasks.sqs_answers import AnswerKind, QueueMissing, SqsAnswerError, as_answer_error
from tasks.sqs_async import AnswerSafeSQSConnection
from tasks.sqs_batch_actions import CALL_ERRORS, CHANGE_VISIBILITY, DELETE, SEND, Request
from tasks.sqs_batching import process_batchers
from tasks.sqs_faults import Backoff, FaultReporter, process_faults

__all__ = ["CALL_ERRORS", "Channel", "Transport", "wait_for_deletes"]

log = logging.getLogger(__name__)

# Deletes in flight at once, process-wide; more than one lets them meet and go as a batch. A delete
# is bounded by the client's timeouts, so a hung SQS holds these threads, never the event loop.
ACK_THREADS = 16
_deletes = ThreadPoolExecutor(max_workers=ACK_THREADS, thread_name_prefix="sqs-delete")
_pending: set[Future[None]] = set()
_pending_lock = threading.Lock()


def wait_for_deletes(timeout: float | None = None) -> bool:
    """Wait until every delete handed off so far has been answered; False if some were still out at `timeout`."""
    with _pending_lock:
        pending = list(_pending)
    return not wait_for_futures(pending, timeout=timeout).not_done


def _forget(future: Future[None]) -> None:
    with _pending_lock:
        _pending.discard(future)


class Channel(SQS.Channel):
    Message = HopTimedMessage  # times its ack for the worker's hop histogram (tasks/hop_timings.py)
    faults_override: FaultReporter | None = None  # tests hand in their own

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._poll_delays: dict[str, float] = {}
        self._backoff = Backoff()
        self._opening = True
        super().__init__(*args, **kwargs)
        self._opening = False

    @property
    def faults(self) -> FaultReporter:
        return self.faults_override or process_faults()

    # --- finding queues ------------------------------------------------------------------------

    def _update_queue_cache(self, queue_name_prefix: str) -> None:
        try:
            super()._update_queue_cache(queue_name_prefix)
        except CALL_ERRORS as exc:
            error = as_answer_error(exc, "ListQueues", queue_name_prefix or None)
            if not self._opening:  # the look-up's caller reports it, under the queue it wanted
                raise error from exc
            # At start-up the cache just stays empty; each queue is looked up again when used.
            self.faults.failed(error, "ListQueues", error.queue, record=False)

    def _new_queue(self, queue: str, **kwargs: Any) -> str:
        try:
            return str(self._resolve_queue_url(queue))
        except DoesNotExistQueueException as exc:
            raise QueueMissing("GetQueueUrl", self.canonical_queue_name(queue)) from exc

    def queue_declare(self, queue: str | None = None, passive: bool = False, **kwargs: Any) -> Any:
        try:
            return super().queue_declare(queue, passive, **kwargs)
        except CALL_ERRORS as exc:
            # The consumer starts anyway; its polls report the fault and recover when the queue is there.
            self.faults.failed(exc, "GetQueueUrl", self.canonical_queue_name(queue or ""))
            return queue_declare_ok_t(queue, 0, 0)

    # --- the worker's poll (async) -------------------------------------------------------------

    def asynsqs(self, queue: str | None = None) -> Any:
        if self.predefined_queues:  # not used by Switchboard; kombu's client, without this fix
            return super().asynsqs(queue)
        if self._asynsqs is None:
            attributes = self.get_message_attributes
            self._asynsqs = AnswerSafeSQSConnection(  # type: ignore[assignment]
                sqs_connection=self.sqs(queue=queue), region=self.region,
                message_system_attribute_names=attributes.get("MessageSystemAttributeNames"),
                message_attribute_names=attributes.get("MessageAttributeNames"),
                http_timeout=self.wait_time_seconds + 5)
        return self._asynsqs

    def _schedule_queue(self, queue: str) -> None:
        try:
            super()._schedule_queue(queue)
        except CALL_ERRORS as exc:  # raised before the request went out (look-up, signing, credentials)
            self._receive_failed(queue, exc)
            self._loop1(queue)

    def _on_messages_ready(self, queue: Any, qname: str, messages: Any) -> int:
        if isinstance(messages, SqsAnswerError):
            self._receive_failed(qname, messages)
            return 0
        if not isinstance(messages, dict):  # kombu's own "empty batch" for a 5xx or a timeout
            return 0
        name = self.canonical_queue_name(qname)
        self._backoff.succeeded(qname)
        self.faults.succeeded(name, "ReceiveMessage")
        return int(super()._on_messages_ready(queue, qname, messages))

    def _receive_failed(self, queue: str, exc: BaseException) -> None:
        name = self.canonical_queue_name(queue)
        if isinstance(exc, SqsAnswerError) and exc.queue is None:
            exc.queue = name
        kind = self.faults.failed(exc, "ReceiveMessage", name)
        if kind is AnswerKind.CONFIGURATION:
            # The queue may come back with another URL or redrive policy: look both up again.
            url = self._queue_cache.pop(name, None)
            self._redrive_policies.pop(url, None)
        self._poll_delays[queue] = self._backoff.failed(queue, kind)

    def _loop1(self, queue: str, messages_fetched: Any = None) -> None:
        delay = self._poll_delays.pop(queue, None)
        if delay is None:
            super()._loop1(queue, messages_fetched)
        else:
            self.hub.call_later(delay, self._schedule_queue, queue)  # type: ignore[union-attr]

    # --- acknowledging, rejecting, publishing (sync) -------------------------------------------

    def basic_ack(self, delivery_tag: Any, multiple: bool = False) -> None:
        try:
            info = self.qos.get(delivery_tag).delivery_info
            handle, queue_url = info["sqs_message"]["ReceiptHandle"], info["sqs_queue"]
        except KeyError:
            super().basic_ack(delivery_tag, multiple)
            return
        queue = self.canonical_queue_name(info["routing_key"]) if "routing_key" in info else None
        future = _deletes.submit(self._delete_acked, self.sqs(queue=queue), queue_url, handle, queue)
        with _pending_lock:
            _pending.add(future)
        future.add_done_callback(_forget)
        # Released now, whatever the delete's outcome: its task is done, and a delete that fails only
        # means a redelivery that the idempotent steps absorb.
        virtual.Channel.basic_ack(self, delivery_tag, multiple)

    def _delete_acked(self, client: Any, queue_url: str, handle: str, queue: str | None) -> None:
        """On the delete pool: one ack's DeleteMessage, or its entry in a DeleteMessageBatch; never raises."""
        try:
            process_batchers().submit(DELETE, client, queue_url, {"ReceiptHandle": handle}, queue)
        except CALL_ERRORS as exc:
            # Not deleted (or the answer was lost): SQS hands the message out again after its
            # visibility timeout, and every step is idempotent.
            self.faults.failed(exc, DELETE.name, queue)
        except Exception:  # noqa: BLE001 - nothing waits for this thread: log what no one foresaw
            log.exception("deleting an acknowledged message from %s failed", queue)

    def _delete_rejected_message(self, delivery_tag: Any) -> None:
        try:
            super()._delete_rejected_message(delivery_tag)
        except CALL_ERRORS as exc:  # kombu catches only ClientError; the message comes back either way
            self.faults.failed(exc, "DeleteMessage", None)

    def _has_redrive_policy(self, queue: str | None, queue_url: str) -> bool:
        try:
            return bool(super()._has_redrive_policy(queue, queue_url))
        except CALL_ERRORS as exc:
            self.faults.failed(exc, "GetQueueAttributes", queue)
            return True  # kombu's own safe answer: leave the message to SQS (redelivery, then the DLQ)

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        # kombu's _put, with its call going through the batchers instead of straight to the client.
        name = self.canonical_queue_name(queue)
        redelivered = bool(message.get("redelivered"))
        action = CHANGE_VISIBILITY if redelivered else SEND
        try:
            queue_url = self._new_queue(queue)
            request = self._visibility_request(message) if redelivered else self._send_request(queue, message)
            process_batchers().submit(action, self.sqs(queue=name), queue_url, request, name)
        except CALL_ERRORS as exc:
            error = as_answer_error(exc, action.name, name)
            error.queue = error.queue or name
            self.faults.failed(error, action.name, name)
            if error is exc:
                raise
            raise error from exc
        self.faults.succeeded(name, action.name)

    def _send_request(self, queue: str, message: Any) -> Request:
        """SendMessage's arguments for `message`, as kombu 5.7's `_put` builds them (minus QueueUrl)."""
        request: Request = {}
        if "properties" in message:
            properties = message["properties"]
            if "message_attributes" in properties:  # SQS attributes, not part of the body
                request["MessageAttributes"] = properties.pop("message_attributes")
            if "MessageGroupId" in properties:  # FIFO groups, and SQS's fair queues
                request["MessageGroupId"] = properties["MessageGroupId"]
            delay_seconds = self._resolve_delay_seconds(properties)
            if queue.endswith(".fifo"):
                request.setdefault("MessageGroupId", "default")
                request["MessageDeduplicationId"] = (properties["MessageDeduplicationId"]
                                                     if "MessageDeduplicationId" in properties else str(uuid.uuid4()))
                if delay_seconds is not None:  # SQS refuses DelaySeconds on a FIFO queue outright
                    log.warning("SQS FIFO queues take no per-message delay, ignoring delay of %s seconds",
                                delay_seconds)
            elif delay_seconds is not None:
                request["DelaySeconds"] = delay_seconds
        body = dumps(message)
        request["MessageBody"] = AsyncMessage().encode(body) if self.sqs_base64_encoding else body
        return request

    def _visibility_request(self, message: Any) -> Request:
        # kombu's requeue: the message shows again after a short wait, as in its own _put.
        return {"ReceiptHandle": message["properties"]["delivery_tag"], "VisibilityTimeout": self.wait_time_seconds}


class Transport(SQS.Transport):
    Channel = Channel
    # A classified answer that still escapes is a broker connection error to Celery: the consumer
    # reconnects instead of the worker exiting, and a publish is retried by its retry policy.
    connection_errors = SQS.Transport.connection_errors + (SqsAnswerError,)  # type: ignore[assignment]
