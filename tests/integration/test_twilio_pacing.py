"""Outbound pacing through the whole pipeline: two workers share one limit on Twilio requests, rate limits back off."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.harness.pipeline import Stack, new_user
from tests.integration.observing import send_attempts_to, wait_until_settled

pytestmark = pytest.mark.integration

LIMIT = 3


def test_two_workers_never_have_more_twilio_requests_in_flight_than_the_shared_limit(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory(TWILIO_MAX_CONCURRENT_REQUESTS=str(LIMIT))
    stack.start_web()
    stack.start_worker(concurrency=8)
    stack.start_worker(concurrency=8)
    stack.twilio.client.set_latency(0.3)  # every create is slow, so sixteen reply threads would overlap
    users = {new_user(): f"hello {i}" for i in range(24)}

    for user, body in users.items():
        assert stack.send(body, user)[0] == 200

    for user, body in users.items():
        assert stack.wait_for_replies(user, 1, timeout=120) == [f"echo: {body}"]
    wait_until_settled(stack, timeout=60)
    assert {user: stack.replies_to(user) for user in users} == {user: [f"echo: {body}"] for user, body in users.items()}
    load = stack.twilio.client.load()["max_in_flight"]
    assert 2 <= load["create"] <= LIMIT, load  # the sends did overlap, and never past the limit
    assert load["all"] <= LIMIT, load  # typing indicators and status reads take the same slots


@pytest.mark.parametrize(("code", "retry_after"), [(20429, 1.0), (63018, None)])
def test_a_send_refused_for_rate_is_sent_again_after_the_hold_and_answered_once(
    stack_factory: Callable[..., Stack], code: int, retry_after: float | None
) -> None:
    stack = stack_factory()
    stack.start_web()
    stack.start_worker(concurrency=4)
    stack.twilio.client.rate_limit(code, retry_after=retry_after)
    user = new_user()

    assert stack.send("hello, slowly", user)[0] == 200

    assert stack.wait_for_replies(user, 1, timeout=60) == ["echo: hello, slowly"]
    wait_until_settled(stack)
    assert stack.replies_to(user) == ["echo: hello, slowly"]
    # Refused once, then sent once: a retry that came back while the hold lasted did not reach Twilio.
    assert [a["params"]["Body"] for a in send_attempts_to(stack, user)] == ["echo: hello, slowly"] * 2
