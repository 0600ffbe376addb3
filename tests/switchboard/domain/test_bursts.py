"""Burst decisions on the real store: which message answers which, decided once, in seq order."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard.domain.bursts import BurstPolicy, members_before, settle_burst
from switchboard.domain.inbound import InboundMessage
from switchboard.errors import NotYourTurn
from switchboard.store import ConversationStore, StoredMessage

Make = Callable[..., InboundMessage]
POLICY = BurstPolicy(window_seconds=2.0, max_messages=3)
T0 = 1_000_000.0


def accepted(store: ConversationStore, inbound: InboundMessage, intake: str | None = "chat") -> StoredMessage:
    assert store.accept(inbound) is not None
    if intake is not None:
        store.record_intake(inbound.message_sid, intake)
    loaded = store.load(inbound.message_sid)
    assert loaded is not None
    return loaded


def reload(store: ConversationStore, message: StoredMessage) -> StoredMessage:
    loaded = store.load(message.inbound.message_sid)
    assert loaded is not None
    return loaded


def test_a_message_waits_for_the_quiet_window_before_answering_alone(store: ConversationStore, make_inbound: Make) -> None:
    only = accepted(store, make_inbound("hi", received_at=T0))

    with pytest.raises(NotYourTurn) as waiting:
        settle_burst(store, only, POLICY, now=T0 + 0.5)
    assert waiting.value.retry_after == pytest.approx(1.5)

    assert settle_burst(store, only, POLICY, now=T0 + 2.0) == [only]


def test_a_message_followed_within_the_window_goes_into_the_next_ones_answer(
        store: ConversationStore, make_inbound: Make) -> None:
    first = accepted(store, make_inbound("my name is Ada", received_at=T0))
    second = accepted(store, make_inbound("and I need a form", received_at=T0 + 1.5))

    assert settle_burst(store, first, POLICY, now=T0 + 1.6) is None
    first = reload(store, first)
    assert first.answer == "" and first.burst_next == second.inbound.message_sid
    assert store.answered_upto(first.conversation) == first.seq  # the next message's turn has come

    assert settle_burst(store, second, POLICY, now=T0 + 4.0) == [first, second]


def test_messages_further_apart_than_the_window_are_answered_each_on_their_own(
        store: ConversationStore, make_inbound: Make) -> None:
    first = accepted(store, make_inbound("one", received_at=T0))
    accepted(store, make_inbound("two", received_at=T0 + 2.5))

    assert settle_burst(store, first, POLICY, now=T0 + 3.0) == [first]


def test_a_command_after_a_message_ends_the_burst(store: ConversationStore, make_inbound: Make) -> None:
    first = accepted(store, make_inbound("one", received_at=T0))
    accepted(store, make_inbound("/reset", received_at=T0 + 0.5), intake="reset")

    assert settle_burst(store, first, POLICY, now=T0 + 1.0) == [first]


def test_the_last_message_waits_for_its_successors_intake_before_deciding(
        store: ConversationStore, make_inbound: Make) -> None:
    first = accepted(store, make_inbound("one", received_at=T0))
    accepted(store, make_inbound("two", received_at=T0 + 0.5), intake=None)

    with pytest.raises(NotYourTurn):
        settle_burst(store, first, POLICY, now=T0 + 1.0)
    assert reload(store, first).answer is None


def test_a_burst_never_covers_more_than_its_maximum(store: ConversationStore, make_inbound: Make) -> None:
    messages = [accepted(store, make_inbound(f"m{i}", received_at=T0 + i * 0.5)) for i in range(4)]

    assert settle_burst(store, messages[0], POLICY, now=T0 + 5) is None
    assert settle_burst(store, messages[1], POLICY, now=T0 + 5) is None
    # The third is the burst's last (max 3): it answers the first two, and the fourth starts anew.
    third = settle_burst(store, messages[2], POLICY, now=T0 + 5)
    assert [m.inbound.body for m in third or []] == ["m0", "m1", "m2"]
    assert settle_burst(store, messages[3], POLICY, now=T0 + 5) == [messages[3]]


def test_deciding_twice_decides_the_same(store: ConversationStore, make_inbound: Make) -> None:
    first = accepted(store, make_inbound("one", received_at=T0))
    second = accepted(store, make_inbound("two", received_at=T0 + 1))

    assert settle_burst(store, first, POLICY, now=T0 + 1.5) is None
    assert settle_burst(store, reload(store, first), POLICY, now=T0 + 1.5) is None
    assert [m.inbound.body for m in members_before(store, second, 5)] == ["one"]


def test_bursts_off_answers_every_message_alone_at_once(store: ConversationStore, make_inbound: Make) -> None:
    first = accepted(store, make_inbound("one", received_at=T0))
    accepted(store, make_inbound("two", received_at=T0 + 0.1))

    assert settle_burst(store, first, BurstPolicy(window_seconds=0), now=T0 + 0.2) == [first]
