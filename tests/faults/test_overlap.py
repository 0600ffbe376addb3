"""Two worker processes running one message's steps at once: one OpenAI call per turn, each part sent once."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

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

# Publishes each message's chain a second time, as a late publish or a redelivery would hand it over:
# fresh deduplication ids, so SQS keeps it. On FIFO, SQS itself holds a group's second copy back while
# the first is in flight, until the visibility runs out (a heartbeat that cannot reach SQS); a copy in
# another group stands in for that here, so the two runs really overlap.
REPUBLISH = """
import sys
from tasks.links import pipeline_for
for pair in sys.argv[1:]:
    message_sid, conversation = pair.split(",")
    chain = pipeline_for(message_sid, conversation)
    for link in chain.tasks:
        if "MessageDeduplicationId" in link.options:
            link.set(MessageDeduplicationId=link.options["MessageDeduplicationId"] + "-again",
                     MessageGroupId=link.options["MessageGroupId"] + "-again")
    chain.apply_async()
"""

STALL_SECONDS = 8  # each first OpenAI call and each first Twilio send: the other copy arrives meanwhile


@pytest.mark.parametrize("fifo", ["true", "false"], ids=["fifo", "standard-queues"])
def test_two_workers_running_one_message_twice_at_once_make_one_openai_call_and_send_one_reply(
    stack_factory: Callable[..., Stack], report: Callable[..., None], fifo: str
) -> None:
    stack = stack_factory(SQS_FIFO=fifo, OPENAI_TIMEOUT_SECONDS="15", TWILIO_TIMEOUT_SECONDS="15")
    stack.start_web()
    users = [new_user() for _ in range(2)]
    sids = {user: new_message_sid() for user in users}
    for user in users:
        assert stack.send(f"{user[-4:]} asks once", user, message_sid=sids[user])[0] == 200
    store = store_for(stack)
    pairs = [f"{sid},{store.load(sid).conversation}" for sid in sids.values()]  # type: ignore[union-attr]
    store.redis.close()
    # Both copies of every chain wait in SQS before any worker runs, so they are taken up together.
    run_in_stack_env(stack, [sys.executable, "-c", REPUBLISH, *pairs])
    stack.openai.client.stall(STALL_SECONDS, times=len(users))
    stack.twilio.client.stall(STALL_SECONDS, times=len(users))
    workers = [stack.start_worker(concurrency=2), stack.start_worker(concurrency=2)]

    wait_until_drained(stack, timeout=60)
    assert_no_more_replies(stack, users)
    expected = {user: [echo(f"{user[-4:]} asks once")] for user in users}
    outcome = tally(expected, replies_by_user(stack, users))
    openai_calls = {user[-4:]: len(completions_for(stack, f"{user[-4:]} asks once")) for user in users}
    logs = "".join(worker.log_text() for worker in workers)
    waited = {"complete": logs.count("is being answered by another run"),
              "reply": logs.count("reply is being sent by another run")}
    report(outcome=outcome, openai_calls=openai_calls, runs_that_waited=waited)  # sent / answered / duplicated …
    assert (outcome.answered, outcome.duplicated, outcome.missing) == (len(users), 0, 0), outcome
    assert set(openai_calls.values()) == {1}
    # Proof that the runs overlapped: a second copy found the first one's lease. Which step it meets
    # it at depends on when the second worker comes up (seconds, on a loaded machine), so either counts.
    assert waited["complete"] + waited["reply"] >= 1, waited


def test_a_worker_killed_after_twilio_accepted_a_part_is_replaced_without_sending_it_twice(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    stack = stack_factory()
    stack.start_web()
    worker = stack.start_worker(concurrency=2)
    user = new_user()
    # Twilio accepts the part, then its answer never comes back in time: the worker dies waiting.
    stack.twilio.client.add_fault(delay_seconds=60, after_accept=True)

    assert stack.send("did you get that?", user)[0] == 200
    stack.wait_for_replies(user, 1, timeout=30)
    worker.kill()
    replacement = stack.start_worker(concurrency=2)

    wait_until_drained(stack, timeout=60)
    assert_no_more_replies(stack, [user])
    outcome = tally({user: [echo("did you get that?")]}, replies_by_user(stack, [user]))
    lookups = [r for r in stack.twilio.client.requests() if r["method"] == "GET" and r["params"].get("To") == user]
    report(outcome=outcome, log_lookups=len(lookups))
    assert stack.replies_to(user) == [echo("did you get that?")], outcome
    assert lookups, "the replacement recorded the part without looking in Twilio's log"
    assert "accepted by an earlier run" in replacement.log_text()
