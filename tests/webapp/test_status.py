"""POST /twilio/status: Twilio's signed delivery reports recorded for our parts, refusals noted on the message."""

from __future__ import annotations

import time
import uuid

from flask import Flask
from flask.testing import FlaskClient

from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore
from tests.webapp.twilio_requests import ACCOUNT_SID, sign

STATUS_URL = "http://localhost/twilio/status"
USER, BOT = "whatsapp:+15551234567", "whatsapp:+15550000000"


def report(client: FlaskClient, outbound_sid: str, status: str, error_code: str = "") -> int:
    form = {"MessageSid": outbound_sid, "SmsSid": outbound_sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": ACCOUNT_SID, "From": BOT, "To": USER, "ApiVersion": "2010-04-01",
            **({"ErrorCode": error_code} if error_code else {})}
    return client.post("/twilio/status", data=form, headers={"X-Twilio-Signature": sign(STATUS_URL, form)}).status_code


def sent_part(store: ConversationStore, replied: bool = True) -> tuple[str, str, str]:
    """A message whose one-part reply went out: (its MessageSid, its conversation, the part's SID)."""
    message = InboundMessage(message_sid="SM" + uuid.uuid4().hex, account_sid=ACCOUNT_SID, sender=USER,
                             recipient=BOT, body="hi", user_id=USER, received_at=time.time())
    assert store.accept(message) is not None
    stored = store.load(message.message_sid)
    assert stored is not None and store.record_answer(stored, "hello", [])
    outbound = "SM" + uuid.uuid4().hex
    assert store.record_part_sent(stored, 0, outbound)
    if replied:
        assert store.mark_replied(stored)
    return message.message_sid, message.conversation_id, outbound


def test_a_signed_report_keeps_the_furthest_status(app: Flask, client: FlaskClient) -> None:
    store: ConversationStore = app.config["STORE"]
    _, _, outbound = sent_part(store)

    assert [report(client, outbound, s) for s in ("delivered", "sent")] == [204, 204]

    assert store.delivery(outbound)["status"] == "delivered"


def test_a_late_21610_records_the_opt_out_and_says_so_on_the_message(app: Flask, client: FlaskClient) -> None:
    store: ConversationStore = app.config["STORE"]
    sid, conversation, outbound = sent_part(store)

    assert report(client, outbound, "failed", "21610") == 204

    assert store.is_opted_out(conversation)
    assert store.load(sid).undelivered == "opted-out"  # type: ignore[union-attr]


def test_a_late_63016_on_a_finished_reply_says_it_was_outside_the_window(app: Flask, client: FlaskClient) -> None:
    store: ConversationStore = app.config["STORE"]
    sid, _, outbound = sent_part(store)

    assert report(client, outbound, "undelivered", "63016") == 204

    assert store.load(sid).undelivered == "outside-window"  # type: ignore[union-attr]


def test_a_63016_while_the_reply_is_still_being_sent_is_left_to_the_reply_step(app: Flask,
                                                                                 client: FlaskClient) -> None:
    store: ConversationStore = app.config["STORE"]
    sid, _, outbound = sent_part(store, replied=False)  # its next part waits for this report

    assert report(client, outbound, "failed", "63016") == 204

    assert store.load(sid).undelivered is None  # type: ignore[union-attr]
    assert store.delivery(outbound)["error_code"] == "63016"  # what the reply step reads


def test_other_failures_and_unknown_parts_change_nothing_else(app: Flask, client: FlaskClient) -> None:
    store: ConversationStore = app.config["STORE"]
    sid, conversation, outbound = sent_part(store)

    assert report(client, outbound, "failed", "30008") == 204
    assert report(client, "SM" + uuid.uuid4().hex, "failed", "21610") == 204  # not one of ours

    assert store.load(sid).undelivered is None and not store.is_opted_out(conversation)  # type: ignore[union-attr]
