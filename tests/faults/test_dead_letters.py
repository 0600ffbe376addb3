"""Poison messages: the user gets the apology once, the message waits in the DLQ, and a redrive sends nothing twice."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from localdev.polling import wait_for
from switchboard.clients.sqs_admin import queue_depths, queue_names, sqs_client
from switchboard.domain.conversation import APOLOGY
from switchboard.store import ConversationStore
from tests.faults.conftest import (
    assert_no_more_replies,
    echo,
    replies_by_user,
    store_for,
    switchboard_cli,
    tally,
    wait_until_drained,
)
from tests.harness.pipeline import Stack, new_message_sid, new_user

pytestmark = pytest.mark.integration


def dead_letters_listed(stack: Stack) -> list[tuple[str, ...]]:
    """(stage, task, MessageSid) of each row `switchboard dlq list` prints, as an operator reads them."""
    output = switchboard_cli(stack, "dlq", "list")
    return [tuple(line.split()[:3]) for line in output.splitlines()[1:-1]]


def dead_letter_count(stack: Stack) -> int:
    """Messages in the dead-letter queues, hidden or not, from the queues' attributes (reading hides nothing)."""
    depths = queue_depths(sqs_client(stack.settings), queue_names(stack.settings))
    return sum(depth.visible + depth.in_flight + depth.delayed for depth in depths if "-dlq" in depth.name)


def accept_poisoned(stack: Stack, user: str, field: str, value: str) -> tuple[ConversationStore, str]:
    """Accept a message while no worker runs, then spoil one field of its record so every delivery fails."""
    sid = new_message_sid()
    assert stack.send("this one is broken", user, message_sid=sid)[0] == 200
    store = store_for(stack)
    # The store owns the key layout; the test only spoils one value in it.
    store.redis.hset(store._msg(sid), field, value)
    return store, sid


def test_a_message_failing_every_delivery_gets_the_apology_then_after_a_redrive_its_real_answer_as_a_follow_up(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    stack = stack_factory(SQS_MAX_RECEIVE_COUNT="2")
    stack.start_web()
    user = new_user()
    # intake finds a result it does not know; the apology path can still read the message.
    store, sid = accept_poisoned(stack, user, "intake", "not-a-command")
    worker = stack.start_worker(concurrency=4)

    assert stack.wait_for_replies(user, 1, timeout=60) == [APOLOGY]
    # SQS moves the message to the dead-letter queue when it would hand it out a third time.
    wait_for(lambda: dead_letter_count(stack) == 1, timeout=60, message="the message in the dead-letter queue")
    assert dead_letters_listed(stack) == [("intake", "switchboard.intake", sid)]

    # The operator repairs the data, then replays the dead letter: now that the cause is fixed, the
    # user gets the real answer as a follow-up to the apology, once.
    store.redis.hdel(store._msg(sid), "intake")
    redriven = switchboard_cli(stack, "dlq", "redrive").strip()
    assert redriven.startswith("redrove 1 message(s)")
    wait_for(lambda: f"[{sid}] intake: chat" in worker.run_output(), timeout=60,
             message="the redriven message to run")
    expected = [APOLOGY, echo("this one is broken")]
    stack.wait_for_replies(user, 2, timeout=60)
    wait_until_drained(stack)
    assert_no_more_replies(stack, [user])
    report(redrive=redriven, outcome=tally({user: expected}, replies_by_user(stack, [user])))
    assert stack.replies_to(user) == expected
    assert dead_letter_count(stack) == 0
    # A second redrive of the same message (were it dead-lettered again) would not follow up twice.
    assert not store.reopen_for_follow_up(sid, APOLOGY)


def test_a_message_whose_stored_record_is_corrupt_still_gets_the_apology_once(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    # One delivery is enough to reach the give-up path (it is the last one), and keeps the test short.
    stack = stack_factory(SQS_MAX_RECEIVE_COUNT="1")
    stack.start_web()
    user = new_user()
    # The sequence number is unreadable, so loading the message fails: in intake and in any apology
    # path that goes through the normal load.
    accept_poisoned(stack, user, "seq", "notanumber")
    stack.start_worker(concurrency=4)

    visibility = stack.settings.sqs_visibility_timeout
    wait_for(lambda: dead_letter_count(stack) == 1, timeout=2 * visibility + 20,
             message="the message in the dead-letter queue")
    assert_no_more_replies(stack, [user])
    report(outcome=tally({user: [APOLOGY]}, replies_by_user(stack, [user])))
    assert stack.replies_to(user) == [APOLOGY], "the user never heard from us"
