"""What a reply sends: nothing to an opted-out user, the template after WhatsApp's 24-hour window, parts in order.

Real Redis, and the real twilio SDK against the HTTP stand-in (which moves a message from queued to
sent after a delay, and answers Twilio's refusals when told to).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from localdev.polling import wait_for
from switchboard.clients.twilio_client import ContentTemplate, ReplySender
from switchboard.domain.delivery import deliver_reply
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.user_commands import Command
from switchboard.errors import NotYourTurn
from switchboard.store import ConversationStore
from tests.harness.standins import RunningStandin, twilio_sdk

Make = Callable[..., InboundMessage]
WAIT = 300.0
THREE_PARTS = "\n\n".join(letter * 1000 for letter in "abc")
TEMPLATE = ContentTemplate("HX" + "1" * 32, {"1": "{profile_name}", "2": "{answer}"})
DAY = 24 * 3600


def sender(standin: RunningStandin, template: ContentTemplate | None = None, part_order_wait_seconds: float = 30.0,
           status_callback: str | None = None) -> ReplySender:
    return ReplySender(twilio_sdk(standin, timeout=2), None, status_callback, template=template,
                       part_order_wait_seconds=part_order_wait_seconds)


def answered(store: ConversationStore, message: InboundMessage, answer: str, intake: str = "chat") -> str:
    assert store.accept(message) is not None
    store.record_intake(message.message_sid, intake)
    stored = store.load(message.message_sid)
    assert stored is not None and store.record_answer(stored, answer, [])
    return message.message_sid


def deliver_until_done(store: ConversationStore, replies: ReplySender, sid: str, timeout: float = 20) -> list[str]:
    """Run the reply step as its task would: again shortly after each NotYourTurn, until it finishes."""
    def attempt() -> list[str] | None:
        try:
            return deliver_reply(store, replies, sid, WAIT)
        except NotYourTurn:
            return None

    return wait_for(attempt, timeout=timeout, interval=0.1, message="the reply to finish")


def creates(standin: RunningStandin) -> list[dict[str, Any]]:
    return [r for r in standin.client.requests() if r["method"] == "POST" and str(r["path"]).endswith("Messages.json")]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- opt-outs at send ------------------------------------------------------------------------------


def test_nothing_is_sent_to_a_user_who_opted_out_and_the_record_says_why(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = make_inbound("what now?")
    sid = answered(store, message, "an answer they must not get")
    store.set_opted_out(message.conversation_id, True)
    before = metric("switchboard_replies_undelivered_total", reason="opted-out")

    assert deliver_reply(store, sender(twilio_standin), sid, WAIT) == []

    assert twilio_standin.client.requests() == []
    stored = store.load(sid)
    assert stored is not None and stored.replied and stored.undelivered == "opted-out"
    assert metric("switchboard_replies_undelivered_total", reason="opted-out") == before + 1


def test_the_confirmation_of_stop_itself_is_sent_to_the_user_now_opted_out(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = make_inbound("STOP")
    sid = answered(store, message, "You won't get more messages from me.", intake=Command.OPT_OUT.value)
    store.set_opted_out(message.conversation_id, True)  # intake recorded it before the reply

    [confirmation] = deliver_reply(store, sender(twilio_standin), sid, WAIT)

    assert [m["sid"] for m in twilio_standin.client.messages()] == [confirmation]
    assert store.load(sid).undelivered is None  # type: ignore[union-attr]


def test_twilios_21610_records_the_opt_out_without_an_error_and_later_replies_send_nothing(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    first, second = make_inbound("1", sender="+15551230007"), make_inbound("2", sender="+15551230007")
    first_sid, second_sid = answered(store, first, THREE_PARTS), answered(store, second, "two")
    twilio_standin.client.fail(400, twilio_code=21610)
    replies = sender(twilio_standin)

    assert deliver_reply(store, replies, first_sid, WAIT) == []  # no exception: nothing to retry
    assert deliver_reply(store, replies, second_sid, WAIT) == []

    assert len(creates(twilio_standin)) == 1 and twilio_standin.client.messages() == []
    assert store.is_opted_out(first.conversation_id)
    assert [store.load(s).undelivered for s in (first_sid, second_sid)] == ["opted-out", "opted-out"]  # type: ignore[union-attr]


# --- the 24-hour window -----------------------------------------------------------------------------


def test_a_reply_after_the_window_goes_out_once_as_the_template_with_the_answer_and_name(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = replace(make_inbound("hello?"), profile_name="Ada\nLovelace")
    sid = answered(store, message, "Line one.\n\nLine two.")
    store.set_last_inbound_at(message.conversation_id, time.time() - DAY - 60)
    replies = sender(twilio_standin, template=TEMPLATE)
    before = metric("switchboard_template_replies_total", cause="window")

    [template_sid] = deliver_reply(store, replies, sid, WAIT)
    assert deliver_reply(store, replies, sid, WAIT) == [template_sid]

    [create] = creates(twilio_standin)
    params = create["params"]
    assert "Body" not in params
    assert params["ContentSid"] == TEMPLATE.content_sid
    assert params["ContentVariables"] == '{"1": "Ada Lovelace", "2": "Line one. Line two."}'
    assert [m["sid"] for m in twilio_standin.client.messages()] == [template_sid]
    assert metric("switchboard_template_replies_total", cause="window") == before + 1
    assert store.outside_window(sid) == (0, 0)


def test_after_the_window_with_no_template_nothing_is_sent_and_it_is_reported(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = make_inbound("hello?")
    sid = answered(store, message, "too late")
    store.set_last_inbound_at(message.conversation_id, time.time() - DAY - 60)
    before = metric("switchboard_replies_undelivered_total", reason="outside-window")

    assert deliver_reply(store, sender(twilio_standin), sid, WAIT) == []

    assert twilio_standin.client.requests() == []
    stored = store.load(sid)
    assert stored is not None and stored.replied and stored.undelivered == "outside-window"
    assert metric("switchboard_replies_undelivered_total", reason="outside-window") == before + 1


def test_a_reply_just_inside_the_window_goes_out_as_written(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = make_inbound("hello?")
    sid = answered(store, message, "in time")
    store.set_last_inbound_at(message.conversation_id, time.time() - DAY + 3600)

    deliver_reply(store, sender(twilio_standin, template=TEMPLATE), sid, WAIT)

    assert [(m["body"], m["content_sid"]) for m in twilio_standin.client.messages()] == [("in time", None)]


def test_twilios_63016_on_a_free_form_send_sends_the_template_instead_once(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = answered(store, make_inbound("hello?"), "refused as free-form")  # our clock says the window is open
    twilio_standin.client.fail(400, twilio_code=63016)
    replies = sender(twilio_standin, template=TEMPLATE)
    before = metric("switchboard_template_replies_total", cause="63016")

    [sent] = deliver_reply(store, replies, sid, WAIT)

    assert [c["params"].get("ContentSid") for c in creates(twilio_standin)] == [None, TEMPLATE.content_sid]
    [template] = twilio_standin.client.messages()
    assert template["sid"] == sent and template["body"] == "there\nrefused as free-form"
    assert metric("switchboard_template_replies_total", cause="63016") == before + 1


def test_twilios_63016_with_no_template_marks_the_reply_outside_the_window(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = answered(store, make_inbound("hello?"), "refused as free-form")
    twilio_standin.client.fail(400, twilio_code=63016)

    assert deliver_reply(store, sender(twilio_standin), sid, WAIT) == []

    assert store.load(sid).undelivered == "outside-window"  # type: ignore[union-attr]
    assert len(creates(twilio_standin)) == 1


def test_an_sms_reply_ignores_the_whatsapp_window(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    message = make_inbound("hello?", sender="+15551230008", recipient="+15550000000")
    sid = answered(store, message, "by text")
    store.set_last_inbound_at(message.conversation_id, time.time() - 3 * DAY)

    deliver_reply(store, sender(twilio_standin, template=TEMPLATE), sid, WAIT)

    assert [(m["body"], m["content_sid"]) for m in twilio_standin.client.messages()] == [("by text", None)]


# --- long answers in order --------------------------------------------------------------------------


def test_each_part_is_created_only_after_twilio_reports_the_previous_one_sent(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = answered(store, make_inbound(), THREE_PARTS)
    twilio_standin.client.set_sent_delay(0.3)
    replies = sender(twilio_standin)

    with pytest.raises(NotYourTurn):  # part 0 is created, and is still queued
        deliver_reply(store, replies, sid, WAIT)
    assert len(twilio_standin.client.messages()) == 1
    sent = deliver_until_done(store, replies, sid)

    parts = twilio_standin.client.messages()
    assert [m["sid"] for m in parts] == sent and [m["body"] for m in parts] == [c * 1000 for c in "abc"]
    for earlier, later in zip(parts, parts[1:], strict=False):
        assert later["created_at"] >= earlier["sent_at"], (earlier, later)
    fetches = [r for r in twilio_standin.client.requests() if r["method"] == "GET"]
    assert fetches and all(str(r["path"]).split("/")[-1].removesuffix(".json") in sent[:2] for r in fetches)
    assert store.delivery(sent[0])["status"] in ("sent", "delivered")  # what the fetch found is kept


def test_a_part_with_no_report_is_followed_anyway_once_the_wait_runs_out(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = answered(store, make_inbound(), THREE_PARTS)
    twilio_standin.client.set_sent_delay(60)  # Twilio never gets round to it during the test
    replies = sender(twilio_standin, part_order_wait_seconds=0.5)
    before = metric("switchboard_part_order_total", after="wait-ran-out")

    sent = deliver_until_done(store, replies, sid)

    assert [m["sid"] for m in twilio_standin.client.messages()] == sent and len(sent) == 3
    assert {m["status"] for m in twilio_standin.client.messages()} == {"queued"}
    assert metric("switchboard_part_order_total", after="wait-ran-out") == before + 2


def test_a_part_reported_failed_is_followed_by_the_next_one(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = answered(store, make_inbound(), THREE_PARTS)
    twilio_standin.client.set_sent_delay(60)
    # Callbacks on (nothing listens there): the reply step waits for them in Redis, where the web puts them.
    replies = sender(twilio_standin, status_callback="http://127.0.0.1:9/twilio/status")

    with pytest.raises(NotYourTurn):
        deliver_reply(store, replies, sid, WAIT)
    [first] = twilio_standin.client.messages()
    assert store.record_delivery_status(first["sid"], "failed", "30008")  # as the status callback would
    with pytest.raises(NotYourTurn):
        deliver_reply(store, replies, sid, WAIT)

    assert [m["body"] for m in twilio_standin.client.messages()] == ["a" * 1000, "b" * 1000]
    assert [r for r in twilio_standin.client.requests() if r["method"] == "GET"] == []  # the callback is awaited


def test_a_part_reported_refused_outside_the_window_sends_the_rest_as_the_template(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = answered(store, make_inbound(), THREE_PARTS)
    twilio_standin.client.set_sent_delay(60)
    replies = sender(twilio_standin, template=ContentTemplate("HX" + "2" * 32, {"1": "{answer}"}),
                     status_callback="http://127.0.0.1:9/twilio/status")

    with pytest.raises(NotYourTurn):
        deliver_reply(store, replies, sid, WAIT)
    [first] = twilio_standin.client.messages()
    store.record_delivery_status(first["sid"], "undelivered", "63016")  # WhatsApp's refusal comes late
    sent = deliver_reply(store, replies, sid, WAIT)

    [_, template] = twilio_standin.client.messages()
    assert sent == [first["sid"], template["sid"]] and template["content_sid"] == "HX" + "2" * 32
    assert template["body"] == "a" * 899 + "…"  # the answer from the part that never arrived, cut to fit
    assert store.outside_window(sid) == (1, 0)


def test_an_sms_answer_is_sent_without_waiting_for_reports(
    store: ConversationStore, twilio_standin: RunningStandin, make_inbound: Make
) -> None:
    sid = answered(store, make_inbound(sender="+15551230009", recipient="+15550000000"), THREE_PARTS)
    twilio_standin.client.set_sent_delay(60)

    sent = deliver_reply(store, sender(twilio_standin), sid, WAIT)

    assert len(sent) == 3 and [r for r in twilio_standin.client.requests() if r["method"] == "GET"] == []
