"""Hand-off at the completion step: /human pauses once and tells the operator once, paused messages are kept, /bot."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard.clients.handoff_webhook import HandoffNotice
from switchboard.domain.answering import AnswerOptions, produce_answer
from switchboard.domain.bursts import BurstPolicy
from switchboard.domain.conversation import deliver_reply, run_intake
from switchboard.domain.handoff import HandoffPolicy, is_kept_for_operator, is_paused, pause
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.user_commands import BACK_TO_BOT_TEXT, HAND_OFF_TEXT
from switchboard.errors import PermanentError, TransientError
from switchboard.store import ConversationStore, StoredMessage
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies

Make = Callable[..., InboundMessage]
T0 = 1_000_000.0


class FakeNotifier:
    """Records each notice; the calls (numbered from 1) given an error raise it instead."""

    def __init__(self, failures: dict[int, Exception] | None = None) -> None:
        self.failures = failures or {}
        self.calls: list[HandoffNotice] = []

    def notify(self, notice: HandoffNotice) -> None:
        self.calls.append(notice)
        if len(self.calls) in self.failures:
            raise self.failures[len(self.calls)]


def options(notifier: FakeNotifier | None = None, **fields: object) -> AnswerOptions:
    return AnswerOptions(handoff=HandoffPolicy(600, notifier), **fields)  # type: ignore[arg-type]


def through_intake(store: ConversationStore, inbound: InboundMessage) -> str:
    assert store.accept(inbound) is not None
    run_intake(store, inbound.message_sid)
    return inbound.message_sid


def answer(store: ConversationStore, sid: str, notifier: FakeNotifier | None = None,
           completions: FakeCompletions | None = None, **fields: object) -> str:
    return produce_answer(store, completions or FakeCompletions(), "Be brief.", sid,  # type: ignore[arg-type]
                          options=options(notifier, **fields))


def loaded(store: ConversationStore, sid: str) -> StoredMessage:
    message = store.load(sid)
    assert message is not None
    return message


def test_human_pauses_the_conversation_answers_once_and_tells_the_operator_once(
        store: ConversationStore, make_inbound: Make) -> None:
    before = through_intake(store, make_inbound("my parcel is late"))
    answer(store, before, completions=FakeCompletions("Sorry to hear that."))
    sid = through_intake(store, make_inbound("Human!"))
    notifier = FakeNotifier()

    assert answer(store, sid, notifier) == HAND_OFF_TEXT
    assert answer(store, sid, notifier) == HAND_OFF_TEXT  # a redelivery: the stored answer

    conversation = loaded(store, sid).conversation
    assert is_paused(store, conversation)
    [notice] = notifier.calls
    assert (notice.conversation, notice.source, notice.message_sid) == (conversation, "command", sid)
    assert notice.recent_messages == ["my parcel is late", "Human!"]
    assert notice.sender == notice.user_id == "whatsapp:+15551234567"
    assert notice.bot_number == "whatsapp:+15550000000"
    assert store.pause_of(conversation).notified.startswith("sent:")  # type: ignore[union-attr]


def test_pausing_again_for_the_same_or_another_message_keeps_one_pause_and_one_notice(
        store: ConversationStore, make_inbound: Make) -> None:
    first = loaded(store, through_intake(store, make_inbound("human")))
    second = loaded(store, through_intake(store, make_inbound("agent")))
    notifier = FakeNotifier()
    policy = HandoffPolicy(600, notifier)

    assert pause(store, first, "asked", policy, source="command") == "paused"
    until = store.pause_of(first.conversation).until  # type: ignore[union-attr]
    assert pause(store, first, "asked", policy, source="command") == "paused"
    assert pause(store, second, "again", policy, source="tool") == "joined"

    assert len(notifier.calls) == 1
    assert store.pause_of(first.conversation).until == until  # type: ignore[union-attr]


def test_a_notice_the_webhook_could_not_take_is_retried_with_the_pause_already_recorded(
        store: ConversationStore, make_inbound: Make) -> None:
    sid = through_intake(store, make_inbound("human"))
    notifier = FakeNotifier({1: TransientError("hand-off webhook answered 503")})

    with pytest.raises(TransientError):
        answer(store, sid, notifier)
    assert is_paused(store, loaded(store, sid).conversation)
    assert loaded(store, sid).answer is None  # the step retries

    assert answer(store, sid, notifier) == HAND_OFF_TEXT
    assert answer(store, sid, notifier) == HAND_OFF_TEXT
    assert len(notifier.calls) == 2


def test_a_notice_the_webhook_refused_is_not_retried_and_the_pause_stands(
        store: ConversationStore, make_inbound: Make) -> None:
    first = through_intake(store, make_inbound("human"))
    notifier = FakeNotifier({1: PermanentError("hand-off webhook answered 404", code=404)})

    assert answer(store, first, notifier) == HAND_OFF_TEXT
    again = through_intake(store, make_inbound("human"))
    assert answer(store, again, notifier) == HAND_OFF_TEXT

    conversation = loaded(store, first).conversation
    assert len(notifier.calls) == 1
    assert store.pause_of(conversation).notified == "refused:404"  # type: ignore[union-attr]
    assert is_paused(store, conversation)


def test_while_paused_a_message_is_kept_for_the_operator_with_no_model_call_and_nothing_sent(
        store: ConversationStore, make_inbound: Make) -> None:
    asking = through_intake(store, make_inbound("human"))
    answer(store, asking)
    sid = through_intake(store, make_inbound("it's order 1234"))
    replies = FakeReplies()

    assert answer(store, sid, completions=FakeCompletions()) == ""  # FakeCompletions() fails on any call

    assert is_kept_for_operator(store, sid)
    assert not is_kept_for_operator(store, asking)
    assert store.history(loaded(store, sid).conversation)[-1] == {"role": "user", "content": "it's order 1234"}
    deliver_reply(store, replies, asking, 300.0)  # type: ignore[arg-type]
    assert deliver_reply(store, replies, sid, 300.0) == []  # type: ignore[arg-type]
    assert replies.bodies == [HAND_OFF_TEXT] and loaded(store, sid).replied


def test_while_paused_a_burst_is_kept_whole(store: ConversationStore, make_inbound: Make) -> None:
    asking = through_intake(store, make_inbound("human", received_at=T0))
    answer(store, asking)
    sids = [through_intake(store, make_inbound(text, received_at=T0 + 10 + i)) for i, text in enumerate("ab")]
    bursts = BurstPolicy(window_seconds=2.0, max_messages=10)

    assert [answer(store, sid, burst=bursts) for sid in sids] == ["", ""]

    assert all(is_kept_for_operator(store, sid) for sid in sids)
    assert [turn["content"] for turn in store.history(loaded(store, sids[0]).conversation)] == ["a", "b"]
    assert loaded(store, sids[0]).answered_by == sids[1]


def test_while_paused_the_users_own_commands_are_still_answered(store: ConversationStore, make_inbound: Make) -> None:
    answer(store, through_intake(store, make_inbound("human")))
    sid = through_intake(store, make_inbound("/help"))

    assert answer(store, sid).startswith("I'm an AI assistant.")
    assert not is_kept_for_operator(store, sid)


def test_bot_hands_the_conversation_back_and_the_next_message_is_answered_by_the_model(
        store: ConversationStore, make_inbound: Make) -> None:
    answer(store, through_intake(store, make_inbound("human")))
    back = through_intake(store, make_inbound("/bot"))

    assert answer(store, back) == BACK_TO_BOT_TEXT
    assert not is_paused(store, loaded(store, back).conversation)
    completions = FakeCompletions("Sure, what's up?")
    assert answer(store, through_intake(store, make_inbound("hello")), completions=completions) == "Sure, what's up?"
    assert len(completions.calls) == 1


def test_a_pause_that_ended_by_itself_lets_the_model_answer_again(store: ConversationStore, make_inbound: Make) -> None:
    asking = loaded(store, through_intake(store, make_inbound("human")))
    pause(store, asking, "asked", HandoffPolicy(60), source="command", now=1000.0)  # ended long ago
    store.record_answer(asking, HAND_OFF_TEXT, turns=[])

    completions = FakeCompletions("Hello!")
    assert answer(store, through_intake(store, make_inbound("hi")), completions=completions) == "Hello!"
