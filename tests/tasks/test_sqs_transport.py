"""Our kombu SQS transport against moto behind the fault proxy: no answer stops the poll, acks never raise."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import redis
from celery import Celery
from kombu import Connection, Consumer, Producer, Queue
from kombu.asynchronous import Hub, set_event_loop
from kombu.exceptions import OperationalError

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.redis_keys import delete_keys_with_prefix
from localdev.redis_server import redis_url_for_tests
from switchboard.store import ConversationStore, HistoryLimits
from tasks.sqs_answers import AnswerKind, QueueMissing, SqsAnswerError, answer_kind
from tasks.sqs_faults import Backoff, FaultReporter
from tasks.sqs_transport import Channel, wait_for_deletes
from tests.harness import sqs_faults
from tests.harness.sqs_proxy import SqsProxy

REDIS_URL = redis_url_for_tests()
# As celeryconfig.py sets it: one retry, so a single throttle is absorbed.
CLIENT_CONFIG = {"connect_timeout": 2, "read_timeout": 6, "retries": {"mode": "standard", "total_max_attempts": 2}}


@pytest.fixture(scope="module")
def proxy(moto: MotoServer | ExternalSqs) -> Iterator[SqsProxy]:
    running = SqsProxy(moto.endpoint_url, seed=3).start()
    yield running
    running.stop()


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    prefix = f"sbtest-h1-{uuid.uuid4().hex[:8]}:"
    yield ConversationStore(redis.Redis.from_url(REDIS_URL), prefix, HistoryLimits(10, 1000, 60))
    delete_keys_with_prefix(REDIS_URL, prefix)


@pytest.fixture
def faults(store: ConversationStore, monkeypatch: pytest.MonkeyPatch) -> FaultReporter:
    reporter = FaultReporter(store)
    monkeypatch.setattr(Channel, "faults_override", reporter)
    return reporter


class Worker:
    """One kombu connection consuming one queue on its own event loop, as Celery's worker does."""

    def __init__(self, proxy: SqsProxy, prefix: str, visibility_timeout: int = 30) -> None:
        self.proxy = proxy
        self.sqs = boto3.client("sqs", endpoint_url=proxy.endpoint_url, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self.queue_name = prefix + "work"
        self.url = self.sqs.create_queue(QueueName=self.queue_name, Attributes={"VisibilityTimeout": str(visibility_timeout)})["QueueUrl"]
        self.hub = Hub()
        set_event_loop(self.hub)
        self.connection = Connection(
            f"sqs://testing:testing@{proxy.endpoint_url.split('//', 1)[1]}", transport="tasks.sqs_transport:Transport",
            transport_options={"region": "us-east-1", "is_secure": False, "queue_name_prefix": prefix,
                               "wait_time_seconds": 1, "polling_interval": 0.05,
                               "client-config": CLIENT_CONFIG})
        self.channel = self.connection.channel()
        # Quicker than production's (0.2 s … 10 s, 5 s for configuration faults), so tests stay short.
        self.channel._backoff = Backoff(first=0.05, cap=0.5, configuration=0.3)
        self.received: list[Any] = []
        self.mark()

    def mark(self) -> None:
        """From now on, count only the calls that arrive after this point (the proxy is shared)."""
        self._seen_from = len(self.proxy.calls)

    def calls(self, action: str, fault: str | None = "any") -> int:
        return sum(1 for call in self.proxy.calls[self._seen_from:]
                   if call.action == action and (fault == "any" or call.fault == fault))

    def consume(self) -> None:
        def on_message(body: Any, message: Any) -> None:
            self.received.append(body)
            message.ack()

        Consumer(self.channel, [Queue("work")], callbacks=[on_message], accept=["json"]).consume()

    def publish(self, body: Any) -> None:
        Producer(self.channel).publish(body, routing_key="work", serializer="json", retry=False)

    def run_until(self, condition: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
        """Turn the event loop (any exception it raises fails the test) until `condition` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; proxy saw {self.proxy.faulted()}")
            self.hub.run_once()

    def faulted_receives(self) -> int:
        return sum(1 for call in self.proxy.calls[self._seen_from:] if call.action == "ReceiveMessage" and call.fault)

    def close(self) -> None:
        self.connection.release()
        self.hub.close()
        set_event_loop(None)


@pytest.fixture
def worker(proxy: SqsProxy, faults: FaultReporter) -> Iterator[Worker]:
    running = Worker(proxy, f"h1{uuid.uuid4().hex[:8]}-")
    yield running
    proxy.clear()
    running.close()


RECEIVE_FAULTS = {
    "throttling": sqs_faults.THROTTLING, "request-throttled": sqs_faults.REQUEST_THROTTLED,
    "over-limit": sqs_faults.OVER_LIMIT, "internal-error": sqs_faults.INTERNAL_ERROR,
    "service-unavailable": sqs_faults.SERVICE_UNAVAILABLE, "queue-does-not-exist": sqs_faults.QUEUE_DOES_NOT_EXIST,
    "access-denied": sqs_faults.ACCESS_DENIED, "invalid-token": sqs_faults.INVALID_CLIENT_TOKEN_ID,
    "expired-token": sqs_faults.EXPIRED_TOKEN, "empty-body": sqs_faults.EmptyBody(forward=False),
    "garbled-body": sqs_faults.GarbledBody(forward=False), "reset-mid-answer": sqs_faults.DropConnection(),
}


@pytest.mark.parametrize("fault", RECEIVE_FAULTS.values(), ids=RECEIVE_FAULTS.keys())
def test_the_poll_survives_any_receive_answer_and_delivers_once_it_is_gone(
        proxy: SqsProxy, faults: FaultReporter, fault: sqs_faults.Fault) -> None:
    # A short visibility timeout: after a reset, pycurl may lose the next answer too (SQS did
    # hand the message out), and the message must come back within the test.
    worker = Worker(proxy, f"h1{uuid.uuid4().hex[:8]}-", visibility_timeout=3)
    try:
        _survives(worker, fault)
    finally:
        proxy.clear()
        worker.close()


def _survives(worker: Worker, fault: sqs_faults.Fault) -> None:
    worker.consume()
    rule = worker.proxy.inject(fault, ["ReceiveMessage"])
    worker.run_until(lambda: worker.faulted_receives() >= 2, what="two failed receives")
    worker.proxy.remove(rule)
    worker.publish({"n": 1})

    worker.run_until(lambda: worker.received, what="the message")

    assert worker.received == [{"n": 1}]
    assert worker.faulted_receives() >= 2


def test_failed_receives_back_off_instead_of_hammering_the_queue(worker: Worker) -> None:
    worker.channel._backoff = Backoff()  # the production delays
    worker.consume()
    worker.proxy.inject(sqs_faults.THROTTLING, ["ReceiveMessage"])
    started = time.monotonic()
    worker.run_until(lambda: time.monotonic() - started > 3, what="three seconds")

    # Unbacked-off, a 0.05 s polling interval against an instant error would poll ~60 times.
    assert 3 <= worker.faulted_receives() <= 12


def test_a_missing_queue_is_reported_until_it_is_created_again_and_then_clears(
        worker: Worker, faults: FaultReporter, store: ConversationStore) -> None:
    worker.consume()
    worker.run_until(lambda: worker.calls("ReceiveMessage") >= 1, what="a first receive")
    worker.sqs.delete_queue(QueueUrl=worker.url)

    worker.run_until(lambda: worker.queue_name in store.sqs_faults(), what="the fault in Redis")
    assert "QueueDoesNotExist" in faults.faults()[worker.queue_name]
    worker.sqs.create_queue(QueueName=worker.queue_name, Attributes={"VisibilityTimeout": "30"})
    worker.publish({"n": 2})

    worker.run_until(lambda: worker.received, timeout=20, what="the message on the new queue")
    assert worker.received == [{"n": 2}]
    assert faults.faults() == {}
    assert store.sqs_faults() == {}


def test_kombu_never_creates_a_queue_that_is_missing(worker: Worker) -> None:
    with pytest.raises(QueueMissing) as raised:
        worker.channel._new_queue("not-there")

    assert answer_kind(raised.value) is AnswerKind.CONFIGURATION
    names = [url.rsplit("/", 1)[-1] for url in worker.sqs.list_queues().get("QueueUrls", [])]
    assert not any(name.endswith("not-there") for name in names)


def test_declaring_a_missing_queue_reports_it_instead_of_raising(worker: Worker, faults: FaultReporter) -> None:
    worker.channel.queue_declare("not-there")

    assert worker.channel.canonical_queue_name("not-there") in faults.faults()


@pytest.mark.parametrize(("fault", "kind"), [(sqs_faults.ACCESS_DENIED, AnswerKind.CONFIGURATION),
                                             (sqs_faults.QUEUE_DOES_NOT_EXIST, AnswerKind.CONFIGURATION),
                                             (sqs_faults.THROTTLING, AnswerKind.TRANSIENT),
                                             (sqs_faults.DropConnection(), AnswerKind.TRANSIENT),
                                             (sqs_faults.EmptyBody(forward=False), AnswerKind.TRANSIENT),
                                             (sqs_faults.GarbledBody(forward=False), AnswerKind.TRANSIENT)],
                         ids=["access-denied", "queue-does-not-exist", "throttling", "reset", "empty-200",
                              "garbled-200"])
def test_a_refused_publish_raises_a_classified_error(worker: Worker, fault: sqs_faults.Fault,
                                                     kind: AnswerKind) -> None:
    with worker.proxy.injecting(fault, ["SendMessage"]), pytest.raises(SqsAnswerError) as raised:
        worker.publish({"n": 3})

    assert (raised.value.action, raised.value.queue, raised.value.kind) == ("SendMessage", worker.queue_name, kind)


def test_celerys_publish_raises_operational_error_whose_kind_is_the_answers(worker: Worker) -> None:
    app = Celery(broker=f"sqs://testing:testing@{worker.proxy.endpoint_url.split('//', 1)[1]}")
    app.conf.broker_transport = "tasks.sqs_transport:Transport"
    app.conf.broker_transport_options = dict(worker.connection.transport_options)
    app.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}

    with worker.proxy.injecting(sqs_faults.ACCESS_DENIED, ["SendMessage"]), pytest.raises(OperationalError) as raised:
        app.send_task("switchboard.anything", queue="work")

    assert answer_kind(raised.value) is AnswerKind.CONFIGURATION
    assert isinstance(raised.value.__cause__, SqsAnswerError)


def held_delivery(worker: Worker) -> Any:
    worker.publish({"n": 5})
    message = worker.channel.basic_get("work", no_ack=False)
    assert message is not None
    return message


@pytest.mark.parametrize(("fault", "attempts"), [(sqs_faults.THROTTLING, 2),
                                                 (sqs_faults.ACCESS_DENIED, 1),
                                                 (sqs_faults.DropConnection(), 2)],
                         ids=["throttled-retried-once", "denied-not-retried", "reset-retried-once"])
def test_an_ack_whose_delete_fails_never_raises_and_releases_the_delivery(
        worker: Worker, fault: sqs_faults.Fault, attempts: int) -> None:
    message = held_delivery(worker)
    worker.mark()
    with worker.proxy.injecting(fault, ["DeleteMessage"]):
        message.ack()
        assert wait_for_deletes(timeout=30)  # the delete runs on its own pool (tasks/sqs_transport.py)

    assert worker.calls("DeleteMessage", type(fault).__name__) == attempts
    qos = worker.channel.qos  # released: its prefetch slot is free again
    assert message.delivery_tag in qos._dirty or message.delivery_tag not in qos._delivered


def test_a_reject_whose_redrive_lookup_fails_leaves_the_message_to_sqs(worker: Worker) -> None:
    message = held_delivery(worker)
    worker.mark()
    with worker.proxy.injecting(sqs_faults.DropConnection(), ["GetQueueAttributes"]):
        message.reject()

    assert worker.calls("GetQueueAttributes", "DropConnection") >= 1
    assert worker.calls("DeleteMessage") == 0


def test_a_channel_opens_while_list_queues_is_throttled(proxy: SqsProxy, faults: FaultReporter) -> None:
    with proxy.injecting(sqs_faults.THROTTLING, ["ListQueues"]):
        opened = Worker(proxy, f"h1{uuid.uuid4().hex[:8]}-")
    try:
        opened.publish({"n": 6})  # the queue is looked up again, now that ListQueues answers
        assert opened.sqs.get_queue_attributes(QueueUrl=opened.url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"] == "1"
    finally:
        opened.close()
