"""Natural batching through the real kombu transport and moto: concurrent publishes and acks become batch calls.

The fault proxy counts every call, and holds the first one so that the next callers meet it in flight.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from kombu import Connection, Producer

from localdev.moto_server import ExternalSqs, MotoServer
from localdev.polling import wait_for
from tasks.sqs_answers import AnswerKind, SqsAnswerError
from tasks.sqs_batch_actions import DELETE, SEND, Action
from tasks.sqs_batching import process_batchers
from tasks.sqs_faults import FaultReporter
from tasks.sqs_transport import Channel, wait_for_deletes
from tests.harness import sqs_faults
from tests.harness.sqs_proxy import SqsProxy

pytestmark = pytest.mark.integration

# A read timeout well beyond any hold in these tests, and no retry: every call the proxy sees is one of ours.
CLIENT_CONFIG = {"connect_timeout": 2, "read_timeout": 30, "retries": {"mode": "standard", "total_max_attempts": 1}}


class RecordingFaults(FaultReporter):
    def __init__(self) -> None:
        super().__init__(None)
        self.seen: list[tuple[str, str | None, str]] = []

    def failed(self, error: BaseException, action: str, queue: str | None, record: bool = True) -> AnswerKind:
        self.seen.append((action, queue, getattr(error, "code", type(error).__name__)))
        return super().failed(error, action, queue, record)


@pytest.fixture(scope="module")
def proxy(moto: MotoServer | ExternalSqs) -> Iterator[SqsProxy]:
    running = SqsProxy(moto.endpoint_url, seed=5).start()
    yield running
    running.stop()


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> RecordingFaults:
    reporter = RecordingFaults()
    monkeypatch.setattr(Channel, "faults_override", reporter)
    return reporter


class Queue:
    """One FIFO queue, and kombu connections to it through the proxy (one per publishing thread, as pooled)."""

    def __init__(self, proxy: SqsProxy) -> None:
        self.proxy = proxy
        self.prefix = f"b{uuid.uuid4().hex[:8]}-"
        self.sqs = boto3.client("sqs", endpoint_url=proxy.endpoint_url, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self.url = self.sqs.create_queue(QueueName=self.prefix + "work.fifo", Attributes={
            "FifoQueue": "true", "VisibilityTimeout": "2"})["QueueUrl"]
        self.connections: list[Connection] = []
        self._from = 0

    def connect(self) -> Any:
        connection = Connection(
            f"sqs://testing:testing@{self.proxy.endpoint_url.split('//', 1)[1]}", transport="tasks.sqs_transport:Transport",
            transport_options={"region": "us-east-1", "is_secure": False, "queue_name_prefix": self.prefix,
                               "wait_time_seconds": 1, "client-config": CLIENT_CONFIG})
        self.connections.append(connection)
        return connection.default_channel

    def mark(self) -> None:
        self._from = len(self.proxy.calls)

    def calls(self, action: str) -> int:
        return sum(1 for call in self.proxy.calls[self._from:] if call.action == action)

    def waiting(self, action: Action, channel: Any) -> int:
        return process_batchers().for_queue(action, channel.sqs(), self.url).waiting

    def depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def close(self) -> None:
        for connection in self.connections:
            connection.release()
        self.sqs.delete_queue(QueueUrl=self.url)


@pytest.fixture
def queue(proxy: SqsProxy, faults: RecordingFaults) -> Iterator[Queue]:
    made = Queue(proxy)
    yield made
    proxy.clear()
    made.close()


class Concurrently:
    """Runs calls on threads of their own, started in order, each once the one before it is waiting."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: dict[int, BaseException] = {}

    def start(self, n: int, call: Callable[[], object], arrived: Callable[[], bool]) -> None:
        def run() -> None:
            try:
                call()
            except BaseException as exc:  # noqa: BLE001 - the test reads what each caller saw
                self.errors[n] = exc

        thread = threading.Thread(target=run, name=f"caller-{n}", daemon=True)
        self.threads.append(thread)
        thread.start()
        wait_for(arrived, message=f"caller {n} to arrive")

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in self.threads)


def publish(channel: Any, n: int) -> None:
    Producer(channel).publish({"n": n}, routing_key="work.fifo", serializer="json", retry=False,
                              MessageGroupId=f"user-{n}", MessageDeduplicationId=f"m-{n}")


