"""/readyz, /metrics and the delivery-status callback, against real Redis and moto's SQS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from localdev.polling import wait_for
from switchboard.settings import get_settings
from tests.harness.pipeline import WebhookSender, new_user
from webapp import create_app

pytestmark = pytest.mark.integration

STATUS_URL = "http://localhost/twilio/status"


@pytest.fixture
def client(pipeline_env: dict[str, str]) -> Iterator[FlaskClient]:
    handed_over: list[str] = []
    app = create_app({"TESTING": True, "HAND_OVER": lambda sid, conversation: handed_over.append(sid) or True})
    with app.test_client() as test_client:
        yield test_client


def sender_for(client: FlaskClient) -> WebhookSender:
    """Signs like Twilio, posts through Flask's test client instead of the network."""
    def post(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, str]:
        response = client.post("/twilio/messages", data=dict(form), headers=dict(headers))
        return response.status_code, response.get_data(as_text=True)

    settings = get_settings()
    return WebhookSender("http://localhost/twilio/messages", settings.twilio_account_sid,
                         settings.twilio_auth_token.get_secret_value(), post=post)


def signed_post(client: FlaskClient, url: str, form: dict[str, str]) -> int:
    token = get_settings().twilio_auth_token.get_secret_value()
    signature = RequestValidator(token).compute_signature(url, form)
    return client.post(url.removeprefix("http://localhost"), data=form,
                       headers={"X-Twilio-Signature": signature}).status_code


def readyz_once_sqs_is_checked(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    """/readyz after the background SQS check has reported (the first answers say 'unknown')."""
    def checked() -> tuple[int, dict[str, Any]] | None:
        response = client.get("/readyz")
        body = response.get_json()
        return None if body["checks"]["sqs"].startswith("unknown") else (response.status_code, body)

    return wait_for(checked, timeout=20, message="the background SQS check to report")


def test_it_is_ready_when_redis_and_the_queues_answer(client: FlaskClient) -> None:
    assert readyz_once_sqs_is_checked(client) == (200, {"ready": True, "checks": {"redis": "ok", "sqs": "ok"}})


def test_it_stays_ready_and_says_so_when_the_queues_do_not_exist(pipeline_env: dict[str, str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The outbox holds what SQS cannot take; taking the web tier out would only turn messages into 503s.
    monkeypatch.setenv("SQS_QUEUE_PREFIX", "never-initialised-")
    get_settings.cache_clear()
    try:
        status, body = readyz_once_sqs_is_checked(create_app({"TESTING": True}).test_client())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert status == 200 and body["ready"] is True
    assert "queues init" in body["checks"]["sqs"]


def test_metrics_count_webhooks_by_outcome_and_show_queue_depths(client: FlaskClient) -> None:
    sender = sender_for(client)
    before = client.get("/metrics").get_data(as_text=True)
    assert sender.send("hi", new_user())[0] == 200
    assert client.post("/twilio/messages", data={"From": "x"}).status_code == 403

    def with_depths() -> str | None:
        body = client.get("/metrics").get_data(as_text=True)
        return body if "switchboard_sqs_messages{" in body else None

    text = wait_for(with_depths, timeout=20, message="queue depths in /metrics")

    def value(line_start: str, body: str) -> float:
        lines = [line for line in body.splitlines() if line.startswith(line_start)]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    assert value('switchboard_webhook_requests_total{outcome="queued"}', text) == \
        value('switchboard_webhook_requests_total{outcome="queued"}', before) + 1
    assert value('switchboard_webhook_requests_total{outcome="forbidden"}', text) == \
        value('switchboard_webhook_requests_total{outcome="forbidden"}', before) + 1
    assert 'switchboard_sqs_messages{queue="intake.fifo",state="visible"}' in text
    assert "switchboard_sqs_reachable 1.0" in text
    assert "switchboard_outbox_messages" in text
    assert "switchboard_webhook_latency_seconds_bucket" in text


def test_delivery_status_keeps_the_furthest_status_of_a_sent_part(client: FlaskClient) -> None:
    store = client.application.config["STORE"]
    sender = sender_for(client)
    form = sender.form("hi", new_user())
    assert sender.post_form(form)[0] == 200
    message = store.load(form["MessageSid"])
    store.record_part_sent(message, 0, "SM" + "f" * 32)

    for status in ("sent", "delivered", "sent"):  # the late "sent" must not undo "delivered"
        assert signed_post(client, STATUS_URL, {"MessageSid": "SM" + "f" * 32, "MessageStatus": status}) == 204

    assert store.delivery("SM" + "f" * 32)["status"] == "delivered"
    assert signed_post(client, STATUS_URL, {"MessageSid": "SM" + "f" * 32, "MessageStatus": "failed",
                                            "ErrorCode": "30008"}) == 204
    assert store.delivery("SM" + "f" * 32)["error_code"] == "30008"


def test_delivery_status_needs_a_valid_signature_and_its_fields(client: FlaskClient) -> None:
    assert client.post("/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "sent"}).status_code == 403
    assert signed_post(client, STATUS_URL, {"MessageSid": "SM1"}) == 400
