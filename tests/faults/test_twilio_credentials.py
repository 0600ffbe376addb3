"""A rotated Twilio token: replies are kept and retried slowly past the normal give-up, then delivered once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.conftest import echo, replies_by_user, tally, wait_until_drained
from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration

# One more refusal than the reply's normal attempts (REPLY_MAX_ATTEMPTS = 6): a transient error this
# many times in a row would have been given up.
REFUSALS = 7


def test_replies_refused_for_our_credentials_are_kept_past_the_normal_give_up_and_sent_once_fixed(
    stack: Stack, report: Callable[..., None]
) -> None:
    user = new_user()
    stack.twilio.client.fail(401, times=REFUSALS, twilio_code=20003, endpoint="create")

    assert stack.send("hello after rotation", user)[0] == 200

    assert stack.wait_for_replies(user, 1, timeout=120) == [echo("hello after rotation")]
    wait_until_drained(stack)
    creates = [r for r in stack.twilio.client.requests()
               if r["method"] == "POST" and r["path"].endswith("/Messages.json")]  # not the typing indicator
    outcome = tally({user: [echo("hello after rotation")]}, replies_by_user(stack, [user]))
    report(outcome=outcome, refused_sends=REFUSALS, send_attempts=len(creates))
    assert (outcome.answered, outcome.duplicated) == (1, 0)
    assert len(creates) == REFUSALS + 1
    assert "keeping the reply" in stack.workers[0].run_output()
