"""Folding overflowed history into the running summary: one model call per fold, applied once, capped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import redis
from prometheus_client import REGISTRY

from switchboard.domain.inbound import InboundMessage
from switchboard.domain.summaries import FOLD_BATCH_TURNS, fold_history, give_up_fold
from switchboard.errors import NotYourTurn, PermanentError
from switchboard.store import ConversationStore, HistoryLimits
from switchboard.tokens import count_text
from tests.switchboard.domain.test_conversation import FakeCompletions

Make = Callable[..., InboundMessage]


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> ConversationStore:
    # Room for one exchange (two turns): every earlier one is folded.
    return ConversationStore(redis_client, key_prefix, HistoryLimits(2, 0, 600, max_tokens=3000, summarize=True))


def chat(store: ConversationStore, make_inbound: Make, *pairs: tuple[str, str]) -> str:
    for question, answer in pairs:
        message = make_inbound(question)
        assert store.accept(message) is not None
        stored = store.load(message.message_sid)
        assert stored is not None
        store.record_answer(stored, answer, [{"role": "user", "content": question},
                                             {"role": "assistant", "content": answer}])
    return message.conversation_id


def folds(outcome: str) -> float:
    return REGISTRY.get_sample_value("switchboard_history_folds_total", {"outcome": outcome}) or 0.0


def test_the_waiting_turns_and_the_earlier_summary_go_to_the_model_and_its_answer_becomes_the_summary(
    store: ConversationStore, make_inbound: Make
) -> None:
    conversation = chat(store, make_inbound, ("My name is Ada.", "Hello Ada!"), ("I need a visa.", "Which country?"))
    model = FakeCompletions("Ada needs a visa.")

    assert fold_history(store, model, conversation, max_summary_tokens=100) == 0  # type: ignore[arg-type]

    assert store.summary(conversation) == "Ada needs a visa."
    assert store.fold_due(conversation) is None
    [prompt] = model.calls
    assert prompt[0]["role"] == "system" and "at most 75 words" in prompt[0]["content"]
    assert prompt[1] == {"role": "user", "content": "Earlier summary:\n(none yet)\n\nNew turns:\n"
                                                    "User: My name is Ada.\nAssistant: Hello Ada!"}
    chat(store, make_inbound, ("Portugal.", "Here is how."))
    fold_history(store, FakeCompletions("Ada needs a Portuguese visa."), conversation, 100)  # type: ignore[arg-type]
    assert store.summary(conversation) == "Ada needs a Portuguese visa."


def test_the_next_fold_starts_from_the_summary_so_far(store: ConversationStore, make_inbound: Make) -> None:
    conversation = chat(store, make_inbound, ("a", "b"), ("c", "d"))
    fold_history(store, FakeCompletions("First."), conversation, 100)  # type: ignore[arg-type]
    chat(store, make_inbound, ("e", "f"))
    model = FakeCompletions("Second.")

    fold_history(store, model, conversation, 100)  # type: ignore[arg-type]

    assert model.calls[0][1]["content"].startswith("Earlier summary:\nFirst.\n\nNew turns:\nUser: c")


def test_a_long_summary_is_cut_to_its_cap(store: ConversationStore, make_inbound: Make) -> None:
    conversation = chat(store, make_inbound, ("a", "b"), ("c", "d"))

    fold_history(store, FakeCompletions("word " * 500), conversation, 50)  # type: ignore[arg-type]

    assert 0 < count_text(store.summary(conversation)) <= 50


def test_nothing_waiting_means_no_model_call(store: ConversationStore, make_inbound: Make) -> None:
    conversation = chat(store, make_inbound, ("a", "b"))

    assert fold_history(store, FakeCompletions(), conversation, 100) == 0  # type: ignore[arg-type]


def test_a_run_that_finds_the_fold_leased_waits_without_calling_the_model(
    store: ConversationStore, make_inbound: Make
) -> None:
    conversation = chat(store, make_inbound, ("a", "b"), ("c", "d"))

    with store.lease(conversation, "summary") as token:
        assert token is not None
        with pytest.raises(NotYourTurn):
            fold_history(store, FakeCompletions(), conversation, 100)  # type: ignore[arg-type]


class OvertakenCompletions:
    """While this run waits for the model, its lease lapses and a second run folds the same turns."""

    def __init__(self, store: ConversationStore, conversation: str) -> None:
        self.store, self.conversation = store, conversation

    def complete(self, messages: Sequence[dict[str, Any]]) -> str:
        self.store.redis.delete(self.store._of(self.conversation, "lease", self.conversation, "summary"))  # lapsed: the run stalled
        fold_history(self.store, FakeCompletions("From the second run."), self.conversation, 100)  # type: ignore[arg-type]
        return "From the stalled run."


def test_two_overlapping_runs_make_one_summary(store: ConversationStore, make_inbound: Make) -> None:
    conversation = chat(store, make_inbound, ("a", "b"), ("c", "d"), ("e", "f"))
    discarded = folds("discarded")

    fold_history(store, OvertakenCompletions(store, conversation), conversation, 100)  # type: ignore[arg-type]

    assert store.summary(conversation) == "From the second run."
    assert store.fold_due(conversation) is None  # the turns were folded once, by the second run
    assert folds("discarded") == discarded + 1


def test_a_backlog_larger_than_a_batch_is_folded_in_steps(store: ConversationStore, make_inbound: Make) -> None:
    exchanges = FOLD_BATCH_TURNS // 2 + 2
    conversation = chat(store, make_inbound, *((f"q{i}", f"a{i}") for i in range(exchanges)))

    assert fold_history(store, FakeCompletions("s1"), conversation, 100) == 2  # type: ignore[arg-type]
    assert fold_history(store, FakeCompletions("s2"), conversation, 100) == 0  # type: ignore[arg-type]
    assert store.summary(conversation) == "s2"


def test_a_summary_that_cannot_be_made_keeps_the_old_one_and_drops_the_turns(
    store: ConversationStore, make_inbound: Make
) -> None:
    conversation = chat(store, make_inbound, ("a", "b"), ("c", "d"))
    fold_history(store, FakeCompletions("Old summary."), conversation, 100)  # type: ignore[arg-type]
    chat(store, make_inbound, ("e", "f"))
    dropped = folds("dropped")

    with pytest.raises(PermanentError):
        fold_history(store, FakeCompletions(PermanentError("refused")), conversation, 100)  # type: ignore[arg-type]
    give_up_fold(store, conversation)

    assert store.summary(conversation) == "Old summary."
    assert store.fold_due(conversation) is None
    assert folds("dropped") == dropped + 1
    give_up_fold(store, conversation)  # nothing left: nothing more dropped or counted
    assert folds("dropped") == dropped + 1
