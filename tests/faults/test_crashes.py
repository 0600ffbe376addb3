"""Workers that die or are stopped mid-work: every accepted message is still answered, exactly once."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest

from localdev.polling import wait_for
from tests.faults.conftest import (
    assert_no_more_replies,
    completions_for,
    echo,
    replies_by_user,
    tally,
    wait_until_drained,
)
from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration


def test_a_worker_killed_mid_completion_is_replaced_and_the_user_gets_exactly_one_reply(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    # The timeout is raised so the stalled completion is still in flight when the worker dies.
    stack = stack_factory(OPENAI_TIMEOUT_SECONDS="30")
    stack.start_web()
    worker = stack.start_worker(concurrency=4)
    stack.openai.client.stall(8, times=1)
    user = new_user()

    assert stack.send("are you still there?", user)[0] == 200
    wait_for(lambda: completions_for(stack, "are you still there?"), timeout=30,
             message="the completion to reach OpenAI")
    worker.kill()  # SIGKILL of the whole process group, mid-completion
    killed_at = time.monotonic()
    stack.start_worker(concurrency=4)

    assert stack.wait_for_replies(user, 1, timeout=60) == [echo("are you still there?")]
    recovery_seconds = time.monotonic() - killed_at
    wait_until_drained(stack)
    assert_no_more_replies(stack, [user])
    assert stack.replies_to(user) == [echo("are you still there?")]
    # The first call died with the worker, so the replacement asked again: the crash really was mid-call.
    assert len(completions_for(stack, "are you still there?")) == 2
    visibility = stack.settings.sqs_visibility_timeout
    report(recovery_seconds=f"{recovery_seconds:.1f}", visibility_timeout=visibility,
           outcome=tally({user: [echo("are you still there?")]}, replies_by_user(stack, [user])))
    # The message comes back when its (heartbeat-extended) visibility runs out: at most one timeout after the kill.
    assert recovery_seconds < visibility + 8


def test_a_warm_shutdown_under_load_loses_nothing_and_answers_nothing_twice(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    stack = stack_factory()
    stack.start_web()
    worker = stack.start_worker(concurrency=8)
    # Each completion takes a moment, so the shutdown finds work running, prefetched and waiting its turn.
    stack.openai.client.stall(0.5, times=-1)
    users = [new_user() for _ in range(10)]
    expected = {user: [echo(f"{user[-4:]} message {i}") for i in (1, 2)] for user in users}

    for i in (1, 2):
        for user in users:
            assert stack.send(f"{user[-4:]} message {i}", user)[0] == 200
    wait_for(lambda: sum(map(len, replies_by_user(stack, users).values())) >= 2, timeout=30,
             message="the first replies")
    answered_before_shutdown = sum(map(len, replies_by_user(stack, users).values()))
    assert worker.stop(signal.SIGTERM, timeout=30) == 0
    stack.start_worker(concurrency=8)

    wait_until_drained(stack, timeout=90)
    assert_no_more_replies(stack, users)
    outcome = tally(expected, replies_by_user(stack, users))
    report(answered_before_shutdown=answered_before_shutdown, outcome=outcome)
    assert answered_before_shutdown < outcome.sent, "the shutdown came too late to find work in flight"
    assert (outcome.answered, outcome.missing, outcome.duplicated, outcome.out_of_order, outcome.unexpected) == (
        outcome.sent, 0, 0, 0, 0)


def test_a_worker_restarted_while_idle_answers_what_arrived_while_it_was_down(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    stack = stack_factory()
    stack.start_web()
    worker = stack.start_worker(concurrency=4)
    user = new_user()
    assert stack.send("before the restart", user)[0] == 200
    assert stack.wait_for_replies(user, 1) == [echo("before the restart")]
    wait_until_drained(stack)

    assert worker.stop(signal.SIGTERM) == 0
    bodies = [f"while down {i}" for i in range(1, 4)]
    for body in bodies:
        assert stack.send(body, user)[0] == 200
    stack.start_worker(concurrency=4)

    expected = [echo("before the restart"), *map(echo, bodies)]
    assert stack.wait_for_replies(user, len(expected), timeout=60) == expected
    wait_until_drained(stack)
    assert_no_more_replies(stack, [user])
    outcome = tally({user: expected}, replies_by_user(stack, [user]))
    report(outcome=outcome)
    assert stack.replies_to(user) == expected
