"""ReplySender's WhatsApp delivery calls against the Twilio stand-in: templates, status reads, its settings."""

from __future__ import annotations

import json

import pytest

from localdev.polling import wait_for
from switchboard.clients.twilio_client import ContentTemplate, ReplySender
from switchboard.errors import PermanentError
from switchboard.settings import load_settings
from tests.harness.standins import RunningStandin

USER, BOT = "whatsapp:+15557654321", "whatsapp:+14155238886"
CONTENT_SID = "HX" + "0123456789abcdef" * 2


def from_settings(standin: RunningStandin, **overrides: object) -> ReplySender:
    return ReplySender.from_settings(load_settings(**{
        "twilio_account_sid": standin.account_sid, "twilio_auth_token": standin.auth_token,
        "allow_test_auth_token": True, "twilio_api_base_url": standin.base_url, "openai_api_key": "sk-test",
        "sqs_endpoint_url": "http://127.0.0.1:1", **overrides,
    }))


def test_a_template_is_sent_as_content_sid_and_json_content_variables_without_a_body(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin
) -> None:
    replies = from_settings(twilio_standin)

    sid = replies.send_template(USER, BOT, CONTENT_SID, {"1": "Ada", "2": "the answer – with ünïcode"})

    [create] = [r for r in twilio_standin.client.requests() if r["method"] == "POST"]
    assert create["params"]["ContentSid"] == CONTENT_SID and "Body" not in create["params"]
    assert json.loads(create["params"]["ContentVariables"]) == {"1": "Ada", "2": "the answer – with ünïcode"}
    [sent] = twilio_standin.client.messages()
    assert sent["sid"] == sid and sent["content_sid"] == CONTENT_SID


def test_a_template_twilio_does_not_know_is_a_permanent_refusal(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin
) -> None:
    with pytest.raises(PermanentError) as refused:
        from_settings(twilio_standin).send_template(USER, BOT, "HX-not-a-template", {"1": "x"})

    assert refused.value.code == 21655


def test_message_status_reads_twilios_status_as_it_moves_on(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin
) -> None:
    twilio_standin.client.set_sent_delay(0.2)
    replies = from_settings(twilio_standin)
    sid = replies.send(USER, BOT, "hello")

    assert replies.message_status(sid) == ("queued", "")
    assert wait_for(lambda: replies.message_status(sid) == ("sent", ""), timeout=10, message="sent")


def test_message_status_is_none_when_twilio_cannot_say(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin
) -> None:
    replies = from_settings(twilio_standin)
    sid = replies.send(USER, BOT, "hello")
    twilio_standin.client.fail(503, endpoint="fetch")

    assert replies.message_status(sid) is None  # never raises: the caller waits, then stops waiting
    assert replies.message_status("SM" + "0" * 32) is None  # unknown to Twilio (404)


def test_from_settings_carries_the_template_and_the_part_order_wait(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin
) -> None:
    replies = from_settings(twilio_standin, whatsapp_template_content_sid=CONTENT_SID,
                            whatsapp_template_variables='{"1": "{profile_name}", "2": "{answer}"}',
                            part_order_wait_seconds=12)

    assert replies.template == ContentTemplate(CONTENT_SID, {"1": "{profile_name}", "2": "{answer}"})
    assert replies.part_order_wait_seconds == 12
    assert from_settings(twilio_standin).template is None


def test_in_direct_mode_parts_do_not_wait_for_reports(
    hermetic_env: pytest.MonkeyPatch, twilio_standin: RunningStandin
) -> None:
    # No worker comes back for the rest of the answer: the web request sends every part itself.
    assert from_settings(twilio_standin, processing_mode="direct").part_order_wait_seconds == 0
