"""Per-user order under load: many users at once, many messages each, many threads and workers."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.faults.conftest import assert_no_more_replies, echo, replies_by_user, tally, wait_until_drained
from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration

USERS = 10
MESSAGES_PER_USER = 6


@dataclass(frozen=True)
class Deployment:
    workers: int
    concurrency: int
    fifo: bool


@pytest.mark.parametrize("deployment", [
    pytest.param(Deployment(workers=1, concurrency=16, fifo=True), id="one-worker-16-threads-fifo"),
    pytest.param(Deployment(workers=2, concurrency=8, fifo=True), id="two-workers-fifo"),
    pytest.param(Deployment(workers=1, concurrency=16, fifo=False), id="one-worker-16-threads-standard-queues"),
])
def test_every_user_gets_every_reply_once_in_the_order_they_wrote(
    stack_factory: Callable[..., Stack], report: Callable[..., None], deployment: Deployment
) -> None:
    stack = stack_factory(SQS_FIFO=str(deployment.fifo).lower())
    stack.start_web()
    for _ in range(deployment.workers):
        stack.start_worker(concurrency=deployment.concurrency)
    users = [new_user() for _ in range(USERS)]
    bodies = {user: [f"{user[-4:]} says {i}" for i in range(1, MESSAGES_PER_USER + 1)] for user in users}

    def write(user: str) -> list[int]:
        # One user types their messages one after another; the other users do the same at the same time.
        return [stack.send(body, user)[0] for body in bodies[user]]

    with ThreadPoolExecutor(max_workers=USERS) as pool:
        statuses = [status for per_user in pool.map(write, users) for status in per_user]
    assert statuses == [200] * USERS * MESSAGES_PER_USER

    wait_until_drained(stack, timeout=120)
    assert_no_more_replies(stack, users)
    expected = {user: [echo(body) for body in bodies[user]] for user in users}
    received = replies_by_user(stack, users)
    outcome = tally(expected, received)
    report(deployment=deployment, outcome=outcome)
    assert received == expected, outcome
