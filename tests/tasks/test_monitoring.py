"""Where the workers' task events go (issue 13): the event bus, or nowhere when REDIS_URL is a Redis Cluster."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from switchboard.settings import Settings, get_settings
from tasks import monitoring
from tasks.celery import app
from tasks.monitoring import EVENTS_OFF, RedisEventDispatcher


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in {"TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_AUTH_TOKEN": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                        "OPENAI_API_KEY": "sk-test", "SQS_ENDPOINT_URL": "http://127.0.0.1:1"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    monitoring._say_events_are_off.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def dispatcher() -> RedisEventDispatcher:
    return RedisEventDispatcher(None, "celery@test", True, app=app)


def test_events_travel_over_redis_url_when_that_is_one_server(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("REDIS_URL", "redis://127.0.0.1:6399/0")

    made = dispatcher()

    assert made.enabled and (made.connection.hostname, made.connection.port) == ("127.0.0.1", 6399)


def test_with_a_cluster_events_go_to_their_own_redis(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("REDIS_URL", "redis+cluster://127.0.0.1:7000")
    settings_env.setenv("EVENTS_REDIS_URL", "redis://127.0.0.1:6398/2")

    made = dispatcher()

    assert made.enabled and (made.connection.hostname, made.connection.port) == ("127.0.0.1", 6398)


def test_with_a_cluster_and_no_events_redis_the_worker_sends_none_and_says_so_once(
    settings_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings_env.setenv("REDIS_URL", "redis+cluster://127.0.0.1:7000")

    with caplog.at_level(logging.WARNING, logger="tasks.monitoring"):
        made = [dispatcher(), dispatcher()]

    assert [d.enabled for d in made] == [False, False]
    made[0].send("task-succeeded", uuid="x")  # dropped, not sent anywhere (nothing listens on memory://)
    assert [record.getMessage() for record in caplog.records] == [EVENTS_OFF]
