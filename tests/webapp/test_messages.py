"""POST /twilio/messages: accept once, hand over, acknowledge with empty TwiML; refuse what is not ours."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from switchboard.inbound import InboundMessage
from tests.webapp.twilio_requests import HandOver, post_signed, twilio_form


def test_an_accepted_message_is_acknowledged_with_empty_twiml(client: FlaskClient, hand_over: HandOver) -> None:
    form = twilio_form()

    response = post_signed(client, form)

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response />")
    conversation = InboundMessage.from_twilio_form(form).conversation_id  # type: ignore[arg-type]
    assert hand_over.calls == [(form["MessageSid"], conversation)]


def test_the_message_is_stored_and_leaves_the_outbox_once_handed_over(app: Flask) -> None:
    form = twilio_form(Body="What is the capital of France?")

    post_signed(app.test_client(), form)

    store = app.config["STORE"]
    assert store.load(form["MessageSid"]).inbound.body == "What is the capital of France?"
    assert store.outbox_due(0) == []


def test_a_form_without_from_is_a_bad_request(client: FlaskClient, hand_over: HandOver) -> None:
    form = {k: v for k, v in twilio_form().items() if k != "From"}

    assert post_signed(client, form).status_code == 400
    assert hand_over.calls == []


def test_a_form_without_message_sid_is_a_bad_request(client: FlaskClient, hand_over: HandOver) -> None:
    form = {k: v for k, v in twilio_form().items() if k != "MessageSid"}

    assert post_signed(client, form).status_code == 400
    assert hand_over.calls == []


def test_a_message_for_another_account_is_forbidden(client: FlaskClient, hand_over: HandOver) -> None:
    response = post_signed(client, twilio_form(AccountSid="AC" + "9" * 32))

    assert response.status_code == 403
    assert hand_over.calls == []


def test_a_repeated_message_sid_is_acknowledged_but_handed_over_once(client: FlaskClient, hand_over: HandOver) -> None:
    form = twilio_form()

    assert post_signed(client, form).status_code == 200
    assert post_signed(client, form).status_code == 200
    assert hand_over.sids == [form["MessageSid"]]


def test_a_failed_hand_over_still_acknowledges_and_keeps_the_message_in_the_outbox(
    app: Flask, hand_over: HandOver
) -> None:
    hand_over.result = False
    form = twilio_form()

    assert post_signed(app.test_client(), form).status_code == 200
    assert app.config["STORE"].outbox_due(0) == [form["MessageSid"]]


def test_an_unreachable_redis_answers_503(make_app: Callable[..., Flask], hand_over: HandOver) -> None:
    client = make_app(redis_url="redis://127.0.0.1:1/0", redis_timeout_seconds=1).test_client()

    assert post_signed(client, twilio_form()).status_code == 503
    assert hand_over.calls == []


def test_a_body_over_64_kib_is_too_large(client: FlaskClient, hand_over: HandOver) -> None:
    response = post_signed(client, twilio_form(Body="x" * (64 * 1024 + 1)))

    assert response.status_code == 413
    assert hand_over.calls == []
    assert post_signed(client, twilio_form(Body="x" * (32 * 1024))).status_code == 200


def test_a_get_is_not_allowed(client: FlaskClient) -> None:
    assert client.get("/twilio/messages").status_code == 405


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
