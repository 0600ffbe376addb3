"""The Twilio stand-in's account load: requests in flight counted, a latency per endpoint, Twilio's 20429 past a limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from localdev.polling import wait_for
from tests.harness.standins import RunningStandin

USER = "whatsapp:+15551230001"
BOT = "whatsapp:+14155550100"


def send(client: Client, body: str = "hello") -> str:
    return str(client.messages.create(to=USER, from_=BOT, body=body).sid)


def in_flight(standin: RunningStandin, endpoint: str = "create") -> int:
    return int(standin.client.load()["in_flight"].get(endpoint, 0))


def test_it_reports_the_most_creates_it_had_in_flight_at_once(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.set_latency(30)  # held until the reset below lets them go
    with ThreadPoolExecutor(max_workers=3) as pool:
        sends = [pool.submit(send, twilio, f"m{i}") for i in range(3)]
        wait_for(lambda: in_flight(twilio_standin) == 3, timeout=10, message="three creates in flight")

        assert twilio_standin.client.max_in_flight("create") == 3
        assert twilio_standin.client.max_in_flight("all") == 3
        twilio_standin.client.reset()  # wakes the delayed creates: they answer 503, having sent nothing
        errors = [future.exception(timeout=10) for future in sends]

    assert all(isinstance(error, TwilioRestException) and error.status == 503 for error in errors)
    assert twilio_standin.client.messages() == []
    wait_for(lambda: in_flight(twilio_standin) == 0, timeout=5, message="every create to end")


def test_a_latency_applies_to_its_endpoint_only(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.set_latency(30, endpoint="list")
    with ThreadPoolExecutor(max_workers=1) as pool:
        listing = pool.submit(twilio.messages.list, limit=1)
        wait_for(lambda: in_flight(twilio_standin, "list") == 1, timeout=10, message="the list delayed")

        send(twilio)  # answered at once while the list is still held

        assert twilio_standin.client.load()["max_in_flight"] == {"create": 1, "list": 1, "all": 2}
        twilio_standin.client.reset()
        assert isinstance(listing.exception(timeout=10), TwilioException)


def test_past_its_concurrency_limit_it_answers_429_with_error_20429_as_twilio_does(
    twilio: Client, twilio_standin: RunningStandin
) -> None:
    twilio_standin.client.set_concurrency_limit(1)
    twilio_standin.client.set_latency(30)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(send, twilio, "first")
        wait_for(lambda: in_flight(twilio_standin) == 1, timeout=10, message="the first create in flight")

        with pytest.raises(TwilioRestException) as refused:
            send(twilio, "second")

        assert (refused.value.status, refused.value.code) == (429, 20429)
        assert "Too Many Requests" in refused.value.msg
        twilio_standin.client.reset()
        assert isinstance(first.exception(timeout=10), TwilioRestException)


def test_a_reset_forgets_the_limit_the_latency_and_the_most_seen(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.set_concurrency_limit(1)
    twilio_standin.client.set_latency(0.01)
    send(twilio)

    twilio_standin.client.reset()

    assert twilio_standin.client.load() == {"in_flight": {}, "max_in_flight": {}, "latency_seconds": {},
                                            "concurrency_limit": None}


@pytest.mark.parametrize("code", [20429, 63018])
def test_a_rate_limit_is_answered_in_twilios_error_shape_with_its_retry_after(
    twilio: Client, twilio_standin: RunningStandin, code: int
) -> None:
    twilio_standin.client.rate_limit(code, retry_after=3)

    with pytest.raises(TwilioRestException) as refused:
        send(twilio)

    assert (refused.value.status, refused.value.code) == (429, code)
    assert twilio_standin.client.messages() == []
    send(twilio)  # once only
    assert len(twilio_standin.client.messages()) == 1


@pytest.mark.parametrize("payload", [
    {"latency_seconds": {"create": -1}}, {"latency_seconds": {"nope": 1}}, {"concurrency_limit": 0},
    {"concurrency_limit": True}, {"latency": 1},
])
def test_it_refuses_a_bad_load_setting_and_keeps_the_one_it_had(twilio_standin: RunningStandin,
                                                                  payload: dict[str, object]) -> None:
    answer = requests.post(f"{twilio_standin.base_url}/_standin/load", json=payload, timeout=5)

    assert answer.status_code == 400 and answer.json()["error"]
    assert twilio_standin.client.load()["latency_seconds"] == {}
    assert twilio_standin.client.load()["concurrency_limit"] is None
