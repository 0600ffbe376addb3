"""The three steps of answering a message, on the real store, with recording fakes for OpenAI and Twilio."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence

import pytest

from switchboard.domain.conversation import (
    APOLOGY,
    RateLimit,
    UnknownMessage,
    answer_with_apology,
    deliver_reply,
    produce_answer,
    run_intake,
)
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.user_commands import RATE_LIMITED_TEXT, RESET_TEXT, Command
from switchboard.errors import NotYourTurn, PermanentError, TransientError
from switchboard.store import ConversationStore

Make = Callable[..., InboundMessage]
WAIT = 300.0
LONG_ANSWER = "\n\n".join(letter * 1000 for letter in "abc")  # three parts of 1000 characters


class FakeCompletions:
    """Answers with the given outcomes in turn (an exception is raised); any further call fails the test."""

    def __init__(self, *outcomes: str | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[list[dict[str, str]]] = []

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        self.calls.append(list(messages))
        assert self.outcomes, "the model was called more often than the test expected"
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class FakeReplies:
    """Returns a new SM… sid per send, except for the calls (numbered from 1) given an error to raise."""

    # As ReplySender without PUBLIC_BASE_URL and template: a part's status is asked for, and is "sent" at once.
    status_callback = None
    template = None
    part_order_wait_seconds = 30.0

    def message_status(self, sid: str) -> tuple[str, str]:
        return "sent", ""

    def show_typing(self, inbound_message_sid: str) -> None:
        self.typing.append(inbound_message_sid)

    def __init__(self, failures: dict[int, Exception] | None = None) -> None:
        self.failures = failures or {}
        self.calls: list[tuple[str, str, str]] = []
        self.sids: list[str] = []  # of the sends that succeeded
        self.typing: list[str] = []  # the inbound messages "typing…" was shown for

    def send(self, to: str, from_: str, body: str) -> str:
        self.calls.append((to, from_, body))
        if len(self.calls) in self.failures:
            raise self.failures[len(self.calls)]
        self.sids.append("SM" + uuid.uuid4().hex)
        return self.sids[-1]

    @property
    def bodies(self) -> list[str]:
        return [body for _, _, body in self.calls]


def accept(store: ConversationStore, message: InboundMessage) -> str:
    assert store.accept(message) is not None
    return message.message_sid


def answer(store: ConversationStore, sid: str, completions: FakeCompletions, wait: float = WAIT) -> str:
    return produce_answer(store, completions, "Be brief.", sid, wait)  # type: ignore[arg-type]


def deliver(store: ConversationStore, sid: str, replies: FakeReplies) -> list[str]:
    return deliver_reply(store, replies, sid, WAIT)  # type: ignore[arg-type]


def test_run_intake_records_the_command_once(store: ConversationStore, make_inbound: Make) -> None:
    sid = accept(store, make_inbound("/help"))

    assert run_intake(store, sid) is Command.HELP
    assert store.load(sid).intake_result == "help"  # type: ignore[union-attr]
    assert run_intake(store, sid, RateLimit(messages=1, window_seconds=60)) is Command.HELP


def test_run_intake_gives_one_notice_then_silence_over_the_rate_limit(
    store: ConversationStore, make_inbound: Make
) -> None:
    sids = [accept(store, make_inbound(f"q{i}")) for i in range(3)]

    per_day = RateLimit(messages=1, window_seconds=86_400)  # a long window: no boundary falls mid-test
    commands = [run_intake(store, sid, per_day) for sid in sids]

    assert commands == [Command.CHAT, Command.RATE_LIMITED, Command.IGNORED]
    answer(store, sids[0], FakeCompletions("first"))
    assert answer(store, sids[1], FakeCompletions()) == RATE_LIMITED_TEXT
    assert answer(store, sids[2], FakeCompletions()) == ""


def test_a_message_missing_from_the_store_is_unknown(store: ConversationStore) -> None:
    with pytest.raises(UnknownMessage):
        run_intake(store, "SM-not-there")


def test_produce_answer_asks_the_model_once(store: ConversationStore, make_inbound: Make) -> None:
    message = make_inbound("What is 2+2?")
    sid = accept(store, message)
    completions = FakeCompletions("4")

    assert answer(store, sid, completions) == "4"
    assert answer(store, sid, completions) == "4"

    [prompt] = completions.calls
    assert prompt[0] == {"role": "system", "content": "Be brief."}
    assert prompt[-1] == {"role": "user", "content": "What is 2+2?"}
    assert store.history(message.conversation_id)[-1] == {"role": "assistant", "content": "4"}


def test_the_next_prompt_carries_the_conversation_so_far(store: ConversationStore, make_inbound: Make) -> None:
    first, second = accept(store, make_inbound("Hi")), accept(store, make_inbound("And?"))
    completions = FakeCompletions("Hello!", "More.")

    answer(store, first, completions)
    answer(store, second, completions)

    assert [m["content"] for m in completions.calls[1]] == ["Be brief.", "Hi", "Hello!", "And?"]


def test_a_transient_model_error_leaves_nothing_recorded(store: ConversationStore, make_inbound: Make) -> None:
    sid = accept(store, make_inbound("q"))
    completions = FakeCompletions(TransientError("rate limited"), "fine")

    with pytest.raises(TransientError):
        answer(store, sid, completions)
    assert store.load(sid).answer is None  # type: ignore[union-attr]
    assert answer(store, sid, completions) == "fine"


def test_a_later_message_waits_until_the_earlier_one_is_answered(store: ConversationStore, make_inbound: Make) -> None:
    first, second = accept(store, make_inbound("1")), accept(store, make_inbound("2"))
    completions = FakeCompletions("one", "two")

    with pytest.raises(NotYourTurn):
        answer(store, second, completions)
    assert completions.calls == []

    answer(store, first, completions)
    assert answer(store, second, completions) == "two"


def test_a_later_message_stops_waiting_after_order_wait_max_seconds(
    store: ConversationStore, make_inbound: Make
) -> None:
    accept(store, make_inbound("stuck"))
    late = accept(store, make_inbound("later", received_at=time.time() - 60))

    assert answer(store, late, FakeCompletions("answered anyway"), wait=30) == "answered anyway"


def test_reset_clears_the_history_and_answers_without_the_model(store: ConversationStore, make_inbound: Make) -> None:
    question, reset = accept(store, make_inbound("Remember 42")), accept(store, make_inbound("/reset"))
    answer(store, question, FakeCompletions("OK"))
    run_intake(store, reset)

    assert answer(store, reset, FakeCompletions()) == RESET_TEXT
    assert store.history(store.load(reset).conversation) == []  # type: ignore[union-attr]


def test_deliver_reply_sends_the_parts_in_order_from_our_number(store: ConversationStore, make_inbound: Make) -> None:
    message = make_inbound()
    sid = accept(store, message)
    store.record_answer(store.load(sid), LONG_ANSWER, [])  # type: ignore[arg-type]
    replies = FakeReplies()

    sent = deliver(store, sid, replies)

    assert replies.calls == [(message.sender, message.recipient, letter * 1000) for letter in "abc"]
    assert sent == replies.sids
    assert store.load(sid).replied is True  # type: ignore[union-attr]


def test_a_second_delivery_sends_nothing_and_returns_the_same_sids_in_order(
    store: ConversationStore, make_inbound: Make
) -> None:
    sid = accept(store, make_inbound())
    store.record_answer(store.load(sid), LONG_ANSWER, [])  # type: ignore[arg-type]
    replies = FakeReplies()
    sent = deliver(store, sid, replies)

    assert deliver(store, sid, replies) == sent
    assert len(replies.calls) == 3


def test_after_a_transient_error_only_the_remaining_parts_are_sent(
    store: ConversationStore, make_inbound: Make
) -> None:
    sid = accept(store, make_inbound())
    store.record_answer(store.load(sid), LONG_ANSWER, [])  # type: ignore[arg-type]

    failing = FakeReplies({2: TransientError("503")})
    with pytest.raises(TransientError):
        deliver(store, sid, failing)
    assert store.load(sid).replied is False  # type: ignore[union-attr]

    retry = FakeReplies()
    sent = deliver(store, sid, retry)

    assert retry.bodies == ["b" * 1000, "c" * 1000]
    assert sent == failing.sids + retry.sids


def test_a_permanent_error_stops_sending_but_finishes_the_reply(store: ConversationStore, make_inbound: Make) -> None:
    first, second = accept(store, make_inbound("1")), accept(store, make_inbound("2"))
    store.record_answer(store.load(first), LONG_ANSWER, [])  # type: ignore[arg-type]
    store.record_answer(store.load(second), "two", [])  # type: ignore[arg-type]
    replies = FakeReplies({1: PermanentError("unsubscribed", 21610)})

    assert deliver(store, first, replies) == []
    assert len(replies.calls) == 1
    assert store.load(first).replied is True  # type: ignore[union-attr]
    assert deliver(store, second, replies) == replies.sids


def test_a_reply_waits_for_its_answer_and_for_the_previous_reply(store: ConversationStore, make_inbound: Make) -> None:
    first, second = accept(store, make_inbound("1")), accept(store, make_inbound("2"))
    replies = FakeReplies()
    with pytest.raises(NotYourTurn):
        deliver(store, first, replies)

    store.record_answer(store.load(first), "one", [])  # type: ignore[arg-type]
    store.record_answer(store.load(second), "two", [])  # type: ignore[arg-type]
    with pytest.raises(NotYourTurn):
        deliver(store, second, replies)

    deliver(store, first, replies)
    deliver(store, second, replies)
    assert replies.bodies == ["one", "two"]


def test_answer_with_apology_records_the_apology_unless_answered(store: ConversationStore, make_inbound: Make) -> None:
    failed, answered = accept(store, make_inbound("1")), accept(store, make_inbound("2"))
    store.record_answer(store.load(answered), "real answer", [])  # type: ignore[arg-type]

    answer_with_apology(store, failed)
    answer_with_apology(store, answered)

    assert store.load(failed).answer == APOLOGY  # type: ignore[union-attr]
    assert store.load(answered).answer == "real answer"  # type: ignore[union-attr]
    assert store.answered_upto(store.load(failed).conversation) == 2  # type: ignore[union-attr]
