"""classify and canned_answer: the commands answered without OpenAI."""

from __future__ import annotations

import pytest

from switchboard.commands import HELP_TEXT, MEDIA_ONLY_TEXT, RESET_TEXT, Command, canned_answer, classify


@pytest.mark.parametrize("body", ["/reset", "reset", " RESET ", "/new", "/Reset\n"])
def test_it_recognises_reset_in_any_case_and_spacing(body: str) -> None:
    assert classify(body) is Command.RESET


@pytest.mark.parametrize("body", ["/help", "help?", "  /HELP "])
def test_it_recognises_help(body: str) -> None:
    assert classify(body) is Command.HELP


@pytest.mark.parametrize("body", ["hello", "reset my password please", "/resetting", "help me with maths"])
def test_anything_else_is_a_chat_message(body: str) -> None:
    assert classify(body) is Command.CHAT


def test_a_message_with_only_media_gets_the_media_notice() -> None:
    assert classify("", num_media=1) is Command.MEDIA_ONLY
    assert classify("  ", num_media=2) is Command.MEDIA_ONLY


def test_an_empty_message_without_media_gets_help() -> None:
    assert classify("") is Command.HELP


def test_commands_have_fixed_answers_and_chat_has_none() -> None:
    assert canned_answer(Command.RESET) == RESET_TEXT
    assert canned_answer(Command.HELP) == HELP_TEXT
    assert canned_answer(Command.MEDIA_ONLY) == MEDIA_ONLY_TEXT
    assert canned_answer(Command.IGNORED) == ""
    assert canned_answer(Command.CHAT) is None
