"""PROCESSING_MODE=direct through gunicorn, with no worker: the webhook itself answers, once per MessageSid."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.polling import wait_for
from localdev.redis_keys import delete_keys_with_prefix
from switchboard.clients.sqs_admin import queue_depths, queue_names
from tests.harness.pipeline import Stack, make_stack, new_user
from tests.harness.standins import RunningStandin
from tests.integration.observing import prompts_for, send_attempts_to, sqs_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def direct_stack(
    pipeline_env: dict[str, str],
    twilio_standin_session: RunningStandin,
    openai_standin_session: RunningStandin,
    log_dir: Path,
) -> Iterator[Stack]:
    """One gunicorn in direct mode for the module, and no worker anywhere on its queues."""
    stack = make_stack(pipeline_env, twilio_standin_session, openai_standin_session, log_dir,
                       PROCESSING_MODE="direct")
    stack.start_web()
    yield stack
    stack.stop()
    delete_keys_with_prefix(stack.env["REDIS_URL"], stack.env["REDIS_KEY_PREFIX"])


@pytest.fixture
def stack(direct_stack: Stack, twilio_standin: RunningStandin, openai_standin: RunningStandin) -> Stack:
    """The module's direct-mode deployment, with stand-ins that recorded nothing yet."""
    return direct_stack


def test_the_reply_has_been_sent_when_the_webhook_answers_and_nothing_went_to_sqs(stack: Stack) -> None:
    user = new_user()

    status, body = stack.send("hello", user)

    assert status == 200 and "<Response" in body
    # No waiting: in direct mode the request returns only after Twilio accepted the reply.
    assert stack.replies_to(user) == ["echo: hello"]
    depths = queue_depths(sqs_for(stack.settings), queue_names(stack.settings))
    assert [d for d in depths if d.visible or d.in_flight or d.delayed] == []


def test_a_repeated_message_sid_is_acknowledged_and_not_answered_again(stack: Stack) -> None:
    assert stack.sender is not None
    user = new_user()
    form = stack.sender.form("only once", user)
    assert stack.sender.post_form(form)[0] == 200

    status, _ = stack.sender.post_form(form)  # Twilio's retry of the same message

    assert status == 200
    assert stack.replies_to(user) == ["echo: only once"]
    assert len(prompts_for(stack, "only once")) == 1
    assert len(send_attempts_to(stack, user)) == 1


def test_a_retry_arriving_while_the_first_request_waits_for_openai_is_acknowledged_and_not_answered_twice(stack: Stack) -> None:
    # Twilio retries a webhook that has not answered in 15 s; here the first request is still
    # waiting on OpenAI when the retry of the same MessageSid arrives.
    assert stack.sender is not None
    sender = stack.sender
    user = new_user()
    form = sender.form("slow one", user)
    stack.openai.client.stall(2)
    first: list[int] = []
    request = threading.Thread(target=lambda: first.append(sender.post_form(form)[0]))
    request.start()
    wait_for(lambda: prompts_for(stack, "slow one"), timeout=10, message="the first completion to be in flight")

    retry_status, _ = sender.post_form(form)
    request.join(timeout=30)

    # A 5xx would send Twilio to the Fallback URL (a second answer) for a message already being answered.
    assert (first, retry_status) == ([200], 200)
    assert stack.replies_to(user) == ["echo: slow one"]
    assert len(prompts_for(stack, "slow one")) == 1
