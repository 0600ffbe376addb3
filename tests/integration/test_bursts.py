"""Bursts through gunicorn, moto SQS and a real worker: three quick lines get one answer, a later one its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
from tests.harness.pipeline import Stack, new_message_sid, new_user
from tests.integration.observing import prompts_for, wait_until_settled

pytestmark = pytest.mark.integration


def test_a_burst_of_three_is_answered_once_and_a_later_message_on_its_own(
        stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(BURST_WINDOW_SECONDS="2")
    stack.start_web()
    stack.start_worker(concurrency=8)
    sender = new_user()
    sids = [new_message_sid() for _ in range(3)]

    for body, sid in zip(["Hi", "my name is Ada", "which documents do I need?"], sids, strict=True):
        assert stack.send(body, sender, message_sid=sid)[0] == 200

    assert stack.wait_for_replies(sender, 1) == ["echo: which documents do I need?"]
    wait_until_settled(stack)
    user_turns = [m["content"] for m in prompts_for(stack, "which documents do I need?")[0] if m["role"] == "user"]
    assert user_turns == ["Hi", "my name is Ada", "which documents do I need?"]  # one model call, all three, in order
    assert len([r for r in stack.openai.client.requests() if "Ada" in str(r["messages"])]) == 1

    store = ConversationStore(connect(stack.settings.redis_url.get_secret_value()),
                              stack.settings.redis_key_prefix, HistoryLimits(20, 8000, 60))
    first, second, third = (store.load(sid) for sid in sids)
    assert first is not None and second is not None and third is not None
    assert (first.answered_by, second.answered_by, third.answered_by) == (sids[2], sids[2], None)
    assert first.replied and second.replied and not first.sent_parts and not second.sent_parts

    # Well after the window: its own answer, with the burst's turns as history.
    assert stack.send("and a photo?", sender)[0] == 200
    assert stack.wait_for_replies(sender, 2) == ["echo: which documents do I need?", "echo: and a photo?"]
    [later] = prompts_for(stack, "and a photo?")
    assert [m["content"] for m in later[1:]] == [
        "Hi", "my name is Ada", "which documents do I need?", "echo: which documents do I need?", "and a photo?"]
