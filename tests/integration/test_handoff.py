"""Hand-off through every real part: /human pauses, a message is kept with no model call, `say`, `resume`."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from localdev.polling import wait_for
from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.operator_desk import OPERATOR_TURN_PREFIX, inbox, operator_reply, resume
from switchboard.domain.user_commands import HAND_OFF_TEXT
from switchboard.services import build_store
from tests.harness.pipeline import Stack, new_message_sid, new_user
from tests.integration.test_opt_out import model_was_asked, settled

pytestmark = pytest.mark.integration


def test_a_person_takes_over_the_bot_stays_quiet_and_answers_again_after_resume(
        stack_factory: Callable[..., Stack], httpserver: HTTPServer) -> None:
    notices: list[dict[str, object]] = []

    def handoff_webhook(request: Request) -> Response:
        notices.append(json.loads(request.get_data()))
        return Response("", status=204)

    httpserver.expect_request("/handoff", method="POST").respond_with_handler(handoff_webhook)
    stack = stack_factory(HANDOFF_WEBHOOK_URL=httpserver.url_for("/handoff"))
    stack.start_web()
    stack.start_worker(concurrency=4)
    user = new_user()

    stack.send("my parcel never came", user)
    assert stack.wait_for_replies(user, 1) == ["echo: my parcel never came"]
    stack.send("human", user)
    assert stack.wait_for_replies(user, 2)[-1] == HAND_OFF_TEXT
    wait_for(lambda: notices, timeout=30, message="the operator's notice")
    [notice] = notices
    assert (notice["sender"], notice["source"]) == (user, "command")
    assert notice["recent_messages"] == ["my parcel never came", "human"]

    kept = new_message_sid()
    stack.send("it was order 1234", user, kept)
    settled(stack, kept)
    assert len(stack.replies_to(user)) == 2
    assert not model_was_asked(stack, "it was order 1234")

    store = build_store(stack.settings)
    [entry] = inbox(store)
    conversation = entry.pause.conversation
    assert [m.inbound.message_sid for m in entry.kept] == [kept]
    operator_reply(store, ReplySender.from_settings(stack.settings, slots=store), conversation,
                   "Hi, Ana here: it left today.")
    assert stack.wait_for_replies(user, 3)[-1] == "Hi, Ana here: it left today."
    resume(store, conversation)

    stack.send("thanks!", user)
    assert stack.wait_for_replies(user, 4)[-1] == "echo: thanks!"
    asked = str(stack.openai.client.requests()[-1])
    assert "it was order 1234" in asked and OPERATOR_TURN_PREFIX in asked
    assert len(notices) == 1
