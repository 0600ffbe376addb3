"""Unit tests for the worker's reliability parts: heartbeat, outbox relay, safety check, SQS receive fix."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from celery.worker import state

from switchboard.inbound import InboundMessage
from switchboard.settings import load_settings
from switchboard.store import ConversationStore, HistoryLimits
from tasks.heartbeat import VisibilityHeartbeat, receive_count
from tasks.outbox_relay import OutboxRelay
from tasks.safety import check_celery_config
from tasks.sqs_transport import Channel


class RecordingSqs:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def change_message_visibility_batch(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def held_request(handle: str, queue_url: str = "http://sqs/q", acknowledged: bool = False,
                 receives: int = 1) -> SimpleNamespace:
    sqs_message = {"ReceiptHandle": handle, "Attributes": {"ApproximateReceiveCount": str(receives)}}
    message = SimpleNamespace(delivery_info={"sqs_message": sqs_message, "sqs_queue": queue_url})
    return SimpleNamespace(message=message, acknowledged=acknowledged)


@pytest.fixture
def held() -> Iterator[dict[str, SimpleNamespace]]:
    requests: dict[str, SimpleNamespace] = {}
    saved = dict(state.requests)
    state.requests.clear()
    state.requests.update(requests)
    yield state.requests  # type: ignore[misc]
    state.requests.clear()
    state.requests.update(saved)


def test_the_heartbeat_extends_every_unacknowledged_message_in_batches_of_ten(held: dict[str, Any]) -> None:
    for i in range(12):
        held[f"task-{i}"] = held_request(f"handle-{i}")
    held["done"] = held_request("handle-done", acknowledged=True)
    sqs = RecordingSqs()

    extended = VisibilityHeartbeat(sqs, visibility_timeout=60, max_hold_seconds=900).beat_once()

    assert extended == 12
    assert [len(call["Entries"]) for call in sqs.calls] == [10, 2]
    handles = {entry["ReceiptHandle"] for call in sqs.calls for entry in call["Entries"]}
    assert "handle-done" not in handles
    assert all(entry["VisibilityTimeout"] == 60 for call in sqs.calls for entry in call["Entries"])


def test_the_heartbeat_lets_go_of_a_message_held_longer_than_the_limit(held: dict[str, Any]) -> None:
    held["stuck"] = held_request("handle-stuck")
    sqs = RecordingSqs()
    heartbeat = VisibilityHeartbeat(sqs, visibility_timeout=60, max_hold_seconds=0.0)
    heartbeat.beat_once()  # first sighting starts its clock
    sqs.calls.clear()

    assert heartbeat.beat_once() == 0
    assert sqs.calls == []


def test_receive_count_reads_the_sqs_attribute() -> None:
    assert receive_count(held_request("h", receives=3)) == 3
    assert receive_count(SimpleNamespace(message=None)) == 1


def test_a_failed_receive_is_an_empty_batch_not_a_worker_crash() -> None:
    # kombu hands `[]` to this callback for a timed-out or 5xx ReceiveMessage.
    channel = Channel.__new__(Channel)
    assert channel._on_messages_ready(None, "intake.fifo", []) == 0


def test_the_safety_check_names_each_unsafe_celery_setting() -> None:
    settings = load_settings(twilio_account_sid="AC" + "0" * 32, twilio_auth_token="t", openai_api_key="k")
    unsafe = SimpleNamespace(task_acks_late=False, task_reject_on_worker_lost=False,
                             task_acks_on_failure=True, worker_prefetch_multiplier=4)
    problems = check_celery_config(unsafe, settings)
    assert len(problems) == 4
    assert any("task_acks_late" in p for p in problems)
    safe = SimpleNamespace(task_acks_late=True, task_reject_on_worker_lost=True,
                           task_acks_on_failure=False, worker_prefetch_multiplier=1)
    assert check_celery_config(safe, settings) == []


class RecordingPublisher:
    def __init__(self, fail_after: int | None = None) -> None:
        self.published: list[str] = []
        self.fail_after = fail_after

    def publish(self, message_sid: str, conversation: str) -> bool:
        if self.fail_after is not None and len(self.published) >= self.fail_after:
            return False
        self.published.append(message_sid)
        return True


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"sbunit-{uuid.uuid4().hex[:8]}:"
    yield ConversationStore(client, prefix, HistoryLimits(20, 8000, 3600))
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


def accept(store: ConversationStore, received_at: float) -> str:
    sid = "SM" + uuid.uuid4().hex
    message = InboundMessage(sid, "AC1", "whatsapp:+15550001", "whatsapp:+15559999", "hi", "15550001",
                             received_at=received_at)
    store.accept(message, now=received_at)
    return sid


def test_the_relay_publishes_settled_entries_oldest_first_and_clears_them(store: ConversationStore) -> None:
    now = time.time()
    older, old, fresh = accept(store, now - 30), accept(store, now - 20), accept(store, now)
    publisher = RecordingPublisher()

    assert OutboxRelay(store, publisher).relay_once(settle_seconds=10) == 2

    assert publisher.published == [older, old]
    assert store.outbox_due(0) == [fresh]


def test_the_relay_stops_at_the_first_failure_and_keeps_the_rest_in_order(store: ConversationStore) -> None:
    now = time.time()
    first, second, third = (accept(store, now - 30 + i) for i in range(3))
    publisher = RecordingPublisher(fail_after=1)

    assert OutboxRelay(store, publisher).relay_once(settle_seconds=10) == 1

    assert store.outbox_due(0) == [second, third]
    assert publisher.published == [first]


def test_only_one_relay_works_at_a_time(store: ConversationStore) -> None:
    accept(store, time.time() - 30)
    first, second = RecordingPublisher(), RecordingPublisher()
    OutboxRelay(store, first).relay_once(settle_seconds=10)
    accept(store, time.time() - 30)

    assert OutboxRelay(store, second).relay_once(settle_seconds=10) == 0
    assert second.published == []
