"""WhatsApp delivery through gunicorn, moto SQS and a real worker: a long answer's parts in order, and a reply
after the 24-hour window as the template.

One deployment for the module, reachable by Twilio's status callbacks (PUBLIC_BASE_URL), with a template.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.polling import wait_for
from localdev.processes import free_port
from localdev.redis_keys import delete_keys_with_prefix
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
from tests.harness.pipeline import Stack, make_stack, new_message_sid, new_user
from tests.harness.standins import RunningStandin
from tests.integration.observing import send_attempts_to, wait_until_settled

pytestmark = pytest.mark.integration

TEMPLATE_SID = "HX" + "5" * 32
DAY = 24 * 3600


@pytest.fixture(scope="module")
def whatsapp_stack(
    pipeline_env: dict[str, str], twilio_standin_session: RunningStandin, openai_standin_session: RunningStandin,
    log_dir: Path,
) -> Iterator[Stack]:
    port = free_port()
    stack = make_stack(pipeline_env, twilio_standin_session, openai_standin_session, log_dir,
                       PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", WHATSAPP_TEMPLATE_CONTENT_SID=TEMPLATE_SID,
                       WHATSAPP_TEMPLATE_VARIABLES='{"1": "{profile_name}", "2": "{answer}"}')
    stack.start_web(port=port)
    stack.start_worker(concurrency=8)
    yield stack
    stack.stop()
    delete_keys_with_prefix(stack.env["REDIS_URL"], stack.env["REDIS_KEY_PREFIX"])


@pytest.fixture
def stack(whatsapp_stack: Stack, twilio_standin: RunningStandin, openai_standin: RunningStandin) -> Stack:
    """The module's deployment, with stand-ins that recorded nothing yet."""
    return whatsapp_stack


def store_of(stack: Stack) -> ConversationStore:
    return ConversationStore(connect(stack.settings.redis_url.get_secret_value()),
                             stack.settings.redis_key_prefix, HistoryLimits(20, 8000, 60))


def test_a_three_part_answer_creates_each_part_only_after_the_previous_one_is_reported_sent(stack: Stack) -> None:
    user, sid = new_user(), new_message_sid()
    stack.openai.client.set_reply_length(4000)  # three parts of at most 1,600 characters
    stack.twilio.client.set_sent_delay(0.5)  # each part stays queued a while before Twilio reports it sent

    assert stack.send("Tell me everything.", user, message_sid=sid)[0] == 200

    stack.wait_for_replies(user, 3, timeout=60)
    wait_until_settled(stack)
    parts = [m for m in stack.twilio.client.messages() if m["to"] == user]
    assert len(parts) == 3
    sent_reports = {c["params"]["MessageSid"]: c for c in stack.twilio.client.callbacks()
                    if c["params"]["MessageStatus"] == "sent"}
    for earlier, later in zip(parts, parts[1:], strict=False):
        # Created after Twilio had reported the one before sent, and after our web had that report.
        assert later["created_at"] >= earlier["sent_at"], (earlier, later)
        assert sent_reports[earlier["sid"]]["status_code"] == 204
    # The reports came by callback: the worker never had to ask Twilio for a part's status.
    assert not [r for r in stack.twilio.client.requests() if r["method"] == "GET" and "/Messages/" in r["path"]]
    assert store_of(stack).delivery(parts[0]["sid"])["status"] in ("sent", "delivered")
    # While the answer was being written the user saw "typing…" for their message.
    typing = [r["params"] for r in stack.twilio.client.requests() if r["path"] == "/v2/Indicators/Typing.json"]
    assert typing == [{"messageId": sid, "channel": "whatsapp"}]


def test_a_reply_due_after_the_24_hour_window_goes_out_as_the_template(stack: Stack) -> None:
    user, sid = new_user(), new_message_sid()
    store = store_of(stack)
    stack.twilio.client.fail(503, times=-1)  # a Twilio outage holds the reply back ...

    assert stack.send("are you there?", user, message_sid=sid, ProfileName="Ada")[0] == 200
    wait_for(lambda: send_attempts_to(stack, user), timeout=30, message="the first, refused, send")
    message = store.load(sid)
    assert message is not None and message.answer == "echo: are you there?" and not message.replied
    # ... until the user's last message is more than a day old.
    store.set_last_inbound_at(message.conversation, time.time() - DAY - 60)
    stack.twilio.client.reset()  # Twilio is back

    [template] = [m for m in wait_for(lambda: stack.twilio.client.messages(), timeout=30, message="the reply")]
    wait_until_settled(stack)
    assert template["to"] == user and template["content_sid"] == TEMPLATE_SID
    assert json.loads(template["content_variables"]) == {"1": "Ada", "2": "echo: are you there?"}
    assert all(a["params"].get("ContentSid") == TEMPLATE_SID for a in send_attempts_to(stack, user))
    assert stack.replies_to(user) == ["Ada\necho: are you there?"]
    replied = store.load(sid)
    assert replied is not None and replied.replied and replied.undelivered is None
    assert replied.sent_parts == {0: template["sid"]}
