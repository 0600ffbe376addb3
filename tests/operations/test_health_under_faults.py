"""/readyz and /metrics while SQS hangs or Redis is gone, and who may read /metrics."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from localdev.polling import wait_for
from localdev.processes import free_port
from switchboard.settings import ConfigError, get_settings, load_settings
from webapp import create_app

pytestmark = pytest.mark.integration

METRICS_TOKEN = "metrics-" + "7" * 24


class HangingEndpoint:
    """A TCP server that accepts every connection and never answers a byte: SQS at its worst."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self._held)

    def _accept_forever(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            with self._lock:
                self._held.append(connection)

    def close(self) -> None:
        self._server.close()
        with self._lock:
            for connection in self._held:
                connection.close()


@pytest.fixture
def hanging_sqs() -> Iterator[HangingEndpoint]:
    endpoint = HangingEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def make_app(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """create_app() as gunicorn runs it, with some variables changed; background watches stopped after."""
    apps: list[Flask] = []

    def make(**env: str) -> Flask:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            app = create_app({"TESTING": True})
        get_settings.cache_clear()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.config["QUEUE_WATCH"].stop()


def sqs_state(app: Flask) -> str:
    return str(app.test_client().get("/readyz").get_json()["checks"]["sqs"])


def test_readyz_and_metrics_answer_from_the_last_check_while_an_sqs_call_hangs(
    make_app: Any, hanging_sqs: HangingEndpoint,
) -> None:
    app = make_app(SQS_ENDPOINT_URL=hanging_sqs.url)
    client = app.test_client()

    first = client.get("/readyz")  # starts this process's watch; does not wait for it
    wait_for(lambda: hanging_sqs.accepted >= 1, timeout=10, message="the watch to be inside an unanswered SQS call")

    # The watch's call is still unanswered: whatever the request threads answer, they did not wait for it.
    during = client.get("/readyz")
    metrics = client.get("/metrics")
    for response in (first, during):
        assert response.status_code == 200
        assert response.get_json()["ready"] is True
        assert response.get_json()["checks"]["redis"] == "ok"
        assert response.get_json()["checks"]["sqs"].startswith("unknown")
    assert metrics.status_code == 200
    assert "switchboard_outbox_messages" in metrics.get_data(as_text=True)
    assert "switchboard_sqs_messages{" not in metrics.get_data(as_text=True)


def test_a_failed_sqs_check_is_cached_and_reported_without_the_endpoint(
    make_app: Any, hanging_sqs: HangingEndpoint,
) -> None:
    app = make_app(SQS_ENDPOINT_URL=hanging_sqs.url)
    client = app.test_client()
    wait_for(lambda: not sqs_state(app).startswith("unknown"), timeout=30, message="the SQS check to give up")
    connections = hanging_sqs.accepted

    answers = [client.get("/readyz") for _ in range(10)]
    scrape = client.get("/metrics").get_data(as_text=True)

    for answer in answers:
        assert answer.status_code == 200  # SQS down: the outbox takes the messages, so still ready
        assert answer.get_json() == {"ready": True, "checks": {"redis": "ok", "sqs": "unreachable"}}
        assert str(hanging_sqs.port) not in answer.get_data(as_text=True)
    assert "switchboard_sqs_reachable 0.0" in scrape
    # Eleven requests, and SQS was not asked once per request: the failure came from the cache.
    assert hanging_sqs.accepted - connections < 10


def test_the_web_tier_is_not_ready_when_redis_is_down_and_does_not_say_where_redis_is(make_app: Any) -> None:
    port = free_port()
    response = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0").test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["ready"] is False
    assert response.get_json()["checks"]["redis"] == "unreachable"
    assert str(port) not in response.get_data(as_text=True)


def test_metrics_need_the_bearer_token_when_one_is_set(make_app: Any) -> None:
    client = make_app(METRICS_BEARER_TOKEN=METRICS_TOKEN).test_client()

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-of-some-length"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status_code == 200
    assert "switchboard_outbox_messages" in allowed.get_data(as_text=True)


def test_metrics_are_not_served_on_aws_without_a_bearer_token(pipeline_env: dict[str, str]) -> None:
    production = get_settings().model_copy(update={
        "sqs_endpoint_url": None, "metrics_bearer_token": None, "public_base_url": "https://bot.example.com",
    })
    app = create_app({"TESTING": True, "SETTINGS": production})
    try:
        assert app.test_client().get("/metrics").status_code == 404
    finally:
        app.config["QUEUE_WATCH"].stop()


def test_a_short_metrics_token_is_refused_at_start_up(pipeline_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="METRICS_BEARER_TOKEN"):
        load_settings(metrics_bearer_token="short")
