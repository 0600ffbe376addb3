"""SQS answer scenarios for a real worker behind the fault proxy: what each injects, how to run one, the table.

`python -m tests.faults.sqs_scenarios` runs tests/faults/test_sqs_answers.py, which prints the table.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from localdev.polling import wait_for
from localdev.processes import ManagedProcess
from tests.faults.outage_support import tally, wait_until_settled
from tests.harness import sqs_faults
from tests.harness.pipeline import Stack, new_user
from tests.harness.sqs_proxy import Rule, SqsProxy

# Batched calls too: concurrent acks go as DeleteMessageBatch (tasks/sqs_batching.py).
RECEIVE_DELETE_VISIBILITY = ("ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
                             "ChangeMessageVisibilityBatch")
USERS = 6
MESSAGES_PER_USER = 2  # two per user, so an overtaking reply shows as out of order


@dataclass(frozen=True)
class Injection:
    """One proxy rule: `fault` on `actions` (None: every call) at `rate`, lifted after `seconds` (None: never)."""

    fault: sqs_faults.Fault
    actions: Sequence[str] | None = None
    rate: float = 1.0
    seconds: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    injections: Sequence[Injection]

    @property
    def longest_fault(self) -> float:
        return max((i.seconds or 0.0) for i in self.injections)


SCENARIOS = [
    Scenario("throttling 1/3 on receive/delete/visibility",
             [Injection(sqs_faults.THROTTLING, RECEIVE_DELETE_VISIBILITY, rate=1 / 3)]),
    Scenario("500/503 on 30% of every call",
             [Injection(sqs_faults.INTERNAL_ERROR, rate=0.15), Injection(sqs_faults.SERVICE_UNAVAILABLE, rate=0.18)]),
    Scenario("QueueDoesNotExist on every call for 10 s",
             [Injection(sqs_faults.QUEUE_DOES_NOT_EXIST, seconds=10)]),
    Scenario("worker's SendMessage throttled for 8 s",
             [Injection(sqs_faults.THROTTLING, ["SendMessage", "SendMessageBatch"], seconds=8)]),
    Scenario("every call hangs for 20 s",
             [Injection(sqs_faults.Hang(), seconds=20)]),
    Scenario("OverLimit on receive/visibility for 6 s",
             [Injection(sqs_faults.OVER_LIMIT, ["ReceiveMessage", "ChangeMessageVisibility",
                                                "ChangeMessageVisibilityBatch"], seconds=6)]),
    Scenario("AccessDenied on every call for 6 s, then fixed",
             [Injection(sqs_faults.ACCESS_DENIED, seconds=6)]),
    Scenario("ExpiredToken on every call for 6 s, then renewed",
             [Injection(sqs_faults.EXPIRED_TOKEN, seconds=6)]),
    # SQS did these calls and only the answers were lost: a lost ReceiveMessage answer still counts as a
    # receive, so a message whose answers are lost maxReceiveCount times in a row goes to the DLQ unseen
    # by any worker (parked; at 1/3 for ever that is ~0.4 % of hops). Lifted after 15 s, a message can lose
    # at most ~3 receives (each hides it for the 6 s visibility timeout), so every message must be answered.
    Scenario("empty body on 1/3 of receive/delete/visibility for 15 s",
             [Injection(sqs_faults.EmptyBody(), RECEIVE_DELETE_VISIBILITY, rate=1 / 3, seconds=15)]),
    Scenario("garbled body on 1/3 of receive/delete/visibility for 15 s",
             [Injection(sqs_faults.GarbledBody(), RECEIVE_DELETE_VISIBILITY, rate=1 / 3, seconds=15)]),
    # SQS never saw these sends, and botocore reads the empty 200 as success: only a check of the
    # answer's MessageId can tell.
    Scenario("empty body on 1/3 of the worker's SendMessage (not sent)",
             [Injection(sqs_faults.EmptyBody(forward=False), ["SendMessage", "SendMessageBatch"], rate=1 / 3)]),
    Scenario("connection reset on 1/4 of every call for 15 s",
             [Injection(sqs_faults.DropConnection(), rate=1 / 4, seconds=15)]),
]


@dataclass(frozen=True)
class Row:
    scenario: str
    sent: int
    answered: int
    duplicated: int
    out_of_order: int
    pid_before: int
    pid_after: int | None  # None: the worker is gone
    faulted_calls: int
    seconds: float

    def holds(self) -> bool:
        return (self.answered == self.sent and self.duplicated == 0 and self.out_of_order == 0
                and self.pid_after == self.pid_before)


def run(scenario: Scenario, stack: Stack, worker: ManagedProcess, proxy: SqsProxy) -> Row:
    """Inject, send USERS x MESSAGES_PER_USER signed messages, wait for every reply (or the deadline)."""
    assert worker.proc is not None
    pid_before = worker.proc.pid
    started = time.monotonic()
    rules, timers = _inject(scenario, proxy)
    users = [new_user() for _ in range(USERS)]
    expected: dict[str, list[str]] = {user: [] for user in users}
    try:
        for n in range(1, MESSAGES_PER_USER + 1):
            for user in users:
                body = f"{scenario.name[:12]} m{n} {user[-4:]}"
                status, _ = stack.send(body, user)
                assert status == 200, f"webhook answered {status} (it talks to moto directly)"
                expected[user].append(f"echo: {body}")
        deadline = scenario.longest_fault + 75
        try:
            wait_for(lambda: _all_answered(stack, expected), timeout=deadline, interval=0.2,
                     message=f"every reply in '{scenario.name}'")
            wait_until_settled(stack, timeout=45)
        except AssertionError:
            pass  # the row below says what was missing; the test asserts on it
    finally:
        for timer in timers:
            timer.cancel()
        for rule in rules:
            proxy.remove(rule)
    seconds = time.monotonic() - started
    counts = tally(expected, {user: stack.replies_to(user) for user in users})
    return Row(scenario.name, counts["sent"], counts["answered"], counts["duplicated"], counts["out_of_order"],
               pid_before, pid_before if worker.is_running() else None, sum(rule.hits for rule in rules),
               round(seconds, 1))


def _inject(scenario: Scenario, proxy: SqsProxy) -> tuple[list[Rule], list[threading.Timer]]:
    rules, timers = [], []
    for injection in scenario.injections:
        rule = proxy.inject(injection.fault, injection.actions, injection.rate)
        rules.append(rule)
        if injection.seconds is not None:
            # The fault's own lifetime (the scenario), not a wait for anything.
            timer = threading.Timer(injection.seconds, proxy.remove, [rule])
            timer.daemon = True
            timer.start()
            timers.append(timer)
    return rules, timers


def _all_answered(stack: Stack, expected: dict[str, list[str]]) -> bool:
    return all(set(wanted) <= set(stack.replies_to(user)) for user, wanted in expected.items())


COLUMNS = ("scenario", "sent", "answered", "duplicated", "out of order", "worker PID before", "after",
           "faulted calls", "seconds")


def table(rows: Sequence[Row]) -> str:
    """A Markdown table of the rows, headed by the machine it ran on."""
    lines = [f"machine: {machine()}", "| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for row in rows:
        after = "exited" if row.pid_after is None else str(row.pid_after)
        cells = (row.scenario, row.sent, row.answered, row.duplicated, row.out_of_order, row.pid_before, after,
                 row.faulted_calls, row.seconds)
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    model = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    return f"{platform.platform()}, {os.cpu_count()} CPUs {model}, Python {platform.python_version()}"


def main(argv: Sequence[str] = ()) -> int:
    import pytest

    here = os.path.join(os.path.dirname(__file__), "test_sqs_answers.py")
    return int(pytest.main([here, "-q", "-p", "no:cacheprovider", *argv]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
