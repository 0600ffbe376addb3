"""POST /twilio/messages: accept once, hand over, acknowledge with empty TwiML; refuse what is not ours."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from localdev.redis_server import redis_url_for_tests
from switchboard.domain.inbound import InboundMessage
from switchboard.settings import ConfigError
from tests.webapp.redis_proxy import ReplySwallowingProxy
from tests.webapp.twilio_requests import WEBHOOK_URL, HandOver, post, post_signed, sign, twilio_form


def test_an_accepted_message_is_acknowledged_with_empty_twiml(app: Flask, hand_over: HandOver) -> None:
    form = twilio_form()

    response = post_signed(app.test_client(), form)

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response />")
    key = app.config["SETTINGS"].conversation_key()
    conversation = InboundMessage.from_twilio_form(form, conversation_key=key).conversation_id  # type: ignore[arg-type]
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


# --- replays, forged fields and lost answers (issue 9) ---------------------------------------------


def test_a_replay_with_a_field_shifted_into_the_message_sid_is_a_bad_request(
    client: FlaskClient, hand_over: HandOver
) -> None:
    original = twilio_form()
    assert post_signed(client, original).status_code == 200
    shifted = {k: v for k, v in original.items() if k != "NumMedia"}
    shifted["MessageSid"] = f"{original['MessageSid']}NumMedia0"
    assert sign(WEBHOOK_URL, shifted) == sign(WEBHOOK_URL, original)  # the captured signature still fits

    assert post(client, shifted, sign(WEBHOOK_URL, original)).status_code == 400
    assert hand_over.sids == [original["MessageSid"]]


def test_a_form_without_account_sid_is_a_bad_request(client: FlaskClient, hand_over: HandOver) -> None:
    form = {k: v for k, v in twilio_form().items() if k != "AccountSid"}

    assert post_signed(client, form).status_code == 400
    assert hand_over.calls == []


def test_a_replay_after_the_record_expired_is_still_a_duplicate(app: Flask, hand_over: HandOver) -> None:
    form = twilio_form()
    store = app.config["STORE"]
    assert post_signed(app.test_client(), form).status_code == 200
    store.redis.delete(store._msg(form["MessageSid"]))  # what MESSAGE_TTL_SECONDS does, later

    assert post_signed(app.test_client(), form).status_code == 200
    assert hand_over.sids == [form["MessageSid"]]


def test_the_claim_lives_far_longer_than_the_record(make_app: Callable[..., Flask]) -> None:
    app = make_app(message_ttl_seconds=5 * 24 * 3600, outbox_max_wait_seconds=3600,
                   message_claim_ttl_seconds=90 * 24 * 3600, history_ttl_seconds=3600)
    form = twilio_form()
    store = app.config["STORE"]

    post_signed(app.test_client(), form)

    record_ttl = store.redis.ttl(store._msg(form["MessageSid"]))
    claim_ttl = store.redis.ttl(store._claim(form["MessageSid"]))
    assert 5 * 24 * 3600 - 60 < record_ttl <= 5 * 24 * 3600
    assert 90 * 24 * 3600 - 60 < claim_ttl <= 90 * 24 * 3600


@pytest.fixture
def redis_proxy() -> Iterator[ReplySwallowingProxy]:
    proxy = ReplySwallowingProxy()
    yield proxy
    proxy.close()


def test_a_webhook_whose_redis_answer_was_lost_is_handed_over_when_twilio_retries(
    make_app: Callable[..., Flask], hand_over: HandOver, redis_proxy: ReplySwallowingProxy
) -> None:
    app = make_app(redis_url=redis_proxy.url, redis_timeout_seconds=1)
    client = app.test_client()
    assert post_signed(client, twilio_form()).status_code == 200  # the script is loaded; connections open
    form = twilio_form()

    # The SID placed in the sid index first (its own step), so the answer lost is the accept script's.
    message = InboundMessage.from_twilio_form(form, conversation_key=app.config["SETTINGS"].conversation_key())
    app.config["STORE"]._place(form["MessageSid"], message.conversation_id, 60)
    redis_proxy.swallow.set()  # Redis runs the script; its answer never arrives
    assert post_signed(client, form).status_code == 503
    redis_proxy.swallow.clear()
    direct = redis.Redis.from_url(redis_url_for_tests())
    store = app.config["STORE"]
    assert direct.exists(store._msg(form["MessageSid"]))  # it was stored nonetheless
    assert form["MessageSid"] not in hand_over.sids

    assert post_signed(client, form).status_code == 200  # the retry finds the claim
    assert hand_over.sids.count(form["MessageSid"]) == 1
    assert store.outbox_due(0) == []
    assert post_signed(client, form).status_code == 200  # and a further retry is a plain duplicate
    assert hand_over.sids.count(form["MessageSid"]) == 1
    direct.close()


# --- start-up on AWS, proxies ---------------------------------------------------------------------


def test_on_aws_the_web_refuses_to_start_without_public_base_url_or_trusted_proxy_hops(
    make_app: Callable[..., Flask]
) -> None:
    aws = {"sqs_endpoint_url": None, "conversation_id_secret": "s" * 32}
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL or TRUSTED_PROXY_HOPS"):
        make_app(**aws)

    assert make_app(**aws, public_base_url="https://bot.example.com")
    assert make_app(**aws, trusted_proxy_hops=1)