def publish_concurrently(queue: Queue, count: int) -> Concurrently:
    """The first publish held by the proxy, `count - 1` more waiting behind it; then the hold is lifted."""
    channels = [queue.connect() for _ in range(count)]
    callers = Concurrently()
    queue.mark()
    with queue.proxy.injecting(sqs_faults.Hang(), ["SendMessage"]) as hold:
        callers.start(0, lambda: publish(channels[0], 0), lambda: hold.hits == 1)
        for n in range(1, count):
            callers.start(n, lambda n=n: publish(channels[n], n),
                          lambda n=n: queue.waiting(SEND, channels[0]) == n)
    callers.join()
    return callers


def receive_all(channel: Any, count: int) -> list[Any]:
    messages: list[Any] = []

    def more() -> bool:
        message = channel.basic_get("work.fifo", no_ack=False)
        if message is not None:
            messages.append(message)
        return len(messages) >= count

    wait_for(more, timeout=30, interval=0, message=f"{count} messages")
    return messages


def test_concurrent_publishes_to_one_queue_go_as_fewer_send_message_batch_calls_and_all_arrive(
        queue: Queue) -> None:
    callers = publish_concurrently(queue, 21)

    assert callers.errors == {}
    # The first alone; the twenty that met it in flight in two calls of ten, from twenty channels.
    assert (queue.calls("SendMessage"), queue.calls("SendMessageBatch")) == (1, 2)
    received = receive_all(queue.connect(), 21)
    assert sorted(message.payload["n"] for message in received) == list(range(21))


def test_concurrent_acks_go_as_delete_message_batch_and_every_message_is_deleted(queue: Queue) -> None:
    publish_concurrently(queue, 11)
    channel = queue.connect()
    held = receive_all(channel, 11)
    acks = Concurrently()
    queue.mark()

    with queue.proxy.injecting(sqs_faults.Hang(), ["DeleteMessage"]) as hold:
        acks.start(0, held[0].ack, lambda: hold.hits == 1)
        for n, message in enumerate(held[1:], start=1):
            acks.start(n, message.ack, lambda n=n: queue.waiting(DELETE, channel) == n)
    acks.join()
    assert wait_for_deletes(timeout=30)  # acks hand their deletes to the delete pool

    assert acks.errors == {}
    assert (queue.calls("DeleteMessage"), queue.calls("DeleteMessageBatch")) == (1, 1)
    assert queue.depth() == 0
    assert channel.qos._delivered.keys() <= channel.qos._dirty  # every delivery released


def test_a_publish_whose_batch_entry_failed_raises_for_that_caller_alone(queue: Queue,
                                                                         faults: RecordingFaults) -> None:
    queue.proxy.inject(sqs_faults.FailEntry(index=1, code="InternalError"), ["SendMessageBatch"])

    callers = publish_concurrently(queue, 4)

    # Callers 1, 2, 3 went in one batch, in the order they arrived: the second entry was caller 2's.
    assert list(callers.errors) == [2]
    error = callers.errors[2]
    assert isinstance(error, SqsAnswerError)
    assert (error.action, error.queue, error.code, error.kind) == (
        "SendMessage", queue.prefix + "work.fifo", "InternalError", AnswerKind.TRANSIENT)
    assert faults.seen == [("SendMessage", queue.prefix + "work.fifo", "InternalError")]
    received = receive_all(queue.connect(), 3)
    assert sorted(message.payload["n"] for message in received) == [0, 1, 3]


def test_an_ack_whose_batch_entry_failed_is_reported_and_its_message_comes_back(
        queue: Queue, faults: RecordingFaults) -> None:
    publish_concurrently(queue, 3)
    channel = queue.connect()
    held = receive_all(channel, 3)
    acks = Concurrently()
    queue.proxy.inject(sqs_faults.FailEntry(index=0, code="InternalError"), ["DeleteMessageBatch"])

    with queue.proxy.injecting(sqs_faults.Hang(), ["DeleteMessage"]) as hold:
        acks.start(0, held[0].ack, lambda: hold.hits == 1)
        for n, message in enumerate(held[1:], start=1):
            acks.start(n, message.ack, lambda n=n: queue.waiting(DELETE, channel) == n)
    acks.join()
    assert wait_for_deletes(timeout=30)  # acks hand their deletes to the delete pool

    assert acks.errors == {}  # an ack never raises
    assert faults.seen == [("DeleteMessage", queue.prefix + "work.fifo", "InternalError")]
    assert channel.qos._delivered.keys() <= channel.qos._dirty
    # Not deleted: SQS hands it out again once its 2 s visibility timeout is over.
    again = receive_all(queue.connect(), 1)
    assert [message.payload["n"] for message in again] == [held[1].payload["n"]]
