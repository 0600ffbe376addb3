"""STOP and START through every real part: gunicorn → moto SQS → celery worker → the Twilio and OpenAI stand-ins."""

from __future__ import annotations

import random

import pytest

from localdev.polling import wait_for
from switchboard.domain.user_commands import OPT_IN_TEXT, OPT_OUT_TEXT
from switchboard.services import build_store
from tests.harness.pipeline import Stack, new_message_sid, new_user

pytestmark = pytest.mark.integration

SMS_BOT = "+14155238886"


def settled(stack: Stack, message_sid: str) -> None:
    """Wait until the chain is done with the message (its reply finished, whether or not anything was sent)."""
    store = build_store(stack.settings)

    def replied() -> bool:
        record = store.load(message_sid)
        return record is not None and record.replied

    wait_for(replied, timeout=60, message=f"the reply of {message_sid} to finish")


def model_was_asked(stack: Stack, text: str) -> bool:
    return any(text in str(request) for request in stack.openai.client.requests())


def test_whatsapp_stop_is_confirmed_once_then_nothing_until_start_and_sms_stop_is_left_to_twilio(
        stack: Stack) -> None:
    user = new_user()

    stack.send("STOP", user)
    assert stack.wait_for_replies(user, 1) == [OPT_OUT_TEXT]
    while_out = new_message_sid()
    stack.send("are you still there?", user, while_out)
    settled(stack, while_out)
    assert stack.replies_to(user) == [OPT_OUT_TEXT]
    assert not model_was_asked(stack, "are you still there?")

    stack.send("START", user)
    assert stack.wait_for_replies(user, 2) == [OPT_OUT_TEXT, OPT_IN_TEXT]
    stack.send("hello again", user)
    assert stack.wait_for_replies(user, 3)[-1] == "echo: hello again"
    assert model_was_asked(stack, "hello again")

    # SMS: Twilio's own opt-out handling answered STOP (the webhook says so in OptOutType); we send nothing.
    assert stack.sender is not None
    sms_user = f"+1555{random.randrange(10**7):07d}"
    stop_sid, later_sid = new_message_sid(), new_message_sid()
    for sid, body, extra in ((stop_sid, "STOP", {"OptOutType": "STOP"}), (later_sid, "hello?", {})):
        form = {**stack.sender.form(body, sms_user, sid, **extra), "To": SMS_BOT}
        del form["WaId"]
        assert stack.sender.post_form(form)[0] == 200
    settled(stack, later_sid)
    assert stack.replies_to(sms_user) == []
    assert not model_was_asked(stack, "hello?")
    store = build_store(stack.settings)
    stop = store.load(stop_sid)
    assert stop is not None and stop.intake_result == "twilio-answered"
    assert store.is_opted_out(stop.conversation)
