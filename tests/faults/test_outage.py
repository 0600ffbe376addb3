"""SQS down or hanging: the webhook still answers 200 in time, and the outbox relay delivers later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from localdev.moto_server import MotoServer
from switchboard.clients.sqs_admin import init_queues
from tests.faults.outage_support import (
    WEBHOOK_BOUND_SECONDS,
    HangingBroker,
    store_for,
    tally,
    timed_send,
    wait_until_settled,
)
from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration


@pytest.fixture
def own_moto(log_dir: Path) -> Iterator[MotoServer]:
    """An SQS endpoint of this test's own, so stopping it leaves the session's moto alone."""
    server = MotoServer(log_dir / "outage-moto.log").start()
    yield server
    server.kill()


def send_per_user_in_parallel(stack: Stack, bodies_by_user: dict[str, list[str]]) -> list[tuple[int, float]]:
    """Users write at the same time; each user's own messages go one after another (that is their order)."""
    def one_user(user: str) -> list[tuple[int, float]]:
        return [timed_send(stack, body, user) for body in bodies_by_user[user]]

    with ThreadPoolExecutor(max_workers=len(bodies_by_user)) as pool:
        return [timing for timings in pool.map(one_user, bodies_by_user) for timing in timings]


def test_messages_sent_while_sqs_is_down_are_answered_once_in_order_after_it_returns(
    stack_factory: Callable[..., Stack], own_moto: MotoServer, record_property: Callable[[str, object], None]
) -> None:
    stack = stack_factory(SQS_ENDPOINT_URL=own_moto.endpoint_url)  # queues are created on our own moto
    stack.start_web()
    alice, bob = new_user(), new_user()

    own_moto.stop()
    timings = send_per_user_in_parallel(stack, {alice: ["a1", "a2", "a3"], bob: ["b1", "b2"]})

    record_property("webhook_seconds_while_sqs_down", [round(seconds, 2) for _, seconds in timings])
    assert [status for status, _ in timings] == [200] * 5
    assert max(seconds for _, seconds in timings) < WEBHOOK_BOUND_SECONDS, timings
    with store_for(stack.settings) as store:
        assert store.outbox_size() == 5

    own_moto.start()
    init_queues(stack.settings)  # a restarted moto has lost every queue
    stack.start_worker(concurrency=8)
    # Sent once SQS is back but while a1-a3 still wait in the outbox: it must not overtake them.
    assert stack.send("a4", alice)[0] == 200

    expected = {alice: ["echo: a1", "echo: a2", "echo: a3", "echo: a4"], bob: ["echo: b1", "echo: b2"]}
    assert stack.wait_for_replies(alice, 4, timeout=60) == expected[alice]
    assert stack.wait_for_replies(bob, 2, timeout=30) == expected[bob]
    wait_until_settled(stack)
    received = {user: stack.replies_to(user) for user in expected}
    record_property("tally", tally(expected, received))
    assert received == expected


def test_a_broker_that_accepts_connections_but_never_answers_does_not_hold_the_webhook(
    stack_factory: Callable[..., Stack], record_property: Callable[[str, object], None]
) -> None:
    broker = HangingBroker()
    try:
        stack = stack_factory()
        # Only the web tier talks to the stuck broker; the queues exist on the session's moto.
        stack.env["SQS_ENDPOINT_URL"] = broker.endpoint_url
        stack.start_web()
        users = [new_user() for _ in range(3)]

        timings = send_per_user_in_parallel(stack, {user: ["are you stuck?"] for user in users})

        record_property("webhook_seconds_with_hanging_broker", [round(seconds, 2) for _, seconds in timings])
        assert [status for status, _ in timings] == [200, 200, 200]
        assert max(seconds for _, seconds in timings) < WEBHOOK_BOUND_SECONDS, timings
        assert broker.accepted, "the web process never reached the hanging broker"
        with store_for(stack.settings) as store:
            assert store.outbox_size() == 3
    finally:
        broker.close()
