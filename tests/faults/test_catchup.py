"""`switchboard catchup`: messages Twilio holds that the webhook never saw get answered, once, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from localdev.processes import REPO_ROOT
from switchboard.clients.twilio_client import ReplySender
from switchboard.services import build_store
from tests.faults.outage_support import wait_until_settled
from tests.harness.pipeline import BOT_NUMBER, Stack, new_message_sid, new_user

pytestmark = pytest.mark.integration

SUPPORT_LINE = "+14155550100"  # another number on the same Twilio account, not this deployment's


def catchup(stack: Stack, since: datetime, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `switchboard catchup --since … [args]` as an operator would, with the stack's environment."""
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "catchup", "--since", since.isoformat(), *args],
        env={**os.environ, **stack.env, **env}, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )


def counts_of(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    assert result.returncode == 0, f"catchup exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    # "queued: 3, outboxed: 0, duplicate: 0, processed: 0, already_answered: 1, malformed: 0"
    last_line = result.stdout.strip().splitlines()[-1]
    return {name: int(count) for name, count in (part.split(": ") for part in last_line.split(", "))}


def decisions_of(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """MessageSid -> decision, read from the table catchup prints."""
    rows = [line.split() for line in result.stdout.splitlines() if " SM" in line or " MM" in line]
    return {row[2]: row[-1] for row in rows}


def test_catchup_answers_each_missed_message_once_in_order_and_skips_what_was_answered(stack: Stack) -> None:
    alice, bob, dave, carol = new_user(), new_user(), new_user(), new_user()
    twilio = stack.twilio.client
    seen_sid = new_message_sid()
    assert stack.send("seen by the webhook", alice, seen_sid)[0] == 200
    assert stack.wait_for_replies(alice, 1) == ["echo: seen by the webhook"]
    now = datetime.now(UTC).replace(microsecond=0)
    since = now - timedelta(minutes=5)
    # Twilio lists every inbound message, the one the webhook took included (its reply came after it).
    twilio.add_inbound(alice, BOT_NUMBER, "seen by the webhook", date_sent=now - timedelta(seconds=50), sid=seen_sid)
    # Sent after that reply (Twilio's clock runs ahead of nothing here: later seconds are later messages).
    for n in (1, 2, 3):
        twilio.add_inbound(alice, BOT_NUMBER, f"missed {n}", date_sent=now + timedelta(seconds=1 + n))
    twilio.add_inbound(bob, BOT_NUMBER, "bob missed", date_sent=now + timedelta(seconds=2))
    twilio.add_inbound(bob, BOT_NUMBER, "long before --since", date_sent=since - timedelta(hours=1))
    # Someone answered dave from our number outside the pipeline: Twilio's log shows it.
    dave_sid = new_message_sid()
    twilio.add_inbound(dave, BOT_NUMBER, "answered by hand", date_sent=now - timedelta(seconds=20), sid=dave_sid)
    ReplySender.from_settings(stack.settings).client.messages.create(to=dave, from_=BOT_NUMBER, body="hand reply")
    # Another number's traffic on the same account: never this deployment's to answer.
    carol_sid = new_message_sid()
    twilio.add_inbound(carol, SUPPORT_LINE, "for the support line", date_sent=now + timedelta(seconds=3), sid=carol_sid)

    first = catchup(stack, since, "--yes")

    assert counts_of(first) == {"queued": 4, "outboxed": 0, "duplicate": 0, "processed": 0,
                                "already_answered": 2, "malformed": 0}, first.stdout
    decisions = decisions_of(first)
    assert decisions[seen_sid] == decisions[dave_sid] == "already_answered"
    assert carol_sid not in decisions
    expected_alice = ["echo: seen by the webhook", "echo: missed 1", "echo: missed 2", "echo: missed 3"]
    assert stack.wait_for_replies(alice, 4, timeout=30) == expected_alice
    assert stack.wait_for_replies(bob, 1, timeout=30) == ["echo: bob missed"]
    wait_until_settled(stack)

    second = catchup(stack, since, "--yes")

    assert counts_of(second)["queued"] == counts_of(second)["outboxed"] == 0, second.stdout
    wait_until_settled(stack)
    assert stack.replies_to(alice) == expected_alice
    assert stack.replies_to(bob) == ["echo: bob missed"]
    assert stack.replies_to(dave) == ["hand reply"]
    assert stack.replies_to(carol) == []


def test_catchup_without_yes_shows_the_table_and_accepts_nothing(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory()  # no web, no worker: a dry run must not need them, and must not publish
    user, carol = new_user(), new_user()
    now = datetime.now(UTC).replace(microsecond=0)
    mine, theirs = new_message_sid(), new_message_sid()
    stack.twilio.client.add_inbound(user, BOT_NUMBER, "missed", date_sent=now - timedelta(seconds=5), sid=mine)
    stack.twilio.client.add_inbound(carol, SUPPORT_LINE, "support", date_sent=now - timedelta(seconds=4), sid=theirs)

    result = catchup(stack, now - timedelta(minutes=1), TWILIO_NUMBERS=BOT_NUMBER)

    assert result.returncode == 0, result.stderr
    assert decisions_of(result) == {mine: "accept"}
    assert "dry run: 1 message(s) would be accepted" in result.stdout
    assert "missed" not in result.stdout  # no message text in the table
    assert user not in result.stdout  # numbers masked
    assert build_store(stack.settings).load(mine) is None


def test_catchup_refuses_a_since_older_than_the_deduplication_window(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory()
    user = new_user()
    sid = new_message_sid()
    long_ago = datetime.now(UTC) - timedelta(days=91)
    stack.twilio.client.add_inbound(user, BOT_NUMBER, "old", date_sent=long_ago + timedelta(hours=1), sid=sid)

    result = catchup(stack, long_ago, "--yes", TWILIO_NUMBERS=BOT_NUMBER)

    assert result.returncode == 2, result.stdout
    assert "older than the deduplication window" in result.stderr
    assert stack.twilio.client.messages() == []


def test_catchup_refuses_to_guess_which_numbers_to_answer(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory()  # fresh keys: no message ever arrived, no TWILIO_NUMBERS
    stack.twilio.client.add_inbound(new_user(), SUPPORT_LINE, "2FA code please")

    result = catchup(stack, datetime.now(UTC) - timedelta(minutes=5), "--yes")

    assert result.returncode == 2, result.stdout
    assert "TWILIO_NUMBERS" in result.stderr
    assert stack.twilio.client.messages() == []
