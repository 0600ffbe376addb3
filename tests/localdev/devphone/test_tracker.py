"""The tracker puts each sent message's path and the bot's replies on the board, from the store and Twilio's record."""

from __future__ import annotations

from typing import Any

from localdev.devphone.flower import Flower
from localdev.devphone.phone import DevPhone
from localdev.devphone.tracker import SentMessage, Tracker
from localdev.polling import wait_for
from localdev.processes import free_port
from switchboard.domain.inbound import InboundMessage
from switchboard.store import StoredMessage
from tests.harness.standins import RunningStandin, twilio_sdk

ANA, BOT = "whatsapp:+15550100001", "whatsapp:+14155238886"
SID = "SM" + "1" * 32


class RecordedStore:
    """The two reads the tracker makes, answered from records the test sets (no delivery callbacks here)."""

    def __init__(self) -> None:
        self.records: dict[str, StoredMessage] = {}
        self.loads: list[str] = []

    def load(self, message_sid: str) -> StoredMessage | None:
        self.loads.append(message_sid)
        return self.records.get(message_sid)

    def delivery(self, outbound_sid: str) -> dict[str, str]:
        return {}


def record(**fields: Any) -> StoredMessage:
    inbound = InboundMessage(message_sid=SID, account_sid="AC" + "0" * 32, sender=ANA, recipient=BOT, body="hi",
                             user_id="15550100001", received_at=100.0)
    return StoredMessage(inbound=inbound, seq=1, **fields)


def test_replies_to_a_user_become_parts_of_the_message_they_answer_until_delivered(
        phone: DevPhone, twilio_standin: RunningStandin) -> None:
    sdk = twilio_sdk(twilio_standin)
    parts = [sdk.messages.create(to=ANA, from_=BOT, body=body).sid for body in ("First part.", "Second part.")]
    sdk.messages.create(to="whatsapp:+15559999999", from_=BOT, body="someone else's")
    store = RecordedStore()
    tracker = Tracker(phone.board, store, twilio_standin.client, flower=None)  # type: ignore[arg-type]  # a fake
    tracker.track(SentMessage(SID, ANA, "text", "hi", 100.0, 200))
    store.records[SID] = record(intake_result="ok", answer="First part. Second part.", replied=True,
                                sent_parts=dict(enumerate(parts)))

    def delivered() -> bool:
        tracker.tick()
        shown = phone.board.get("message", SID)
        return shown is not None and shown["steps"][-1]["reached"]

    wait_for(delivered, timeout=10, message="the stand-in to deliver both parts")

    replies = sorted(phone.board.items("reply"), key=lambda r: r["part"])
    assert [(r["body"], r["answers"], r["part"], r["user"]) for r in replies] == [
        ("First part.", SID, 0, ANA), ("Second part.", SID, 1, ANA)]
    shown = phone.board.get("message", SID)
    assert shown is not None and (shown["kind"], shown["content"], shown["user"]) == ("message", "text", ANA)
    assert [step["name"] for step in shown["steps"] if step["reached"]] == [
        "accepted", "intake", "completion", "reply", "delivered"]
    sent = {m["sid"]: m for m in twilio_standin.client.messages()}
    assert shown["steps"][-1]["at"] == max(sent[sid]["delivered_at"] for sid in parts)
    assert all(step["at"] for step in shown["steps"])  # the rest dated when first seen
    # Settled, and without Flower there are no task times to wait for: it is no longer followed.
    assert tracker.following() == []
    loads = len(store.loads)
    tracker.tick()
    assert len(store.loads) == loads


def test_a_message_the_webhook_refused_is_settled_at_once(phone: DevPhone, twilio_standin: RunningStandin) -> None:
    store = RecordedStore()
    tracker = Tracker(phone.board, store, twilio_standin.client, flower=None)  # type: ignore[arg-type]  # a fake
    tracker.track(SentMessage(SID, ANA, "text", "hi", 100.0, 403))

    tracker.tick()

    shown = phone.board.get("message", SID)
    assert shown is not None and shown["steps"][0] == {
        "name": "accepted", "reached": False, "at": None, "detail": "webhook answered 403", "failed": True}
    assert tracker.following() == []


def test_a_flower_that_does_not_answer_is_named_on_the_message(phone: DevPhone, twilio_standin: RunningStandin) -> None:
    store = RecordedStore()
    store.records[SID] = record(intake_result="ok")
    flower = Flower(f"http://127.0.0.1:{free_port()}", timeout=1)
    tracker = Tracker(phone.board, store, twilio_standin.client, flower)  # type: ignore[arg-type]  # a fake
    tracker.track(SentMessage(SID, ANA, "text", "hi", 100.0, 200))

    tracker.tick()

    shown = phone.board.get("message", SID)
    assert shown is not None and shown["flower"] is None
    assert shown["flower_problem"].startswith("Flower does not answer at http://127.0.0.1:")
    assert tracker.following() == [SID]  # still on its way: intake only
