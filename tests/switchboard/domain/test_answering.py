"""The completion step's view of a message: bursts answered once, context, profile name, typing, "I heard"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from switchboard.domain.answering import AnswerOptions, produce_answer
from switchboard.domain.bursts import BurstPolicy
from switchboard.domain.inbound import InboundMessage, Location
from switchboard.store import ConversationStore
from tests.switchboard.domain.test_conversation import FakeCompletions, FakeReplies

Make = Callable[..., InboundMessage]
T0 = 1_000_000.0
BURSTS = AnswerOptions(burst=BurstPolicy(window_seconds=2.0, max_messages=10))


def accepted_chat(store: ConversationStore, inbound: InboundMessage) -> str:
    assert store.accept(inbound) is not None
    store.record_intake(inbound.message_sid, "chat")
    return inbound.message_sid


def user_texts(prompt: list[dict[str, object]]) -> list[object]:
    return [turn["content"] for turn in prompt if turn["role"] == "user"]


def test_a_burst_is_answered_once_with_every_message_in_order(store: ConversationStore, make_inbound: Make) -> None:
    sids = [accepted_chat(store, make_inbound(text, received_at=T0 + i)) for i, text in enumerate(["a", "b", "c"])]
    completions = FakeCompletions("one answer")

    answers = [produce_answer(store, completions, "Be brief.", sid, options=BURSTS)  # type: ignore[arg-type]
               for sid in sids]

    assert answers == ["", "", "one answer"]
    [prompt] = completions.calls
    assert user_texts(prompt) == ["a", "b", "c"]
    assert [turn["content"] for turn in store.history(store.load(sids[0]).conversation)] == [  # type: ignore[union-attr]
        "a", "b", "c", "one answer"]
    assert [store.load(sid).answered_by for sid in sids] == [sids[2], sids[2], None]  # type: ignore[union-attr]


def test_a_redelivered_completion_of_a_burst_member_asks_nothing_more(
        store: ConversationStore, make_inbound: Make) -> None:
    sids = [accepted_chat(store, make_inbound(text, received_at=T0 + i)) for i, text in enumerate(["a", "b"])]
    completions = FakeCompletions("answer")
    for sid in sids:
        produce_answer(store, completions, "Be brief.", sid, options=BURSTS)  # type: ignore[arg-type]

    assert produce_answer(store, FakeCompletions(), "Be brief.", sids[0], options=BURSTS) == ""  # type: ignore[arg-type]
    assert produce_answer(store, FakeCompletions(), "Be brief.", sids[1], options=BURSTS) == "answer"  # type: ignore[arg-type]


def test_a_location_reaches_the_model_as_a_note(store: ConversationStore, make_inbound: Make) -> None:
    inbound = replace(make_inbound(""), location=Location(52.52, 13.405, "", "Home"))
    sid = accepted_chat(store, inbound)
    completions = FakeCompletions("Nice place")

    produce_answer(store, completions, "Be brief.", sid)  # type: ignore[arg-type]

    assert user_texts(completions.calls[0]) == ["[The user shared a location: Home (latitude 52.520000, "
                                                "longitude 13.405000)]"]


def test_the_profile_name_is_given_to_the_model_only_when_allowed(store: ConversationStore, make_inbound: Make) -> None:
    named = [accepted_chat(store, replace(make_inbound(f"q{i}"), profile_name="Ada")) for i in range(2)]
    completions = FakeCompletions("a0", "a1")

    produce_answer(store, completions, "Be brief.", named[0], options=AnswerOptions(use_profile_name=True))  # type: ignore[arg-type]
    produce_answer(store, completions, "Be brief.", named[1], options=AnswerOptions(use_profile_name=False))  # type: ignore[arg-type]

    assert completions.calls[0][0]["content"] == 'Be brief.\n\nThe user\'s WhatsApp profile name is "Ada" (chosen by them).'
    assert completions.calls[1][0]["content"] == "Be brief."


def test_typing_is_shown_for_a_whatsapp_message_being_answered(store: ConversationStore, make_inbound: Make) -> None:
    sid = accepted_chat(store, make_inbound("hello"))
    replies = FakeReplies()

    produce_answer(store, FakeCompletions("hi"), "Be brief.", sid, replies=replies)  # type: ignore[arg-type]

    assert replies.typing == [sid]
