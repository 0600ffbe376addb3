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
from prometheus_client import REGISTRY

from localdev.redis_server import redis_url_for_tests
from switchboard.domain.inbound import InboundMessage
from switchboard.settings import load_settings
from switchboard.store import ConversationStore, HistoryLimits
from tasks.outbox_relay import OutboxRelay
from tasks.pipeline_task import receive_count
from tasks.publishing import PublishOutcome
from tasks.sqs_answers import AnswerKind
from tasks.sqs_transport import Channel
from tasks.startup_check import check_celery_config
from tasks.visibility import VisibilityHeartbeat


class RecordingSqs:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Successful": [{"Id": entry["Id"]} for entry in kwargs["Entries"]], "Failed": []}


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
    settings = load_settings(twilio_account_sid="AC" + "0" * 32, twilio_auth_token="a1b2c3d4" * 4, openai_api_key="k",
                             conversation_id_secret="k" * 32)
    unsafe = SimpleNamespace(task_acks_late=False, task_reject_on_worker_lost=False,
                             task_acks_on_failure=True, worker_prefetch_multiplier=4)
    problems = check_celery_config(unsafe, settings)
    assert len(problems) == 4
    assert any("task_acks_late" in p for p in problems)
    safe = SimpleNamespace(task_acks_late=True, task_reject_on_worker_lost=True,
                           task_acks_on_failure=False, worker_prefetch_multiplier=1)
    assert check_celery_config(safe, settings) == []


class RecordingPublisher:
    """Publishes (records) until `fail_after` publishes, then answers like SQS would with `failure`."""

    def __init__(self, fail_after: int | None = None, failure: AnswerKind = AnswerKind.TRANSIENT,
                 refuse: set[str] | None = None) -> None:
        self.published: list[tuple[str, str, str]] = []
        self.fail_after = fail_after
        self.failure = failure
        self.refuse = refuse or set()

    def send(self, message_sid: str, conversation: str, start: str = "intake", generation: str = "") -> PublishOutcome:
        if message_sid in self.refuse:
            return PublishOutcome(False, AnswerKind.REJECTED, "InvalidParameterValue")
        if self.fail_after is not None and len(self.published) >= self.fail_after:
            return PublishOutcome(False, self.failure, "ThrottlingException")
        self.published.append((message_sid, start, generation))
        return PublishOutcome(True)

    def sids(self) -> list[str]:
        return [sid for sid, _, _ in self.published]


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    client = redis.Redis.from_url(redis_url_for_tests())
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

    assert publisher.published == [(older, "intake", ""), (old, "intake", "")]
    assert store.outbox_due(0) == [fresh]


def test_the_relay_stops_at_the_first_failure_and_keeps_the_rest_in_order(store: ConversationStore) -> None:
    now = time.time()
    first, second, third = (accept(store, now - 30 + i) for i in range(3))
    publisher = RecordingPublisher(fail_after=1)

    assert OutboxRelay(store, publisher).relay_once(settle_seconds=10) == 1

    assert store.outbox_due(0) == [second, third]
    assert publisher.sids() == [first]


def test_only_one_relay_works_at_a_time(store: ConversationStore) -> None:
    accept(store, time.time() - 30)
    first, second = RecordingPublisher(), RecordingPublisher()
    OutboxRelay(store, first).relay_once(settle_seconds=10)
    accept(store, time.time() - 30)

    assert OutboxRelay(store, second).relay_once(settle_seconds=10) == 0
    assert second.published == []


def test_the_relay_stops_at_a_configuration_fault_too(store: ConversationStore) -> None:
    now = time.time()
    first, second = accept(store, now - 30), accept(store, now - 29)
    publisher = RecordingPublisher(fail_after=0, failure=AnswerKind.CONFIGURATION)

    assert OutboxRelay(store, publisher).relay_once(settle_seconds=10) == 0

    assert store.outbox_due(0) == [first, second]
    assert store.parked() == []


def test_an_entry_sqs_refuses_is_parked_and_the_relay_goes_on_with_later_ones(store: ConversationStore) -> None:
    now = time.time()
    first, refused, third = (accept(store, now - 30 + i) for i in range(3))
    publisher = RecordingPublisher(refuse={refused})
    parked_before = REGISTRY.get_sample_value("switchboard_outbox_parked_total") or 0.0

    assert OutboxRelay(store, publisher).relay_once(settle_seconds=10) == 2

    assert publisher.sids() == [first, third]
    assert store.outbox_due(0) == []
    assert store.parked() == [refused]
    assert REGISTRY.get_sample_value("switchboard_outbox_parked_total") == parked_before + 1
    # Once the cause is fixed, an operator puts it back in the outbox, first in line.
    assert store.unpark(refused)
    assert store.outbox_due(0) == [refused] and store.parked() == []


def test_an_owed_link_is_published_from_its_stage_under_its_own_generation(store: ConversationStore) -> None:
    sid = accept(store, time.time() - 30)
    store.outbox_remove(sid)  # the webhook's publish went through; then a task could not publish `complete`
    generation = store.owe_link(sid, "complete", due_at=time.time() - 30)
    publisher = RecordingPublisher()

    assert OutboxRelay(store, publisher).relay_once(settle_seconds=10) == 1

    assert publisher.published == [(sid, "complete", generation)]
    assert store.owed_link(sid) is None and store.outbox_due(0) == []


def test_a_debt_recorded_while_the_relay_publishes_an_older_one_is_kept(store: ConversationStore) -> None:
    sid = accept(store, time.time() - 30)
    older = ("complete", store.owe_link(sid, "complete", due_at=0))
    newer = store.owe_link(sid, "reply", due_at=0)

    assert not store.outbox_clear(sid, older)
    assert store.owed_link(sid) == ("reply", newer)
    assert store.outbox_due(0) == [sid]
    # The webhook clearing its own entry late must not drop a worker's debt either.
    store.outbox_remove(sid)
    assert store.outbox_due(0) == [sid]
