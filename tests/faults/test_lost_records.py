"""A message whose Redis record is lost before the worker runs it: answered from Twilio's copy, or counted as dropped."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from localdev.polling import wait_for
from tests.faults.conftest import echo, replies_by_user, store_for, tally, wait_until_drained
from tests.harness.pipeline import BOT_NUMBER, Stack, new_message_sid, new_user

pytestmark = pytest.mark.integration


def test_a_lost_record_is_rebuilt_from_twilio_and_answered_and_one_twilio_lacks_is_counted_dropped(
    stack_factory: Callable[..., Stack], report: Callable[..., None]
) -> None:
    stack = stack_factory()
    stack.start_web()
    store = store_for(stack)
    kept_user, lost_user = new_user(), new_user()
    # Twilio holds its copy of the first message (as it does of every message it delivered to us).
    rebuilt_sid, dropped_sid = new_message_sid(), new_message_sid()
    stack.twilio.client.add_inbound(kept_user, BOT_NUMBER, "still there?", sid=rebuilt_sid)
    assert stack.send("still there?", kept_user, message_sid=rebuilt_sid)[0] == 200
    assert stack.send("gone for good", lost_user, message_sid=dropped_sid)[0] == 200
    # A Redis failover loses the last writes: both records vanish before any worker runs them.
    for sid in (rebuilt_sid, dropped_sid):
        store.redis.delete(store._msg(sid))

    worker = stack.start_worker(concurrency=4)

    assert stack.wait_for_replies(kept_user, 1, timeout=60) == [echo("still there?")]
    wait_for(lambda: "cannot be rebuilt (not_in_twilio)" in worker.run_output(), timeout=60,
             message="the unrecoverable message counted as dropped")
    wait_until_drained(stack, timeout=60)
    outcome = tally({kept_user: [echo("still there?")]}, replies_by_user(stack, [kept_user]))
    report(outcome=outcome, dropped=1)
    assert (outcome.answered, outcome.duplicated) == (1, 0)
    assert stack.replies_to(lost_user) == []
    assert "rebuilt it from Twilio's copy" in worker.run_output()
