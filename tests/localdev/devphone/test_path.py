"""A message's path is read from its record, its parts' delivery statuses and Flower's task times."""

from __future__ import annotations

from typing import Any

from localdev.devphone.path import Evidence, message_path, newly_reached
from switchboard.domain.inbound import InboundMessage
from switchboard.store import StoredMessage

SID = "SM" + "1" * 32


def stored(**fields: Any) -> StoredMessage:
    inbound = InboundMessage(message_sid=SID, account_sid="AC" + "0" * 32, sender="whatsapp:+15550100001",
                             recipient="whatsapp:+14155238886", body="hi", user_id="15550100001",
                             received_at=100.0)
    return StoredMessage(inbound=inbound, seq=3, **fields)


def reached(evidence: Evidence, observed: dict[str, float] | None = None) -> dict[str, tuple[bool, float | None]]:
    return {step.name: (step.reached, step.at) for step in message_path(evidence, observed or {}).steps}


def test_a_delivered_message_has_every_step_dated_by_the_store_flower_and_twilio() -> None:
    record = stored(answer="hello", replied=True, sent_parts={0: "SMa", 1: "SMb"}, intake_result="ok")
    evidence = Evidence(200, record, {0: "delivered", 1: "read"}, delivered_at=101.5,
                        task_ends={"intake": 100.1, "complete": 100.6, "reply": 101.0})

    path = message_path(evidence, {})

    assert reached(evidence) == {"accepted": (True, 100.0), "intake": (True, 100.1), "completion": (True, 100.6),
                                 "reply": (True, 101.0), "delivered": (True, 101.5)}
    assert path.settled and newly_reached(path) == []
    assert [step.detail for step in path.steps] == ["seq 3", "ok", "", "2 parts", "read"]


def test_a_message_on_its_way_shows_how_far_it_got_and_waits_for_the_rest() -> None:
    evidence = Evidence(200, stored(intake_result="ok", answer="hello", sent_parts={0: "SMa"}), {0: "sent"})

    path = message_path(evidence, {})

    assert [(s.name, s.reached) for s in path.steps] == [
        ("accepted", True), ("intake", True), ("completion", True), ("reply", False), ("delivered", False)]
    assert newly_reached(path) == ["intake", "completion"]  # no Flower times: the tracker dates them
    assert not path.settled


def test_steps_without_a_time_of_their_own_take_the_time_they_were_first_seen() -> None:
    evidence = Evidence(200, stored(intake_result="ok"))

    assert reached(evidence, {"intake": 100.3})["intake"] == (True, 100.3)


def test_a_part_twilio_could_not_deliver_fails_the_last_step() -> None:
    record = stored(intake_result="ok", answer="hello", replied=True, sent_parts={0: "SMa"})

    [*_, delivered] = message_path(Evidence(200, record, {0: "undelivered"}), {}).steps

    assert (delivered.reached, delivered.failed, delivered.detail) == (False, True, "undelivered")


def test_a_reply_that_was_not_sent_says_why() -> None:
    record = stored(intake_result="stopped", answer="", replied=True, undelivered="opted-out")

    path = message_path(Evidence(200, record), {})

    reply = next(s for s in path.steps if s.name == "reply")
    assert (reply.failed, reply.detail) == (True, "not sent: opted-out") and path.settled


def test_a_burst_member_is_answered_with_the_later_message() -> None:
    later = "SM" + "2" * 32

    path = message_path(Evidence(200, stored(intake_result="ok", answer="", burst_next=later)), {})

    assert path.answered_with == later and path.settled
    assert [s.name for s in path.steps] == ["accepted", "intake", "completion"]


def test_a_webhook_that_refused_the_message_fails_the_first_step() -> None:
    path = message_path(Evidence(403, None), {})

    assert (path.steps[0].failed, path.steps[0].detail) == (True, "webhook answered 403") and path.settled


def test_a_voice_note_s_transcript_comes_with_its_path() -> None:
    path = message_path(Evidence(200, stored(transcripts={0: "When do you open?"})), {})

    assert path.as_json()["transcripts"] == ["When do you open?"]
