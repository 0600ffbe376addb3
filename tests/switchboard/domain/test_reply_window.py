"""The WhatsApp 24-hour window and the template's variables: pure decisions."""

from __future__ import annotations

from switchboard.domain.reply_window import ANSWER_MAX_CHARS, SAFETY_MARGIN_SECONDS, template_variables, window_closed

NOW = 1_700_000_000.0
DAY = 24 * 3600


def test_the_window_closes_a_safety_margin_before_24_hours() -> None:
    assert not window_closed(NOW - 60, NOW)
    assert not window_closed(NOW - DAY + SAFETY_MARGIN_SECONDS + 1, NOW)
    assert window_closed(NOW - DAY + SAFETY_MARGIN_SECONDS - 1, NOW)
    assert window_closed(NOW - 3 * DAY, NOW)


def test_an_unknown_last_message_leaves_the_window_open_for_twilio_to_judge() -> None:
    assert not window_closed(None, NOW)


def test_variables_fill_in_the_answer_and_the_profile_name_on_one_line() -> None:
    variables = {"1": "{profile_name}", "2": "Here it is: {answer}", "3": "no field, {{braces}}"}

    filled = template_variables(variables, "First line.\n\nSecond\tline.", "  Ada \n Lovelace ")

    assert filled == {"1": "Ada Lovelace", "2": "Here it is: First line. Second line.", "3": "no field, {braces}"}


def test_a_user_without_a_profile_name_is_greeted_without_an_empty_variable() -> None:
    assert template_variables({"1": "{profile_name}"}, "x", "") == {"1": "there"}


def test_a_long_answer_is_cut_at_a_word_to_what_a_variable_takes() -> None:
    answer = " ".join(f"word{n}" for n in range(400))

    [value] = template_variables({"1": "{answer}"}, answer, "").values()

    assert len(value) <= ANSWER_MAX_CHARS and value.endswith("…")
    assert answer.startswith(value.removesuffix("…")) and value.removesuffix("…").split()[-1].startswith("word")
    assert answer[len(value) - 1] == " "  # cut between words, not inside one
