"""A worker host that drops off the network mid-burst: the other host answers its messages, each exactly once.

The cut host's processes live on (only its switch port goes down, localdev/netns.py), so its
heartbeat stops reaching SQS and its leases stop reaching Redis: its messages come back after the
queues' visibility timeout and the other host answers them. When the host returns, nothing it
still held may produce a second answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from localdev.netns import Network
from localdev.polling import wait_for
from localdev.standins.openai_api import last_user_text
from tests.faults.conftest import assert_no_more_replies, echo, replies_by_user, tally, wait_until_drained
from tests.harness.pipeline import Stack, new_user
from tests.multihost.hosts import deployment, model_of
from tests.multihost.tls import ServerCertificate

pytestmark = [pytest.mark.multihost, pytest.mark.integration]

USERS, MESSAGES = 6, 3
COMPLETION_SECONDS = 1.5  # every completion stalls this long, so a host always has some in flight
VISIBILITY_TIMEOUT = 6  # the lowest the settings allow: the cut host's messages return this soon


def body(user_index: int, message: int) -> str:
    return f"user {user_index} message {message}"


def asked_by(stack: Stack, role: str) -> set[str]:
    """The texts whose completion the worker on host `role` asked the OpenAI stand-in for."""
    return {last_user_text(request["messages"]) for request in stack.openai.client.requests()
            if request["model"] == model_of(role)}


def replied(stack: Stack) -> set[str]:
    return {message["body"] for message in stack.twilio.client.messages()}


def send_in_order(stack: Stack, user: str, user_index: int) -> None:
    for message in range(1, MESSAGES + 1):
        status, _ = stack.send(body(user_index, message), user)
        assert status == 200, f"webhook answered {status} to {body(user_index, message)}"


def test_a_worker_host_cut_off_mid_burst_has_its_messages_answered_once_by_the_other_host(
    network: Network, vendor_certificate: ServerCertificate, tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    started = time.monotonic()
    with deployment(network, vendor_certificate, tmp_path, SQS_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT)) as running:
        stack, cut_host = running.stack, running.host("worker-a")
        stack.openai.client.stall(COMPLETION_SECONDS, times=-1)
        users = [new_user() for _ in range(USERS)]
        expected = {user: [echo(body(i, m)) for m in range(1, MESSAGES + 1)] for i, user in enumerate(users)}
        ready_seconds = time.monotonic() - started

        seen: set[str] = set()

        def just_started_on_cut_host() -> set[str] | None:
            """Completions the cut host asked for since the last look, once the burst is under way."""
            nonlocal seen
            under_way = len(replied(stack)) >= 2
            now = asked_by(stack, "worker-a")
            fresh, seen = now - seen, now
            return fresh if fresh and under_way else None

        with ThreadPoolExecutor(USERS) as senders:
            sends = [senders.submit(send_in_order, stack, user, i) for i, user in enumerate(users)]
            # A completion seen within one poll of its start is still stalled at the stand-in when the
            # port goes down, so its answer is lost: the cut host really holds that message.
            in_flight = wait_for(just_started_on_cut_host, timeout=60, interval=0.02,
                                 message="worker-a to start a completion mid-burst")
            network.cut(cut_host)
            cut_at = time.monotonic()
        for send in sends:
            send.result()

        # Read after the cut: what the cut host did before it, since it can reach nothing now.
        asked_before_cut = asked_by(stack, "worker-a")
        held = {text for text in asked_before_cut if echo(text) not in replied(stack)}
        wait_for(lambda: sum(map(len, replies_by_user(stack, users).values())) >= USERS * MESSAGES, timeout=60,
                 interval=0.2, message="a reply to every message")
        recovered_seconds = time.monotonic() - cut_at
        wait_until_drained(stack, timeout=30)
        during_cut = tally(expected, replies_by_user(stack, users))

        assert running.workers["worker-a"].is_running(), "the cut host's worker was to live on through the cut"
        assert asked_by(stack, "worker-a") == asked_before_cut, "the cut host reached OpenAI while cut off"
        assert in_flight <= held
        # Every reply to a held message came while its host was off the network: the other host gave it,
        # and it redid the completions whose answers the cut lost.
        assert in_flight <= asked_by(stack, "worker-b")
        assert (during_cut.answered, during_cut.missing, during_cut.duplicated, during_cut.out_of_order,
                during_cut.unexpected) == (USERS * MESSAGES, 0, 0, 0, 0), during_cut

        network.restore(cut_host)
        # Back on the network, the host finds its calls' answers lost and its receipts stale. The
        # conversations go on: one more message each, answered once and after the earlier ones, with
        # the returned host among the workers again.
        for i, user in enumerate(users):
            assert stack.send(body(i, MESSAGES + 1), user)[0] == 200
            expected[user].append(echo(body(i, MESSAGES + 1)))
        wait_for(lambda: sum(map(len, replies_by_user(stack, users).values())) >= USERS * (MESSAGES + 1),
                 timeout=60, interval=0.2, message="a reply to every follow-up")
        wait_until_drained(stack, timeout=30)
        # Whatever the returned host still held has had a visibility timeout since its return by the end
        # of this watch: no second reply may come of it.
        assert_no_more_replies(stack, users, seconds=VISIBILITY_TIMEOUT)
        outcome = tally(expected, replies_by_user(stack, users))
        assert (outcome.answered, outcome.missing, outcome.duplicated, outcome.out_of_order, outcome.unexpected) == (
            USERS * (MESSAGES + 1), 0, 0, 0, 0), outcome
        assert running.workers["worker-a"].is_running()

        observed = {"ready_seconds": f"{ready_seconds:.1f}", "held_at_cut": len(held),
                    "completions_lost_in_cut": len(in_flight), "recovered_seconds": f"{recovered_seconds:.1f}",
                    "completions_by_worker_b": len(asked_by(stack, "worker-b")),
                    "completions_by_worker_a_after_return": len(asked_by(stack, "worker-a") - asked_before_cut),
                    "outcome": outcome,
                    "total_seconds": f"{time.monotonic() - started:.1f}"}
        for name, value in observed.items():
            record_property(name, str(value))
        print("\n" + "; ".join(f"{name}: {value}" for name, value in observed.items()))
