"""The Twilio stand-in's numbers, WhatsApp senders and messaging services, as the real twilio SDK reads them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from localdev.standins.serving import serve_in_thread
from localdev.standins.twilio_api import create_twilio_standin
from localdev.standins.twilio_numbers import configure_numbers
from tests.harness.standins import RunningStandin, twilio_sdk

SMS_NUMBER = "+15005550006"
SENDER = "whatsapp:+14155550100"


def put_number(standin: RunningStandin, address: str, url: str, **fields: str) -> None:
    response = requests.post(f"{standin.base_url}/_standin/numbers", json={"address": address, "url": url, **fields},
                             timeout=5)
    assert response.status_code == 201, response.text


@pytest.fixture
def sdk(twilio_standin: RunningStandin) -> Client:
    client = twilio_sdk(twilio_standin)
    client.messaging.base_url = twilio_standin.base_url  # it plays messaging.twilio.com too
    return client


def test_it_lists_a_number_with_its_incoming_message_webhook(sdk: Client, twilio_standin: RunningStandin) -> None:
    put_number(twilio_standin, SMS_NUMBER, "https://bot.example.com/twilio/messages", method="GET")
    put_number(twilio_standin, "+15005550007", "https://other.example.com/sms")

    [number] = sdk.incoming_phone_numbers.list(phone_number=SMS_NUMBER)

    assert (number.phone_number, number.sms_url, number.sms_method) == (
        SMS_NUMBER, "https://bot.example.com/twilio/messages", "GET")
    assert number.sid.startswith("PN") and number.sms_application_sid == ""


def test_it_lists_whatsapp_senders_with_their_webhooks_through_the_senders_api(
        sdk: Client, twilio_standin: RunningStandin) -> None:
    put_number(twilio_standin, SENDER, "https://bot.example.com/twilio/messages",
               status_callback="https://bot.example.com/twilio/status")
    put_number(twilio_standin, SMS_NUMBER, "https://bot.example.com/twilio/messages")  # not a sender

    senders = list(sdk.messaging.v2.channels_senders.stream(channel="whatsapp"))

    assert [s.sender_id for s in senders] == [SENDER]
    webhook = senders[0].webhook
    assert isinstance(webhook, dict)
    assert (webhook["callback_url"], webhook["callback_method"], webhook["status_callback_url"]) == (
        "https://bot.example.com/twilio/messages", "POST", "https://bot.example.com/twilio/status")


def test_it_serves_a_messaging_service_and_answers_404_for_another(
        sdk: Client, twilio_standin: RunningStandin) -> None:
    sid = "MG" + uuid.uuid4().hex
    response = requests.post(f"{twilio_standin.base_url}/_standin/services", timeout=5, json={
        "sid": sid, "inbound_request_url": "https://bot.example.com/twilio/messages",
        "use_inbound_webhook_on_number": True})
    assert response.status_code == 201

    service = sdk.messaging.v1.services(sid).fetch()

    assert (service.inbound_request_url, service.use_inbound_webhook_on_number) == (
        "https://bot.example.com/twilio/messages", True)
    with pytest.raises(TwilioRestException) as refused:
        sdk.messaging.v1.services("MG" + uuid.uuid4().hex).fetch()
    assert (refused.value.status, refused.value.code) == (404, 20404)


def test_it_refuses_another_auth_token(twilio_standin: RunningStandin) -> None:
    # A list page's refusal is a bare TwilioException carrying the response, as with Twilio itself.
    with pytest.raises(TwilioException) as refused:
        twilio_sdk(twilio_standin, auth_token=uuid.uuid4().hex).incoming_phone_numbers.list()
    assert refused.value.args[1].status_code == 401


@pytest.fixture
def configured() -> Iterator[RunningStandin]:
    """A stand-in of its own, started with one sender pointing at a deployment (as `--numbers` does)."""
    account_sid, auth_token = "AC" + uuid.uuid4().hex, uuid.uuid4().hex
    app = create_twilio_standin(account_sid, auth_token)
    configure_numbers(app, [SENDER], "http://127.0.0.1:8000")
    base_url, stop = serve_in_thread(app)
    standin = RunningStandin(base_url, None, stop, account_sid, auth_token)  # type: ignore[arg-type]
    yield standin
    stop()


def test_a_reset_goes_back_to_the_numbers_it_started_with(configured: RunningStandin) -> None:
    sdk = twilio_sdk(configured)
    sdk.messaging.base_url = configured.base_url
    put_number(configured, SENDER, "https://wrong.example.com/")

    requests.post(f"{configured.base_url}/_standin/reset", timeout=5).raise_for_status()

    [sender] = sdk.messaging.v2.channels_senders.list(channel="whatsapp")
    assert sender.webhook["callback_url"] == "http://127.0.0.1:8000/twilio/messages"  # type: ignore[index]
    assert sender.webhook["status_callback_url"] == "http://127.0.0.1:8000/twilio/status"  # type: ignore[index]
