"""At-least-once delivery, processed once: slow work, Twilio retries and SQS redeliveries give one reply."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from localdev.polling import wait_for
from tests.faults.conftest import (
    assert_no_more_replies,
    completions_for,
    echo,
    replies_by_user,
    run_in_stack_env,
    store_for,
    tally,
    wait_until_drained,
)
from tests.harness.pipeline import Stack, new_message_sid, new_user

pytestmark = pytest.mark.integration

# Publishes a message's chain again from outside the web app, as an SQS redelivery would hand it over.
# "fresh" gives every link a new deduplication id, so a FIFO queue cannot drop it as a duplicate
# (as after SQS's five-minute deduplication window, or a redrive).
REPUBLISH = """
import sys
from tasks.links import pipeline_for
message_sid, conversation, mode = sys.argv[1:4]
chain = pipeline_for(message_sid, conversation)
if mode == "fresh":
    for link in chain.tasks:
        if "MessageDeduplicationId" in link.options:
            link.set(MessageDeduplicationId=link.options["MessageDeduplicationId"] + "-again")
chain.apply_async()
"""


def test_a_completion_slower_than_the_visibility_timeout_is_run_once_while_its_worker_lives(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    stack = stack_factory(OPENAI_TIMEOUT_SECONDS="30")
    stack.start_web()
    stack.start_worker(concurrency=4)
    stack.start_worker(concurrency=4)  # idle and polling: it would take the message if it became visible
    stall_seconds = 20
    assert stall_seconds > stack.settings.sqs_visibility_timeout
    stack.openai.client.stall(stall_seconds, times=1)
    user = new_user()

    assert stack.send("think about it slowly", user)[0] == 200

    assert stack.wait_for_replies(user, 1, timeout=stall_seconds + 30) == [echo("think about it slowly")]
    wait_until_drained(stack)
    assert_no_more_replies(stack, [user])
    completions = len(completions_for(stack, "think about it slowly"))
    report(openai_requests=completions,
           outcome=tally({user: [echo("think about it slowly")]}, replies_by_user(stack, [user])))
    assert stack.replies_to(user) == [echo("think about it slowly")]
    assert completions == 1, "the message became visible while its worker was still working on it"


@pytest.fixture
def running(stack_factory: Callable[..., Stack]) -> Stack:
    stack = stack_factory()
    stack.start_web()
    stack.start_worker(concurrency=4)
    return stack


def test_a_twilio_retry_of_the_same_message_sid_gets_one_reply(running: Stack, report: Callable[..., None]) -> None:
    user, sid = new_user(), new_message_sid()

    assert running.send("hello once", user, message_sid=sid)[0] == 200
    assert running.send("hello once", user, message_sid=sid)[0] == 200  # Twilio retrying the webhook

    assert running.wait_for_replies(user, 1) == [echo("hello once")]
    wait_until_drained(running)
    assert_no_more_replies(running, [user])
    report(webhooks=2, outcome=tally({user: [echo("hello once")]}, replies_by_user(running, [user])))
    assert running.replies_to(user) == [echo("hello once")]


def test_five_concurrent_deliveries_of_one_webhook_get_one_reply(running: Stack, report: Callable[..., None]) -> None:
    user, sender = new_user(), running.sender
    assert sender is not None
    form = sender.form("hello at once", user)
    start = threading.Barrier(5)

    def post() -> int:
        start.wait(timeout=10)  # released together, so the five requests race in the web app
        return sender.post_form(form)[0]

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: post(), range(5)))

    assert statuses == [200] * 5
    assert running.wait_for_replies(user, 1) == [echo("hello at once")]
    wait_until_drained(running)
    assert_no_more_replies(running, [user])
    report(webhooks=5, outcome=tally({user: [echo("hello at once")]}, replies_by_user(running, [user])))
    assert running.replies_to(user) == [echo("hello at once")]


def test_a_chain_delivered_again_after_the_reply_sends_nothing_more(
    running: Stack, report: Callable[..., None]
) -> None:
    user, sid = new_user(), new_message_sid()
    assert running.send("hello again", user, message_sid=sid)[0] == 200
    assert running.wait_for_replies(user, 1) == [echo("hello again")]
    wait_until_drained(running)
    stored = store_for(running).load(sid)
    assert stored is not None
    [worker] = running.workers

    for mode in ("same", "fresh"):
        run_in_stack_env(running, [sys.executable, "-c", REPUBLISH, sid, stored.conversation, mode])
    # The redelivered chain did reach the worker and ran to its last link (without this, a publish
    # that went nowhere would pass the test).
    wait_for(lambda: worker.run_output().count(f"[{sid}] reply: sent") >= 2, timeout=30,
             message="the redelivered chain's reply task to run")
    wait_until_drained(running)
    assert_no_more_replies(running, [user])
    report(deliveries_of_the_chain=3,
           outcome=tally({user: [echo("hello again")]}, replies_by_user(running, [user])))
    assert running.replies_to(user) == [echo("hello again")]
    assert len(completions_for(running, "hello again")) == 1
