"""The pipeline's one publish seam: a publish SQS does not take is owed (or, without Redis, raised), never lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from kombu import Connection

from localdev.redis_server import redis_url_for_tests
from switchboard.services import get_services
from switchboard.settings import Settings, get_settings
from switchboard.store import ConversationStore

REQUIRED = {"TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": uuid.uuid4().hex, "OPENAI_API_KEY": "sk-test"}
SID, CONVERSATION = "SM" + "5" * 32, "c0ffee" * 4
NOWHERE = "127.0.0.1:1"  # nothing listens: connection refused, as for an SQS endpoint that is down


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REDIS_URL", redis_url_for_tests())
    monkeypatch.setenv("SQS_ENDPOINT_URL", f"http://{NOWHERE}")  # a local deployment, not AWS
    monkeypatch.setenv("REDIS_KEY_PREFIX", f"sbunit-{uuid.uuid4().hex[:8]}:")
    get_settings.cache_clear()
    get_services.cache_clear()
    yield monkeypatch
    client = redis.Redis.from_url(redis_url_for_tests())
    keys = list(client.scan_iter(match=get_settings().redis_key_prefix + "*"))
    if keys:
        client.delete(*keys)
    get_settings.cache_clear()
    get_services.cache_clear()


def failing_broker() -> Connection:
    """A real kombu SQS connection (our transport) to an endpoint that refuses connections."""
    return Connection(f"sqs://key:secret@{NOWHERE}", transport="tasks.sqs_transport:Transport",
                      transport_options={"region": "us-east-1", "is_secure": False,
                                         "client-config": {"connect_timeout": 1, "retries": {"max_attempts": 1}}})


def store() -> ConversationStore:
    return get_services().store


def test_a_pipeline_publish_sqs_refuses_is_owed_from_its_stage_with_a_fresh_generation(env: pytest.MonkeyPatch) -> None:
    from tasks.pipeline import complete

    with failing_broker() as connection:
        complete.apply_async((SID, CONVERSATION), connection=connection, retry=False, owe_on_failure=True)
        first = store().owed_link(SID)
        complete.apply_async((SID, CONVERSATION), connection=connection, retry=False, owe_on_failure=True)
        second = store().owed_link(SID)

    assert first is not None and second is not None
    assert first[0] == second[0] == "complete"
    assert first[1] != second[1], "each debt needs its own deduplication generation"
    assert store().outbox_due(0) == [SID]


def test_the_webhooks_publish_sees_the_error_so_its_outbox_entry_keeps_the_message(env: pytest.MonkeyPatch) -> None:
    from tasks.pipeline import intake

    with failing_broker() as connection, pytest.raises(Exception) as raised:
        intake.apply_async((SID, CONVERSATION), connection=connection, retry=False, owe_on_failure=False)

    from tasks.owed_links import PUBLISH_ERRORS

    assert isinstance(raised.value, PUBLISH_ERRORS)
    assert store().owed_link(SID) is None


def test_without_redis_to_record_the_debt_the_publish_error_propagates_so_the_message_is_not_acked(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("REDIS_URL", f"redis://{NOWHERE}/0")
    env.setenv("REDIS_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    get_services.cache_clear()
    from tasks.owed_links import PUBLISH_ERRORS
    from tasks.pipeline import reply

    with failing_broker() as connection, pytest.raises(PUBLISH_ERRORS):
        reply.apply_async((SID, CONVERSATION), connection=connection, retry=False, owe_on_failure=True)


def test_outside_a_running_task_a_publish_is_not_owed_unless_asked(env: pytest.MonkeyPatch) -> None:
    from tasks.owed_links import PUBLISH_ERRORS
    from tasks.pipeline import complete

    with failing_broker() as connection, pytest.raises(PUBLISH_ERRORS):
        complete.apply_async((SID, CONVERSATION), connection=connection, retry=False)

    assert store().owed_link(SID) is None
