"""Checking an answer: mentions as people read them, tool calls by name and arguments, "I don't know" or the contact."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.domain.model_answer import CalledTool
from switchboard.evals.cases import Expectation
from switchboard.evals.checks import check_answer, says_it_does_not_know


def checked(expect: dict[str, Any], answer: str, calls: tuple[CalledTool, ...] = (),
            contact: str = "") -> list[tuple[str, bool, str]]:
    results = check_answer(Expectation.model_validate(expect), answer, calls, contact)
    return [(result.check, result.passed, result.detail) for result in results]


def test_mentions_ignore_case_curly_apostrophes_and_line_breaks() -> None:
    assert checked({"mentions": ["Club Office", "don't"]}, "Bring it to the club\noffice; we don’t take cheques.") == [
        ("mentions 'Club Office'", True, ""), ("mentions \"don't\"", True, "")]


def test_a_missing_mention_and_a_forbidden_one_fail() -> None:
    assert checked({"mentions": "$25", "not_mentions": ["free"]}, "Registration is free.") == [
        ("mentions '$25'", False, ""), ("not_mentions 'free'", False, "")]


def test_a_tool_called_with_the_expected_arguments_passes_whatever_else_it_was_given() -> None:
    calls = (CalledTool("registration_status", {"season": "Spring ", "team": "u12"}),)

    assert checked({"tool_called": {"name": "registration_status", "with": {"season": "spring"}}}, "ok", calls) == [
        ("tool_called registration_status with {season: 'spring'}", True, "")]


def test_a_tool_called_with_other_arguments_fails_saying_what_it_was_given() -> None:
    calls = (CalledTool("registration_status", {"season": "autumn"}),)

    [(_, passed, detail)] = checked({"tool_called": {"name": "registration_status", "with": {"season": "spring"}}},
                                    "ok", calls)

    assert not passed
    assert detail == "called with {season: 'autumn'}"


def test_a_tool_not_called_fails_naming_the_tools_that_were() -> None:
    [(_, passed, detail)] = checked({"tool_called": {"name": "registration_status"}}, "ok",
                                    (CalledTool("hand_off_to_person", {"reason": "asked"}),))

    assert not passed
    assert detail == "not called (tools called: hand_off_to_person)"


def test_tool_not_called_fails_when_the_model_called_it() -> None:
    assert checked({"tool_not_called": "registration_status"}, "ok", (CalledTool("registration_status", {}),)) == [
        ("tool_not_called registration_status", False, "called with {}")]
    assert checked({"tool_not_called": "registration_status"}, "ok") == [
        ("tool_not_called registration_status", True, "")]


@pytest.mark.parametrize("answer", [
    "I don't know that from the information I have.",
    "I’m not sure; the documents do not say.",
    "Sorry, I cannot find anything about dogs.",
])
def test_plain_i_dont_know_phrasings_count_as_not_knowing(answer: str) -> None:
    assert says_it_does_not_know(answer, contact="")


def test_giving_the_contact_counts_as_not_knowing_written_any_way() -> None:
    assert says_it_does_not_know("Please ask the office on +1-555-0100.", contact="+1 555 0100")
    assert says_it_does_not_know("Please ask the office on +15550100.", contact="+1 555 0100")
    assert not says_it_does_not_know("Registration costs $60.", contact="+1 555 0100")


def test_says_it_does_not_know_false_fails_on_a_non_answer() -> None:
    assert checked({"says_it_does_not_know": False}, "I don't know, please call +1 555 0100.",
                   contact="+1 555 0100") == [("says_it_does_not_know false", False, "it said it does not know")]
    assert checked({"says_it_does_not_know": True}, "Registration costs $60.", contact="+1 555 0100") == [
        ("says_it_does_not_know true", False, "neither the contact nor an \"I don't know\"")]


def test_a_turn_without_expectations_has_no_checks() -> None:
    assert checked({}, "anything") == []
