"""Deployment options change how the pipeline runs, never whether users are answered."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

from switchboard.clients.sqs_admin import queue_names
from tests.harness.pipeline import Stack, new_user
from tests.integration.observing import send_attempts_to, sqs_for

pytestmark = pytest.mark.integration


def test_with_a_messaging_service_replies_are_sent_through_it_and_not_from_a_number(
    stack_factory: Callable[..., Stack],
) -> None:
    service = "MG" + uuid.uuid4().hex
    stack = stack_factory(TWILIO_MESSAGING_SERVICE_SID=service)
    stack.start_web()
    stack.start_worker(concurrency=4)
    sender = new_user()

    stack.send("hi there", sender)

    assert stack.wait_for_replies(sender, 1) == ["echo: hi there"]
    [attempt] = send_attempts_to(stack, sender)
    assert attempt["params"]["MessagingServiceSid"] == service
    assert "From" not in attempt["params"]


def test_on_standard_queues_a_users_messages_are_answered_in_order(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(SQS_FIFO="false")
    stack.start_web()
    stack.start_worker(concurrency=8)
    sender = new_user()
    bodies = ["first", "second", "third", "fourth"]

    for body in bodies:
        assert stack.send(body, sender)[0] == 200

    assert stack.wait_for_replies(sender, 4, timeout=45) == [f"echo: {body}" for body in bodies]
    # The deployment really ran on standard queues: none of its queues is FIFO.
    sqs, names = sqs_for(stack.settings), queue_names(stack.settings)
    urls = sqs.list_queues(QueueNamePrefix=names.prefix)["QueueUrls"]
    assert len(urls) == 6 and not any(url.endswith(".fifo") for url in urls)


def test_on_standard_queues_a_message_waiting_behind_a_slow_answer_is_answered_right_after_it(
    stack_factory: Callable[..., Stack],
) -> None:
    # Without FIFO groups only the per-conversation turn keeps order: the second message's
    # completion checks every second whether the first has its answer.
    stack = stack_factory(SQS_FIFO="false", OPENAI_TIMEOUT_SECONDS="15")
    stack.start_web()
    stack.start_worker(concurrency=8)
    sender = new_user()
    stack.openai.client.stall(6)  # the first completion takes 6 s

    stack.send("a hard question", sender)
    stack.send("and a quick one", sender)

    stack.wait_for_replies(sender, 1, timeout=30)
    first_arrived = time.monotonic()
    assert stack.wait_for_replies(sender, 2, timeout=30) == ["echo: a hard question", "echo: and a quick one"]
    # Waiting its turn must not fail the task: a redelivery after the 12 s visibility timeout is too late.
    assert time.monotonic() - first_arrived < 5
