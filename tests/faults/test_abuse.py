"""Abuse: a user flooding us, webhooks for someone else's account, and what our logs give away."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from localdev.polling import wait_for
from localdev.processes import free_port, start_gunicorn
from switchboard.domain.user_commands import RATE_LIMITED_TEXT
from tests.faults.outage_support import messages_in_stage_queues, sends_to, store_for, wait_until_settled
from tests.harness.pipeline import BOT_NUMBER, Stack, WebhookSender, new_message_sid, new_user

pytestmark = pytest.mark.integration


def start_in_a_window_with_time_left(window_seconds: int, needed_seconds: float) -> None:
    """Rate-limit windows are fixed (aligned to the clock): if this one ends before the test could
    finish, start at the next one, so the count is not split across two windows."""
    def left() -> float:
        return window_seconds - time.time() % window_seconds

    if left() < needed_seconds:
        wait_for(lambda: left() > needed_seconds, timeout=needed_seconds + 1, interval=0.1,
                 message="the next rate-limit window")


def test_a_user_over_the_rate_limit_gets_one_notice_while_another_user_is_answered_normally(
    stack_factory: Callable[..., Stack], record_property: Callable[[str, object], None]
) -> None:
    stack = stack_factory(RATE_LIMIT_MESSAGES="3", RATE_LIMIT_WINDOW_SECONDS="60")
    stack.start_web()
    stack.start_worker(concurrency=8)
    flooder, neighbour = new_user(), new_user()
    start_in_a_window_with_time_left(60, needed_seconds=15)

    for n in range(1, 7):  # at the same time, interleaved
        assert stack.send(f"flood {n}", flooder)[0] == 200
        if n <= 3:
            assert stack.send(f"hello {n}", neighbour)[0] == 200

    stack.wait_for_replies(flooder, 4, timeout=40)
    assert stack.wait_for_replies(neighbour, 3, timeout=30) == ["echo: hello 1", "echo: hello 2", "echo: hello 3"]
    wait_until_settled(stack)
    received = Counter(stack.replies_to(flooder))
    record_property("flooder_received", dict(received))
    # Which three get answered depends on which intakes run first (FIFO does not serialise a
    # worker's batch); the promise is three answers, one notice, then silence.
    assert received[RATE_LIMITED_TEXT] == 1
    answers = [reply for reply in received if reply != RATE_LIMITED_TEXT]
    assert len(answers) == 3 and all(received[a] == 1 and a.startswith("echo: flood ") for a in answers), received
    assert stack.replies_to(neighbour) == ["echo: hello 1", "echo: hello 2", "echo: hello 3"]


def test_a_correctly_signed_webhook_for_another_account_is_refused_and_nothing_is_enqueued(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory()
    ours = stack.start_web()
    # Signed with our auth token (so the signature is valid), but for an account that is not ours.
    theirs = WebhookSender(ours.url, account_sid="AC" + "f" * 32, auth_token=ours.auth_token)
    sid = new_message_sid()

    status, _ = theirs.send("not for you", new_user(), sid)

    assert status == 403
    with store_for(stack.settings) as store:
        assert store.load(sid) is None
        assert store.outbox_size() == 0
    assert messages_in_stage_queues(stack.settings) == 0


@pytest.mark.parametrize("token", ["", "change-me"])
def test_the_web_refuses_to_start_on_an_empty_or_placeholder_auth_token(
    pipeline_env: dict[str, str], log_dir: Path, token: str
) -> None:
    # With an empty key anyone can sign a webhook; `change-me` is what .env.example used to ship.
    with pytest.raises(AssertionError, match="gunicorn exited during start-up") as refused:
        start_gunicorn({**pipeline_env, "TWILIO_AUTH_TOKEN": token}, free_port(), log_dir=log_dir, ready_timeout=30)

    assert "TWILIO_AUTH_TOKEN" in str(refused.value)


def test_logs_at_info_hold_no_secret_full_phone_number_or_message_text(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(LOG_LEVEL="INFO")
    stack.start_web()
    worker = stack.start_worker(concurrency=8)
    answered, refused = new_user(), new_user()
    text = "my private question about the 7 blue elephants"
    # Twilio's own wording for some refusals quotes the number (error 21612 does, for one).
    stack.twilio.client.fail(400, twilio_code=21612, times=-1, message=(
        f"The 'To' phone number: {refused}, is not currently reachable using the 'From' phone number: "
        f"{BOT_NUMBER} via SMS."))

    stack.send(text + " (refused)", refused)
    wait_for(lambda: sends_to(stack, refused), timeout=30, message="the refused send")
    stack.twilio.client.reset()
    stack.send(text, answered)
    stack.send("and a follow-up", answered)

    stack.wait_for_replies(answered, 2, timeout=30)
    wait_until_settled(stack)
    assert stack.web is not None
    logs = {"web": stack.web.log_text(), "worker": worker.log_text()}
    secrets = {
        "Twilio auth token": stack.settings.twilio_auth_token.get_secret_value(),
        "OpenAI API key": stack.settings.openai_api_key.get_secret_value(),
    }
    private = {
        **secrets,
        **{f"number of {who}": number.removeprefix("whatsapp:+")
           for who, number in (("the answered user", answered), ("the refused user", refused))},
        "message text": "7 blue elephants",
    }
    leaks = {f"{what} in the {process} log": [line for line in log.splitlines() if needle in line][:3]
             for process, log in logs.items() for what, needle in private.items() if needle in log}
    assert leaks == {}
    assert "inbound message queued" in logs["web"] and "reply: sent 1 part(s)" in logs["worker"]  # logs are real
