"""The Twilio stand-in, driven through the real twilio SDK and, for the wire format, plain HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from localdev.polling import wait_for
from tests.harness.standins import RunningStandin, twilio_sdk

USER = "whatsapp:+15551230001"
BOT = "whatsapp:+14155550100"


def send(client: Client, body: str = "hello", to: str = USER) -> str:
    return str(client.messages.create(to=to, from_=BOT, body=body).sid)


def test_it_answers_create_with_a_message_resource_the_sdk_parses(twilio: Client, twilio_standin: RunningStandin) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    message = twilio.messages.create(to=USER, from_=BOT, body="hello")

    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.to, message.from_, message.body) == (USER, BOT, "hello")
    assert (message.status, message.direction, message.api_version) == ("queued", "outbound-api", "2010-04-01")
    assert message.account_sid == twilio_standin.account_sid
    assert message.num_segments == "1" and message.error_code is None and message.date_sent is None
    assert message.date_created is not None and before <= message.date_created <= datetime.now(UTC)
    assert message.uri == f"/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages/{message.sid}.json"


def test_it_records_sent_messages_in_order(twilio: Client, twilio_standin: RunningStandin) -> None:
    sids = [send(twilio, "first"), send(twilio, "second", to="+15551230002")]

    recorded = twilio_standin.client.messages()
    assert [(m["sid"], m["body"]) for m in recorded] == list(zip(sids, ["first", "second"], strict=True))
    assert recorded[1]["to"] == "+15551230002" and recorded[1]["from"] == BOT
    assert all(datetime.fromisoformat(m["received_at"]).tzinfo for m in recorded)


def test_it_records_every_one_of_many_concurrent_sends(twilio_standin: RunningStandin) -> None:
    clients = [twilio_sdk(twilio_standin) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        sids = list(pool.map(lambda n: send(clients[n % 8], f"part {n}"), range(40)))

    recorded = twilio_standin.client.messages()
    assert len(set(sids)) == 40
    assert sorted(m["sid"] for m in recorded) == sorted(sids)


def test_it_accepts_a_messaging_service_instead_of_a_sender(twilio: Client, twilio_standin: RunningStandin) -> None:
    service = "MG" + "a" * 32
    message = twilio.messages.create(
        to=USER, messaging_service_sid=service, body="hi", status_callback="http://127.0.0.1:9/status"
    )

    assert (message.status, message.from_, message.messaging_service_sid) == ("accepted", None, service)
    [recorded] = twilio_standin.client.messages()
    assert recorded["messaging_service_sid"] == service
    assert recorded["status_callback"] == "http://127.0.0.1:9/status"


def test_it_rejects_bad_basic_auth(twilio_standin: RunningStandin) -> None:
    with pytest.raises(TwilioRestException) as caught:
        send(twilio_sdk(twilio_standin, auth_token="wrong-token"))

    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert twilio_standin.client.messages() == [] and twilio_standin.client.requests() == []


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [("+15551230001", "x" * 1601, 21617), ("not-a-number", "hi", 21211), ("+15551230001", "", 21602)],
)
def test_it_refuses_messages_twilio_would_refuse(twilio: Client, to: str, body: str, code: int) -> None:
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(to=to, from_=BOT, body=body)

    assert (caught.value.status, caught.value.code) == (400, code)


def test_an_injected_21610_raises_with_that_code_once(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.fail(400, twilio_code=21610)

    with pytest.raises(TwilioRestException) as caught:
        send(twilio)
    assert (caught.value.status, caught.value.code) == (400, 21610)
    assert send(twilio).startswith("SM")
    assert len(twilio_standin.client.messages()) == 1


def test_an_injected_429_fails_the_next_n_requests(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.fail(429, times=2)

    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            send(twilio)
        assert (caught.value.status, caught.value.code) == (429, 20429)
    send(twilio)
    assert len(twilio_standin.client.requests()) == 3


def test_a_fault_with_times_minus_one_lasts_until_reset(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.fail(503, times=-1)
    for _ in range(3):
        with pytest.raises(TwilioRestException):
            send(twilio)

    twilio_standin.client.reset()
    assert send(twilio).startswith("SM")


def test_its_errors_use_twilios_json_shape_and_retry_after(twilio_standin: RunningStandin) -> None:
    twilio_standin.client.fail(429, retry_after=2, message="slow down")
    url = f"{twilio_standin.base_url}/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json"

    response = requests.post(
        url, data={"To": USER, "From": BOT, "Body": "x"}, auth=(twilio_standin.account_sid, twilio_standin.auth_token)
    )

    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert response.json() == {
        "code": 20429, "message": "slow down", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429,
    }


def test_a_stall_longer_than_the_client_timeout_times_out(twilio_standin: RunningStandin) -> None:
    twilio_standin.client.stall(5)

    with pytest.raises(requests.exceptions.ReadTimeout):
        send(twilio_sdk(twilio_standin, timeout=0.5))
    wait_for(twilio_standin.client.requests, timeout=2, message="the stalled request to be recorded")
    assert twilio_standin.client.messages() == []  # still stalled: nothing sent yet


def test_it_refuses_a_fault_with_an_unknown_field(twilio_standin: RunningStandin) -> None:
    with pytest.raises(ValueError, match="statsu"):
        twilio_standin.client.add_fault(statsu=429)
