"""ConversationStore on the real Redis: turns past the history's budget wait on a fold list; folds end once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import redis

from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore, HistoryLimits, StoredMessage
from switchboard.tokens import count_message

Make = Callable[..., InboundMessage]
TURN = count_message("x" * 100)  # a 100-character turn's estimated tokens


def folding(redis_client: redis.Redis, key_prefix: str, max_tokens: int = 4 * TURN, max_turns: int = 20,
            max_chars: int = 0, summarize: bool = True, **extra: int) -> ConversationStore:
    limits = HistoryLimits(max_turns, max_chars, 600, max_tokens=max_tokens, summarize=summarize)
    return ConversationStore(redis_client, key_prefix, limits, **extra)  # type: ignore[arg-type]


def accepted(store: ConversationStore, message: InboundMessage) -> StoredMessage:
    assert store.accept(message) is not None
    stored = store.load(message.message_sid)
    assert stored is not None
    return stored


def exchange(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def answer(store: ConversationStore, make_inbound: Make, letter: str, size: int = 100) -> StoredMessage:
    stored = accepted(store, make_inbound(letter * size))
    assert store.record_answer(stored, letter.upper() * size, exchange(letter * size, letter.upper() * size))
    return stored


def waiting(store: ConversationStore, redis_client: redis.Redis, key_prefix: str, conversation: str) -> list[str]:
    raw = redis_client.lrange(store._conv(conversation, "to-fold"), 0, -1)
    return [json.loads(turn)["content"] for turn in raw]


def test_turns_past_the_token_budget_move_to_the_fold_list_oldest_exchange_first(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=4 * TURN)  # two exchanges fit
    for letter in "abc":
        conversation = answer(store, make_inbound, letter).conversation

    assert store.history(conversation) == exchange("b" * 100, "B" * 100) + exchange("c" * 100, "C" * 100)
    assert waiting(store, redis_client, key_prefix, conversation) == ["a" * 100, "A" * 100]
    assert store.fold_due(conversation) is not None


def test_without_summaries_the_overflow_is_dropped_as_before(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=4 * TURN, summarize=False)
    for letter in "abc":
        conversation = answer(store, make_inbound, letter).conversation

    assert [t["content"] for t in store.history(conversation)] == ["b" * 100, "B" * 100, "c" * 100, "C" * 100]
    assert waiting(store, redis_client, key_prefix, conversation) == []
    assert store.fold_due(conversation) is None


def test_a_history_exactly_at_the_budget_stays_and_one_byte_more_folds(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    # The store's Lua count must agree with switchboard/tokens.py, or prompt and history disagree on what fits.
    store = folding(redis_client, key_prefix, max_tokens=count_message("q" * 40) + count_message("A" * 40))
    first = accepted(store, make_inbound("q" * 40))
    store.record_answer(first, "A" * 40, exchange("q" * 40, "A" * 40))
    assert store.fold_due(first.conversation) is None

    second = accepted(store, make_inbound("q" * 41))
    store.record_answer(second, "A" * 39, exchange("q" * 41, "A" * 39))  # as many bytes, one token more

    assert store.history(first.conversation) == []
    assert waiting(store, redis_client, key_prefix, first.conversation) == ["q" * 40, "A" * 40, "q" * 41, "A" * 39]


def test_a_burst_exchange_leaves_the_history_whole(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=5 * TURN)
    first = accepted(store, make_inbound("x"))
    burst = [{"role": "user", "content": c * 100} for c in "uvw"] + [{"role": "assistant", "content": "W" * 100}]
    store.record_answer(first, "W" * 100, burst)
    answer(store, make_inbound, "z")

    assert store.history(first.conversation) == exchange("z" * 100, "Z" * 100)
    assert waiting(store, redis_client, key_prefix, first.conversation) == ["u" * 100, "v" * 100, "w" * 100,
                                                                             "W" * 100]


def test_the_turn_bound_and_a_character_bound_still_apply(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    by_turns = folding(redis_client, key_prefix + "t:", max_tokens=100 * TURN, max_turns=2)
    by_chars = folding(redis_client, key_prefix + "c:", max_tokens=100 * TURN, max_chars=300)
    for store in (by_turns, by_chars):
        for letter in "ab":
            conversation = answer(store, make_inbound, letter).conversation
        assert store.history(conversation) == exchange("b" * 100, "B" * 100)
        assert waiting(store, redis_client, store.prefix, conversation) == ["a" * 100, "A" * 100]


def test_the_summary_counts_against_the_budget_when_it_changes_and_at_each_answer(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=4 * TURN)  # two exchanges
    for letter in "abc":
        conversation = answer(store, make_inbound, letter).conversation
    batch = store.begin_fold(conversation, 10)
    assert batch is not None

    # A summary of one turn's size leaves room for one exchange: b joins the fold list.
    assert store.end_fold(conversation, batch, "s" * 100) == 2
    assert store.history(conversation) == exchange("c" * 100, "C" * 100)
    answer(store, make_inbound, "d")

    assert store.history(conversation) == exchange("d" * 100, "D" * 100)
    assert waiting(store, redis_client, key_prefix, conversation) == ["b" * 100, "B" * 100, "c" * 100, "C" * 100]


def test_record_answer_is_still_once_only_and_folds_nothing_twice(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=2 * TURN)
    answer(store, make_inbound, "a")
    second = answer(store, make_inbound, "b")

    assert store.record_answer(second, "again", exchange("b" * 100, "again")) is False
    assert store.history(second.conversation) == exchange("b" * 100, "B" * 100)
    assert waiting(store, redis_client, key_prefix, second.conversation) == ["a" * 100, "A" * 100]


def test_a_fold_ends_once_and_keeps_turns_folded_meanwhile(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=100 * TURN, max_turns=2)
    for letter in "ab":
        conversation = answer(store, make_inbound, letter).conversation
    batch = store.begin_fold(conversation, 10)
    overlapping = store.begin_fold(conversation, 10)
    answer(store, make_inbound, "c")  # folds b while the fold of a runs

    assert batch is not None and overlapping == batch
    assert [t["content"] for t in batch.turns] == ["a" * 100, "A" * 100]
    assert store.end_fold(conversation, batch, "They said a.") == 2
    assert store.end_fold(conversation, overlapping, "They said a, twice.") is None
    assert store.summary(conversation) == "They said a."
    assert waiting(store, redis_client, key_prefix, conversation) == ["b" * 100, "B" * 100]
    assert store.fold_due(conversation) not in (None, batch.generation)  # the next fold has a new generation


def test_a_fold_given_up_keeps_the_old_summary_and_drops_its_turns(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=100 * TURN, max_turns=2)
    for letter in "abc":
        conversation = answer(store, make_inbound, letter).conversation
    first = store.begin_fold(conversation, 2)
    assert first is not None and store.end_fold(conversation, first, "About a.") == 2

    second = store.begin_fold(conversation, 2)
    assert second is not None and store.end_fold(conversation, second, None) == 0

    assert store.summary(conversation) == "About a."
    assert store.fold_due(conversation) is None


def test_a_reset_during_a_fold_voids_it_and_recreates_nothing(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=100 * TURN, max_turns=2)
    for letter in "ab":
        conversation = answer(store, make_inbound, letter).conversation
    batch = store.begin_fold(conversation, 10)
    assert batch is not None

    store.clear_history(conversation)

    assert store.end_fold(conversation, batch, "stale") is None
    assert store.summary(conversation) == "" and store.history(conversation) == []
    assert not redis_client.exists(store._conv(conversation, "summary"), store._conv(conversation, "to-fold"))


def test_the_fold_list_and_summary_expire_with_the_history_and_forget_removes_them(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=100 * TURN, max_turns=2)
    for letter in "abc":
        conversation = answer(store, make_inbound, letter).conversation
    batch = store.begin_fold(conversation, 2)
    assert batch is not None and store.end_fold(conversation, batch, "About a.") == 2
    keys = [store._conv(conversation, what) for what in ("history", "to-fold", "summary")]

    assert all(0 < redis_client.ttl(key) <= 600 for key in keys)
    store.forget_conversation(conversation)
    assert not redis_client.exists(*keys)


def test_text_past_its_retention_leaves_the_fold_list_or_takes_the_summary_with_it(
    redis_client: redis.Redis, key_prefix: str, make_inbound: Make
) -> None:
    store = folding(redis_client, key_prefix, max_tokens=100 * TURN, max_turns=2, text_retention_seconds=600)
    old = time.time() - 3600
    messages = []
    for letter in "abc":
        stored = accepted(store, make_inbound(letter * 100, received_at=old))
        store.settle_intake(stored, "chat", drop_body=False)
        store.record_answer(stored, letter.upper() * 100, exchange(letter * 100, letter.upper() * 100))
        store.mark_replied(stored)
        messages.append(stored)
    conversation = messages[0].conversation
    batch = store.begin_fold(conversation, 2)  # a was folded into the summary; b waits; c is in the history
    assert batch is not None and store.end_fold(conversation, batch, "About a.") == 2

    assert store.remove_old_texts(600) == 3

    assert waiting(store, redis_client, key_prefix, conversation) == []
    assert store.history(conversation) == []
    assert store.summary(conversation) == ""
