"""A 20 s long poll, as on AWS, delays nobody: not a message on another queue, not a sender's next message.

Each stage queue has its own poll (kombu's async SQS client), so a message that lands on `complete`
while `intake` and `reply` are waiting out their 20 s is received at once. And a sender's next message
is handed to a poll that began while their previous one was in flight as soon as that one is deleted
(Amazon's behaviour; localdev/moto_fixes.py gives the emulator the same). Were either not so, each hop
would wait out a poll: 20 s a hop, far past the deadlines below.
"""

from collections.abc import Callable

import pytest

from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration

LONG_POLL = "20"
# Far below one poll's 20 s wait; the whole answer normally takes well under a second.
DEADLINE = 12


def test_with_aws_long_polls_every_hop_and_every_next_message_is_taken_at_once(
        stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(SQS_WAIT_TIME_SECONDS=LONG_POLL)
    stack.start_web()
    stack.start_worker(concurrency=4)
    user = new_user()

    for n, text in enumerate(["first", "second", "third"], start=1):
        assert stack.send(text, user)[0] == 200
        replies = stack.wait_for_replies(user, n, timeout=DEADLINE)
        assert replies[-1] == f"echo: {text}"
