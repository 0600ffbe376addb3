"""kombu's SQS transport, changed so that no answer from SQS stops a worker (selected by `broker_transport`).

What each call does with a failed answer (kinds from tasks/sqs_answers.py):
- ReceiveMessage (the worker's poll): never raises into the event loop. The batch is empty and that
  queue's next poll waits: transient → 0.2 s doubling to 10 s with jitter; configuration → ~5 s, the
  cached queue URL dropped so it is looked up again, and a fault reported until the queue answers.
- GetQueueUrl/ListQueues: kombu never creates a queue (it would lack its dead-letter redrive); a
  missing queue is a configuration fault. A failed look-up while declaring is reported, not raised.
- DeleteMessage (ack): a throttled delete is retried once (boto's standard retries); any failure is
  reported and the delivery released; SQS redelivers the message, which our idempotent steps absorb.
- GetQueueAttributes, ChangeMessageVisibility: reported; kombu's safe default (leave the message) holds.
- SendMessage: raises `SqsAnswerError`, also for a 200 without a MessageId (SQS may never have seen
  it); to kombu it is a connection error, so Celery retries once, then raises OperationalError from
  it. The publish path decides with `answer_kind`.
"""

from __future__ import annotations

from typing import Any

from amqp.protocol import queue_declare_ok_t
from botocore.exceptions import BotoCoreError, ClientError
from kombu.transport import SQS, virtual
from kombu.transport.SQS.exceptions import DoesNotExistQueueException

from tasks.sqs_answers import AnswerKind, QueueMissing, SqsAnswerError, as_answer_error
from tasks.sqs_async import AnswerSafeSQSConnection
from tasks.sqs_faults import Backoff, FaultReporter, process_faults

# What a boto3 call to SQS can raise besides a good answer.
CALL_ERRORS = (ClientError, BotoCoreError, OSError, SqsAnswerError)


class Channel(SQS.Channel):
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
        try:
            # A throttled delete is retried once by boto ("standard" retries, client-config).
            self.sqs(queue=queue).delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
        except CALL_ERRORS as exc:
            # Not deleted (or the answer was lost): SQS hands the message out again after its
            # visibility timeout, and every step is idempotent.
            self.faults.failed(exc, "DeleteMessage", queue)
        # Released in every case, or its prefetch slot is held for ever and polling stops.
        virtual.Channel.basic_ack(self, delivery_tag, multiple)

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

    def sqs(self, queue: str | None = None) -> Any:
        client = super().sqs(queue)
        # unique_id: registered once per client, however often kombu asks for it.
        client.meta.events.register("after-call.sqs.SendMessage", _check_sent, unique_id="switchboard-check-sent")
        return client

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        name = self.canonical_queue_name(queue)
        action = "ChangeMessageVisibility" if message.get("redelivered") else "SendMessage"
        try:
            super()._put(queue, message, **kwargs)
        except CALL_ERRORS as exc:
            error = as_answer_error(exc, action, name)
            error.queue = error.queue or name
            self.faults.failed(error, action, name)
            if error is exc:
                raise
            raise error from exc
        self.faults.succeeded(name, action)


def _check_sent(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
    """A 200 with no MessageId (an empty or cut-off body) is no proof of a send: never read it as one."""
    if http_response.status_code < 300 and not parsed.get("MessageId"):
        raise SqsAnswerError("SendMessage", None, "EmptyAnswer", AnswerKind.TRANSIENT, "no MessageId in the answer")


class Transport(SQS.Transport):
    Channel = Channel
    # A classified answer that still escapes is a broker connection error to Celery: the consumer
    # reconnects instead of the worker exiting, and a publish is retried by its retry policy.
    connection_errors = SQS.Transport.connection_errors + (SqsAnswerError,)  # type: ignore[assignment]
