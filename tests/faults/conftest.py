"""What fault tests read back from a running stack: replies per user, their tally, and when all work is done."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pytest

from localdev.polling import wait_for
from localdev.processes import REPO_ROOT
from localdev.standins.openai_api import last_user_text
from switchboard.clients.sqs_admin import queue_depths, queue_names, sqs_client
from switchboard.services import build_store
from switchboard.store import ConversationStore
from tests.harness.pipeline import Stack


@dataclass(frozen=True)
class Tally:
    """What users received against what they sent: the numbers each fault test reports."""

    sent: int
    answered: int
    missing: int
    duplicated: int
    out_of_order: int
    unexpected: int

    def __str__(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in asdict(self).items())


def echo(body: str) -> str:
    """The OpenAI stand-in's answer to `body` (when no reply is injected)."""
    return f"echo: {body}"


def tally(expected: Mapping[str, Sequence[str]], received: Mapping[str, Sequence[str]]) -> Tally:
    """Compare, per user, the replies expected (in order) with those received (in arrival order)."""
    sent = answered = missing = duplicated = out_of_order = unexpected = 0
    for user, wanted in expected.items():
        got = list(received.get(user, []))
        sent += len(wanted)
        seen: set[str] = set()
        last_position = -1
        for reply in got:
            if reply not in wanted:
                unexpected += 1
                continue
            if reply in seen:
                duplicated += 1
                continue
            seen.add(reply)
            position = wanted.index(reply)
            if position < last_position:
                out_of_order += 1
            last_position = max(last_position, position)
        answered += len(seen)
        missing += len(wanted) - len(seen)
    return Tally(sent, answered, missing, duplicated, out_of_order, unexpected)


def replies_by_user(stack: Stack, users: Sequence[str]) -> dict[str, list[str]]:
    """Every reply the Twilio stand-in accepted, per user, in the order it accepted them (one read)."""
    by_user: dict[str, list[str]] = {user: [] for user in users}
    for message in stack.twilio.client.messages():
        if message["to"] in by_user:
            by_user[message["to"]].append(message["body"])
    return by_user


def completions_for(stack: Stack, user_text: str) -> list[dict[str, Any]]:
    """Every completion request the OpenAI stand-in received whose newest user turn is `user_text`."""
    return [request for request in stack.openai.client.requests() if last_user_text(request["messages"]) == user_text]


def store_for(stack: Stack) -> ConversationStore:
    return build_store(stack.settings)


def wait_until_drained(stack: Stack, timeout: float = 60) -> None:
    """Wait until every accepted message has a finished reply and no stage queue holds anything.

    A task publishes its next link (or its retry) before its own message is deleted, so empty stage
    queues (nothing visible, in flight or delayed) plus nothing unanswered in Redis means no more
    replies can be sent: counts read after this are final.
    """
    store, sqs, names = store_for(stack), sqs_client(stack.settings), queue_names(stack.settings)

    def drained() -> bool:
        unanswered, _ = store.unanswered()
        if unanswered:
            return False
        return not any(
            depth.visible or depth.in_flight or depth.delayed
            for depth in queue_depths(sqs, names) if "-dlq" not in depth.name
        )

    try:
        wait_for(drained, timeout=timeout, interval=0.2, message="every message answered and every stage queue empty")
    finally:
        store.redis.close()


def assert_no_more_replies(stack: Stack, users: Sequence[str], seconds: float = 1.0) -> None:
    """Fail if any of `users` receives another reply within `seconds`.

    Used after `wait_until_drained`, which already implies that nothing more can be sent; this short,
    deadline-bounded watch is a second line of defence against a straggler the queues do not show
    (a send already on the wire when the counts were read). There is no event to wait for when the
    expected outcome is "nothing happens", so a bounded watch is the only way to observe it.
    """
    before = replies_by_user(stack, users)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = replies_by_user(stack, users)
        assert now == before, f"replies arrived after the pipeline had drained: {before} -> {now}"
        time.sleep(0.1)


def run_in_stack_env(stack: Stack, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a command with the stack's environment (its queues, keys and endpoints), as an operator would."""
    result = subprocess.run(
        list(argv), env={**os.environ, **stack.env}, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, f"{argv} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def switchboard_cli(stack: Stack, *args: str) -> str:
    """`switchboard <args>` as a subprocess with the stack's environment; returns its stdout."""
    return run_in_stack_env(stack, [sys.executable, "-m", "switchboard.cli", *args]).stdout


@pytest.fixture
def report(record_property: Callable[[str, object], None], request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record what a fault test observed (in the JUnit XML) and print it (seen with `-s`)."""
    def record(**values: object) -> None:
        for name, value in values.items():
            record_property(name, str(value))
        print(f"\n[{request.node.name}] " + "; ".join(f"{name}: {value}" for name, value in values.items()))

    return record
