"""classify: the words that ask for a person (/human, "talk to a person") and the way back (/bot), whole messages only."""

from __future__ import annotations

import pytest

from switchboard.domain.user_commands import HELP_TEXT, Command, canned_answer, classify
from tests.switchboard.domain.test_user_commands import SMS_USER, message


@pytest.mark.parametrize("body", ["human", "Human!", " /HUMAN ", "agent", "/agent", "person", "a person?",
                                  "Talk to a person", "talk  to a HUMAN.", "speak to an agent", "operator"])
def test_it_recognises_a_request_for_a_person_as_the_whole_message(body: str) -> None:
    assert classify(message(body)) is Command.HAND_OFF


@pytest.mark.parametrize("body", ["are you a human?", "I'm a person who likes cats", "agent smith",
                                  "talk to a person about my order", "humans"])
def test_a_sentence_that_mentions_a_person_is_an_ordinary_message(body: str) -> None:
    assert classify(message(body)) is Command.CHAT


def test_sms_users_can_ask_for_a_person_too() -> None:
    assert classify(message("human", sender=SMS_USER)) is Command.HAND_OFF


@pytest.mark.parametrize("body", ["/bot", "/BOT", "/resume", "back to the bot"])
def test_it_recognises_the_way_back_to_the_bot(body: str) -> None:
    assert classify(message(body)) is Command.BACK_TO_BOT


def test_hand_off_and_back_are_answered_by_the_hand_off_step_not_a_canned_text() -> None:
    # Both change state (a pause), so answering.py hands them to switchboard/domain/handoff.py.
    assert canned_answer(Command.HAND_OFF) is None
    assert canned_answer(Command.BACK_TO_BOT) is None


def test_the_help_text_names_the_way_to_a_person_and_back() -> None:
    assert "/human" in HELP_TEXT and "/bot" in HELP_TEXT
