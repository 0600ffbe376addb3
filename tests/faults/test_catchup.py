"""`switchboard catchup`: messages Twilio holds that the webhook never saw get answered, once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.faults.outage_support import wait_until_settled
from tests.harness.pipeline import BOT_NUMBER, Stack, new_message_sid, new_user
from tests.harness.processes import REPO_ROOT

pytestmark = pytest.mark.integration


def catchup(stack: Stack, since: datetime) -> dict[str, int]:
    """Run `switchboard catchup --since …` as an operator would, with the stack's environment."""
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "catchup", "--since", since.isoformat()],
        env={**os.environ, **stack.env}, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, f"catchup exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    # "queued: 3, outboxed: 0, duplicate: 1, processed: 0"
    last_line = result.stdout.strip().splitlines()[-1]
    return {name: int(count) for name, count in (part.split(": ") for part in last_line.split(", "))}


def test_catchup_answers_each_missed_message_once_and_never_a_message_the_webhook_accepted(stack: Stack) -> None:
    alice, bob = new_user(), new_user()
    twilio = stack.twilio.client
    seen_sid = new_message_sid()
    assert stack.send("seen by the webhook", alice, seen_sid)[0] == 200
    assert stack.wait_for_replies(alice, 1) == ["echo: seen by the webhook"]
    now = datetime.now(UTC)
    since = now - timedelta(minutes=5)
    # Twilio lists every inbound message, the one the webhook took included.
    twilio.add_inbound(alice, BOT_NUMBER, "seen by the webhook", date_sent=now - timedelta(seconds=50), sid=seen_sid)
    for n in (1, 2, 3):
        twilio.add_inbound(alice, BOT_NUMBER, f"missed {n}", date_sent=now - timedelta(seconds=40 - n))
    twilio.add_inbound(bob, BOT_NUMBER, "bob missed", date_sent=now - timedelta(seconds=30))
    twilio.add_inbound(bob, BOT_NUMBER, "long before --since", date_sent=since - timedelta(hours=1))

    first = catchup(stack, since)

    assert (first["queued"], first["duplicate"]) == (4, 1), first
    expected_alice = ["echo: seen by the webhook", "echo: missed 1", "echo: missed 2", "echo: missed 3"]
    assert stack.wait_for_replies(alice, 4, timeout=30) == expected_alice
    assert stack.wait_for_replies(bob, 1, timeout=30) == ["echo: bob missed"]
    wait_until_settled(stack)

    second = catchup(stack, since)

    assert (second["queued"], second["outboxed"], second["duplicate"]) == (0, 0, 5), second
    wait_until_settled(stack)
    assert stack.replies_to(alice) == expected_alice
    assert stack.replies_to(bob) == ["echo: bob missed"]
