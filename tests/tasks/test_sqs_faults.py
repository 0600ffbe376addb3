"""Unit tests for tasks.sqs_faults: poll back-off, and fault reports that are rate-limited and clear themselves."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import redis
from prometheus_client import REGISTRY
from redis.backoff import NoBackoff
from redis.retry import Retry

from localdev.redis_keys import delete_keys_with_prefix
from localdev.redis_server import redis_url_for_tests
from switchboard.store import ConversationStore, HistoryLimits
from tasks.sqs_answers import AnswerKind, QueueMissing, SqsAnswerError
from tasks.sqs_faults import FAULT_TTL_SECONDS, LOG_EVERY_SECONDS, Backoff, FaultReporter

REDIS_URL = redis_url_for_tests()


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    prefix = f"sbtest-h1-{uuid.uuid4().hex[:8]}:"
    yield ConversationStore(redis.Redis.from_url(REDIS_URL), prefix, HistoryLimits(10, 1000, 60))
    delete_keys_with_prefix(REDIS_URL, prefix)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_transient_failures_double_the_wait_up_to_the_cap_and_a_success_resets_it() -> None:
    backoff = Backoff(first=0.2, cap=10.0, rand=lambda: 1.0)

    waits = [backoff.failed("q", AnswerKind.TRANSIENT) for _ in range(8)]
    backoff.succeeded("q")

    assert waits == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0]
    assert backoff.failed("q", AnswerKind.TRANSIENT) == 0.2
    assert backoff.failed("other", AnswerKind.TRANSIENT) == 0.2  # per queue


def test_the_wait_is_jittered_but_never_zero() -> None:
    assert Backoff(first=0.2, rand=lambda: 0.0).failed("q", AnswerKind.TRANSIENT) == pytest.approx(0.1)


def test_a_configuration_fault_waits_about_five_seconds() -> None:
    waits = [Backoff(rand=lambda r=r: r).failed("q", AnswerKind.CONFIGURATION) for r in (0.0, 1.0)]

    assert waits == [pytest.approx(4.0), pytest.approx(6.0)]


def test_a_configuration_fault_is_logged_once_per_period_recorded_in_redis_and_counted(
        store: ConversationStore, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    reporter = FaultReporter(store, clock=clock)
    labels = {"action": "ReceiveMessage", "kind": "configuration"}
    before = REGISTRY.get_sample_value("switchboard_sqs_errors_total", labels) or 0.0

    with caplog.at_level(logging.ERROR, logger="tasks.sqs_faults"):
        for _ in range(5):
            reporter.failed(QueueMissing("GetQueueUrl", "sb-intake.fifo"), "ReceiveMessage", "sb-intake.fifo")
        clock.now += LOG_EVERY_SECONDS
        reporter.failed(QueueMissing("GetQueueUrl", "sb-intake.fifo"), "ReceiveMessage", "sb-intake.fifo")

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "sb-intake.fifo" in errors[0].getMessage() and "QueueDoesNotExist" in errors[0].getMessage()
    assert REGISTRY.get_sample_value("switchboard_sqs_errors_total", labels) == before + 6
    assert store.sqs_faults() == {"sb-intake.fifo": "QueueDoesNotExist on ReceiveMessage"}
    assert 0 < store.redis.ttl(store._key("sqs-fault", "sb-intake.fifo")) <= FAULT_TTL_SECONDS
    assert REGISTRY.get_sample_value("switchboard_sqs_fault",
                                     {"queue": "sb-intake.fifo", "cause": "QueueDoesNotExist"}) == 1


def test_a_good_answer_clears_the_fault_everywhere(store: ConversationStore) -> None:
    reporter = FaultReporter(store)
    reporter.failed(SqsAnswerError("ReceiveMessage", "q1", "AccessDenied", AnswerKind.CONFIGURATION),
                    "ReceiveMessage", "q1")
    reporter.failed(QueueMissing("GetQueueUrl", "q1"), "GetQueueUrl", "q1")

    reporter.succeeded("q1", "ReceiveMessage")

    assert reporter.faults() == {}
    assert store.sqs_faults() == {}
    assert REGISTRY.get_sample_value("switchboard_sqs_fault", {"queue": "q1", "cause": "AccessDenied"}) == 0


def test_a_good_answer_to_another_action_leaves_a_fault_in_place(store: ConversationStore) -> None:
    reporter = FaultReporter(store)
    reporter.failed(SqsAnswerError("SendMessage", "q2", "AccessDenied", AnswerKind.CONFIGURATION), "SendMessage", "q2")

    reporter.succeeded("q2", "ReceiveMessage")

    assert reporter.faults() == {"q2": "AccessDenied on SendMessage"}


def test_transient_answers_are_counted_but_are_no_fault(store: ConversationStore) -> None:
    reporter = FaultReporter(store)

    kind = reporter.failed(SqsAnswerError("ReceiveMessage", "q3", "ThrottlingException", AnswerKind.TRANSIENT),
                           "ReceiveMessage", "q3")

    assert kind is AnswerKind.TRANSIENT
    assert reporter.faults() == {}
    assert store.sqs_faults() == {}


def test_redis_being_down_does_not_stop_the_report() -> None:
    client = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    dead = ConversationStore(client, "x:", HistoryLimits(1, 1, 1))
    reporter = FaultReporter(dead)

    reporter.failed(QueueMissing("GetQueueUrl", "q4"), "ReceiveMessage", "q4")

    assert reporter.faults() == {"q4": "QueueDoesNotExist on ReceiveMessage"}
