"""History folding through gunicorn, moto SQS and a real worker: turns past the budget end in a summary the next prompt carries."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from localdev.polling import wait_for
from switchboard.domain.prompt import SUMMARY_PREFIX
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.store.connection import connect
from tests.harness.pipeline import Stack, new_message_sid, new_user
from tests.integration.observing import prompts_for

pytestmark = pytest.mark.integration


def test_a_conversation_past_its_token_budget_is_summarised_and_the_next_prompt_carries_the_summary(
        stack_factory: Callable[..., Stack]) -> None:
    # About 30 tokens an exchange: 200 hold a 100-token summary and three exchanges, so most turns fold.
    stack = stack_factory(HISTORY_MAX_TOKENS="200", HISTORY_SUMMARY_MAX_TOKENS="100")
    stack.start_web()
    stack.start_worker(concurrency=4)
    sender = new_user()
    first_sid = new_message_sid()
    questions = [f"Question number {i}: what about form {i}?" for i in range(1, 9)]

    for i, question in enumerate(questions):
        assert stack.send(question, sender, message_sid=first_sid if i == 0 else None)[0] == 200
    assert len(stack.wait_for_replies(sender, len(questions))) == len(questions)

    store = ConversationStore(connect(stack.settings.redis_url.get_secret_value()),
                              stack.settings.redis_key_prefix, HistoryLimits(20, 0, 60))
    stored = store.load(first_sid)
    assert stored is not None
    conversation = stored.conversation

    def folded() -> str | None:
        summary = store.summary(conversation)
        return summary if summary and store.fold_due(conversation) is None else None

    # The stand-in echoes the summary prompt, so the summary shows what was folded: the first question, not lost.
    summary = wait_for(folded, timeout=60, message="the overflowed turns folded into a summary")
    assert summary.startswith("echo: Earlier summary:") and questions[0] in summary
    history = store.history(conversation)
    assert questions[0] not in [turn["content"] for turn in history] and history[-2]["content"] == questions[-1]

    stack.send("And what was my first question?", sender)
    stack.wait_for_replies(sender, len(questions) + 1)

    [prompt] = prompts_for(stack, "And what was my first question?")
    assert prompt[1] == {"role": "system", "content": SUMMARY_PREFIX + summary}
    # Then the newest remembered turns (the new message may crowd out the oldest exchange, which the
    # store folds once this answer is recorded), then the new message.
    kept = prompt[2:-1]
    assert kept and kept == history[len(history) - len(kept):] and len(history) - len(kept) <= 2
    summary_calls = [r for r in stack.openai.client.requests() if "Earlier summary:" in str(r["messages"][-1])]
    assert summary_calls and all(r["messages"][0]["role"] == "system" for r in summary_calls)
