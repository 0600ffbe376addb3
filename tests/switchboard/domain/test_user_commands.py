"""classify and canned_answer: the commands answered without OpenAI."""

from __future__ import annotations

import pytest

from switchboard.domain.user_commands import (
    HELP_TEXT,
    MEDIA_ONLY_TEXT,
    RESET_TEXT,
    Command,
    canned_answer,
    classify,
    forget_text,
)


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


@pytest.mark.parametrize("body", ["/forget", " /FORGET\n"])
def test_it_recognises_forget(body: str) -> None:
    assert classify(body) is Command.FORGET


def test_forget_is_a_command_only_on_its_own() -> None:
    assert classify("forget about it") is Command.CHAT
    assert classify("/forget me please") is Command.CHAT


def test_limits_and_flags_have_fixed_polite_answers() -> None:
    for command in (Command.OVER_BUDGET, Command.SENDER_CAP, Command.FLAGGED, Command.FORGET):
        text = canned_answer(command)
        assert text and text[0].isupper() and text.endswith(".")


def test_help_mentions_forget() -> None:
    assert "/forget" in HELP_TEXT


def test_the_forget_answer_lists_what_was_deleted() -> None:
    text = forget_text({"messages": 3, "conversation turns": 6})

    assert "3 messages, 6 conversation turns" in text
