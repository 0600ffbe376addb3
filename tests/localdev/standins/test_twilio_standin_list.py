"""The Twilio stand-in's Messages list: sent and injected inbound messages, filtered and paged like Twilio's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tests.harness.standins import RunningStandin

USER = "whatsapp:+15551230001"
BOT = "whatsapp:+14155550100"


def send(client: Client, body: str = "hello") -> str:
    return str(client.messages.create(to=USER, from_=BOT, body=body).sid)


def test_it_lists_injected_inbound_messages_filtered_by_time_and_to(
    twilio: Client, twilio_standin: RunningStandin
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    standin = twilio_standin.client
    standin.add_inbound(USER, BOT, "too old", date_sent=now - timedelta(hours=2))
    wanted = standin.add_inbound(USER, BOT, "missed while down", date_sent=now - timedelta(minutes=5))
    standin.add_inbound(USER, "whatsapp:+14155550199", "to another number", date_sent=now - timedelta(minutes=5))
    send(twilio, "an outbound message")  # outbound: its To is the user, so the To filter drops it

    listed = twilio.messages.list(date_sent_after=now - timedelta(hours=1), to=BOT)

    assert [(m.sid, m.body, m.direction, m.status) for m in listed] == [
        (wanted["sid"], "missed while down", "inbound", "received")
    ]
    assert listed[0].date_sent == now - timedelta(minutes=5) and listed[0].from_ == USER


def test_its_time_bounds_include_the_boundary_second(twilio: Client, twilio_standin: RunningStandin) -> None:
    moment = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    for offset in (-1, 0, 1):
        twilio_standin.client.add_inbound(USER, BOT, f"at {offset:+d}s", date_sent=moment + timedelta(seconds=offset))

    before = twilio.messages.list(date_sent_before=moment)
    after = twilio.messages.list(date_sent_after=moment)

    assert [m.body for m in before] == ["at +0s", "at -1s"]
    assert [m.body for m in after] == ["at +1s", "at +0s"]


def test_it_lists_newest_first_across_pages(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.add_inbound(USER, BOT, "in 1")
    bodies = ["in 1"] + [f"out {n}" for n in range(4)]
    for body in bodies[1:]:
        send(twilio, body)

    listed = [m.body for m in twilio.messages.stream(page_size=2)]

    assert listed == list(reversed(bodies))
    pages = [r["params"].get("Page") for r in twilio_standin.client.requests() if r["method"] == "GET"]
    assert pages == [None, "1", "2"]  # the SDK followed next_page_uri from the stand-in's base URL


def test_a_list_fault_leaves_sending_alone(twilio: Client, twilio_standin: RunningStandin) -> None:
    twilio_standin.client.fail(500, endpoint="list")

    send(twilio)
    # The SDK's list path raises plain TwilioException(message, response), not TwilioRestException.
    with pytest.raises(TwilioException) as caught:
        twilio.messages.list()
    assert not isinstance(caught.value, TwilioRestException)
    assert caught.value.args[1].status_code == 500
    assert len(twilio.messages.list()) == 1
