"""The Twilio stand-in's delivery model, driven through the real twilio SDK: queued, sent, delivered; signed
status callbacks; Content templates checked as Twilio checks them."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from localdev.polling import wait_for
from tests.harness.standins import RunningStandin

USER = "whatsapp:+15551230001"
BOT = "whatsapp:+14155550100"
CONTENT_SID = "HX" + "a" * 32


def test_a_created_message_is_queued_then_sent_then_delivered(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.set_sent_delay(0.2)
    created = twilio.messages.create(to=USER, from_=BOT, body="hello")

    assert created.status == "queued" and twilio.messages(created.sid).fetch().status == "queued"
    sent = wait_for(lambda: (m := twilio.messages(created.sid).fetch()).status == "sent" and m, timeout=10,
                    message="sent")
    assert sent.date_sent is not None
    wait_for(lambda: twilio.messages(created.sid).fetch().status == "delivered", timeout=10, message="delivered")
    assert [m.status for m in twilio.messages.list(to=USER)] == ["delivered"]
    [record] = twilio_standin.client.messages()
    assert record["created_at"] < record["sent_at"] < record["delivered_at"]


def test_each_status_is_posted_to_the_status_callback_signed_like_twilio(
    twilio: Client, twilio_standin: RunningStandin, httpserver: HTTPServer
) -> None:
    url = httpserver.url_for("/twilio/status")
    httpserver.expect_request("/twilio/status", method="POST").respond_with_data("", status=204)
    created = twilio.messages.create(to=USER, from_=BOT, body="hello", status_callback=url)

    def both() -> list[dict[str, Any]] | None:
        callbacks = twilio_standin.client.callbacks()
        return callbacks if len(callbacks) == 2 else None

    callbacks = wait_for(both, timeout=10, message="two status callbacks")

    assert [c["params"]["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    assert {c["status_code"] for c in callbacks} == {204}
    first = callbacks[0]["params"]
    assert (first["MessageSid"], first["SmsSid"], first["AccountSid"]) == (created.sid, created.sid,
                                                                         twilio_standin.account_sid)
    assert (first["To"], first["From"], first["ChannelPrefix"]) == (USER, BOT, "whatsapp")
    validator = RequestValidator(twilio_standin.auth_token)
    for request, _ in httpserver.log:
        assert validator.validate(url, request.form, request.headers["X-Twilio-Signature"])


def test_a_reset_stops_reports_still_to_come(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.set_sent_delay(0.2)  # its reports would be posted (and fail) at 0.2 s and 0.4 s
    twilio.messages.create(to=USER, from_=BOT, body="hello", status_callback="http://127.0.0.1:9/status")

    twilio_standin.client.reset()

    twilio_standin.client.set_sent_delay(0.4)
    created = twilio.messages.create(to=USER, from_=BOT, body="after the reset")  # delivered after 0.8 s
    wait_for(lambda: twilio.messages(created.sid).fetch().status == "delivered", timeout=10, message="delivered")
    assert twilio_standin.client.callbacks() == []


def test_a_template_needs_no_body_and_is_listed_with_its_variables(twilio: Client,
                                                                    twilio_standin: RunningStandin) -> None:
    created = twilio.messages.create(to=USER, from_=BOT, content_sid=CONTENT_SID,
                                     content_variables='{"1": "Ada", "2": "your answer"}')

    assert created.body == "Ada\nyour answer"
    [record] = twilio_standin.client.messages()
    assert (record["content_sid"], record["content_variables"]) == (CONTENT_SID, '{"1": "Ada", "2": "your answer"}')


@pytest.mark.parametrize(("options", "code"), [
    ({"content_variables": '{"1": "x"}', "body": "hi"}, 21654),
    ({"content_sid": "HX123"}, 21655),
    ({"content_sid": CONTENT_SID, "content_variables": "not json"}, 21656),
    ({"content_sid": CONTENT_SID, "content_variables": '{"1": ""}'}, 21656),
    ({"content_sid": CONTENT_SID, "content_variables": '{"a-key-longer-than-16": "x"}'}, 21656),
    ({}, 21602),
])
def test_it_refuses_content_twilio_would_refuse(twilio: Client, options: dict[str, str], code: int) -> None:
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(to=USER, from_=BOT, **options)

    assert (caught.value.status, caught.value.code) == (400, code)
