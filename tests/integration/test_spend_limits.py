"""Spend limits and refusals through every real part: gunicorn → moto SQS → celery worker → stand-ins."""

from collections.abc import Callable

import pytest
import requests

from switchboard.domain.conversation import APOLOGY
from switchboard.domain.user_commands import FLAGGED_TEXT, OVER_BUDGET_TEXT
from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration


def test_over_the_global_budget_the_next_sender_is_told_politely_and_no_model_is_called(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory(COMPLETION_BUDGET_PER_MINUTE="1")
    stack.start_web()
    stack.start_worker(concurrency=2)
    first, second = new_user(), new_user()

    stack.send("hello", first)
    assert stack.wait_for_replies(first, 1) == ["echo: hello"]
    stack.send("hello too", second)
    assert stack.wait_for_replies(second, 1) == [OVER_BUDGET_TEXT]

    assert len(stack.openai.client.requests()) == 1


def test_a_refusal_is_answered_with_the_apology_after_one_paid_call(stack: Stack) -> None:
    requests.post(f"{stack.openai.base_url}/_standin/refuse", json={"times": 5}, timeout=5).raise_for_status()
    user = new_user()

    stack.send("something refused", user)

    assert stack.wait_for_replies(user, 1) == [APOLOGY]
    assert len(stack.openai.client.requests()) == 1


def test_with_moderation_on_a_flagged_message_gets_the_fixed_answer_and_no_completion(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory(OPENAI_MODERATION="true")
    stack.start_web()
    stack.start_worker(concurrency=2)
    requests.post(f"{stack.openai.base_url}/_standin/flag", json={"phrase": "forbidden words"},
                  timeout=5).raise_for_status()
    flagged, fine = new_user(), new_user()

    stack.send("some forbidden words here", flagged)
    stack.send("a fine question", fine)

    assert stack.wait_for_replies(flagged, 1) == [FLAGGED_TEXT]
    assert stack.wait_for_replies(fine, 1) == ["echo: a fine question"]
    assert len(stack.openai.client.requests()) == 1  # the completion for the fine question only
