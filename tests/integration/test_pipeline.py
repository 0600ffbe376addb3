"""The pipeline end to end: signed webhooks through gunicorn, moto SQS and a real worker, read back at the stand-ins."""

from __future__ import annotations

import re

import pytest

from localdev.polling import wait_for
from localdev.standins.openai_api import long_answer
from switchboard.domain.conversation import APOLOGY
from switchboard.domain.splitting import TWILIO_MAX_BODY
from switchboard.domain.user_commands import OPT_IN_TEXT, RESET_TEXT
from switchboard.settings import DEFAULT_SYSTEM_PROMPT
from tests.harness.pipeline import BOT_NUMBER, Stack, new_user
from tests.integration.observing import prompts_for, send_attempts_to, wait_until_settled

pytestmark = pytest.mark.integration


def system(text: str = DEFAULT_SYSTEM_PROMPT) -> dict[str, str]:
    return {"role": "system", "content": text}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def test_a_message_is_answered_to_its_sender_from_the_number_it_was_sent_to(stack: Stack) -> None:
    sender = new_user()

    status, _ = stack.send("What is the capital of France?", sender)

    assert status == 200
    assert stack.wait_for_replies(sender, 1) == ["echo: What is the capital of France?"]
    [sent] = [m for m in stack.twilio.client.messages() if m["to"] == sender]
    assert sent["from"] == BOT_NUMBER
    [request] = stack.openai.client.requests()
    assert request["model"] == stack.settings.openai_model == "gpt-test"
    assert request["messages"] == [system(), user("What is the capital of France?")]


def test_the_third_message_is_answered_with_the_earlier_turns_of_that_user_only(stack: Stack) -> None:
    alice, bob = new_user(), new_user()

    # Sent back to back, interleaved with another user: order must come from the pipeline, not from us.
    for body, who in [("a1", alice), ("b1", bob), ("a2", alice), ("b2", bob), ("a3", alice)]:
        assert stack.send(body, who)[0] == 200

    assert stack.wait_for_replies(alice, 3) == ["echo: a1", "echo: a2", "echo: a3"]
    assert stack.wait_for_replies(bob, 2) == ["echo: b1", "echo: b2"]
    assert prompts_for(stack, "a3") == [[
        system(), user("a1"), assistant("echo: a1"), user("a2"), assistant("echo: a2"), user("a3"),
    ]]
    assert prompts_for(stack, "b2") == [[system(), user("b1"), assistant("echo: b1"), user("b2")]]


def test_a_long_answer_arrives_as_ordered_parts_that_fit_twilios_limit(stack: Stack) -> None:
    sender = new_user()
    stack.openai.client.set_reply_length(4000)
    answer = long_answer(4000)

    stack.send("Tell me everything.", sender)

    stack.wait_for_replies(sender, 1, timeout=30)
    wait_until_settled(stack)
    parts = stack.replies_to(sender)
    assert len(parts) >= 3
    assert all(0 < len(part) <= TWILIO_MAX_BODY for part in parts), [len(part) for part in parts]
    assert _squash(" ".join(parts)) == _squash(answer)


def test_a_rate_limited_completion_is_retried_and_answered_once(stack: Stack) -> None:
    sender = new_user()
    stack.openai.client.fail(429, retry_after=1)

    stack.send("Are you busy?", sender)

    assert stack.wait_for_replies(sender, 1, timeout=30) == ["echo: Are you busy?"]
    wait_until_settled(stack)
    assert stack.replies_to(sender) == ["echo: Are you busy?"]
    assert len(stack.openai.client.requests()) == 2


def test_when_openai_keeps_failing_the_user_gets_one_apology_and_nothing_else(stack: Stack) -> None:
    sender = new_user()
    stack.openai.client.fail(500, times=-1)

    stack.send("Hello?", sender)

    # Five attempts with backoff capped at a third of the 12 s visibility timeout: about 10-15 s.
    assert stack.wait_for_replies(sender, 1, timeout=40) == [APOLOGY]
    wait_until_settled(stack)
    assert stack.replies_to(sender) == [APOLOGY]
    assert len(prompts_for(stack, "Hello?")) == 5


def test_reset_is_answered_without_openai_and_forgets_the_conversation(stack: Stack) -> None:
    sender = new_user()
    stack.send("remember me", sender)
    stack.wait_for_replies(sender, 1)

    stack.send("/reset", sender)

    assert stack.wait_for_replies(sender, 2) == ["echo: remember me", RESET_TEXT]
    assert prompts_for(stack, "/reset") == []
    assert len(stack.openai.client.requests()) == 1

    stack.send("who am I?", sender)

    assert stack.wait_for_replies(sender, 3)[-1] == "echo: who am I?"
    assert prompts_for(stack, "who am I?") == [[system(), user("who am I?")]]


def test_a_recipient_twilio_refuses_for_good_gets_one_attempt_and_is_answered_again_once_opted_back_in(
    stack: Stack,
) -> None:
    sender = new_user()
    stack.twilio.client.fail(400, twilio_code=21610, times=-1)

    stack.send("STOP then start again", sender)

    wait_for(lambda: send_attempts_to(stack, sender), timeout=30, message="a send attempt to the user")
    wait_until_settled(stack)
    assert len(send_attempts_to(stack, sender)) == 1
    assert stack.replies_to(sender) == []

    # 21610 says they unsubscribed: recorded as an opt-out, so nothing goes to them until START (issue 11).
    stack.twilio.client.reset()
    stack.send("START", sender)
    stack.send("hello again", sender)

    assert stack.wait_for_replies(sender, 2) == [OPT_IN_TEXT, "echo: hello again"]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
