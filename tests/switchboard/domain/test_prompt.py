"""build_prompt: system prompt, the newest history that fits, the new message."""

from __future__ import annotations

from switchboard.domain.prompt import build_prompt


def turn(role: str, letter: str, size: int = 100) -> dict[str, str]:
    return {"role": role, "content": letter * size}


HISTORY = [turn("user", "a"), turn("assistant", "b"), turn("user", "c"), turn("assistant", "d")]


def test_it_puts_the_system_prompt_first_and_the_new_message_last() -> None:
    messages = build_prompt("Be brief.", HISTORY, "What now?", max_chars=10_000)

    assert messages == [{"role": "system", "content": "Be brief."}, *HISTORY, {"role": "user", "content": "What now?"}]


def test_it_drops_the_oldest_turns_to_fit_max_chars() -> None:
    # Room for the new message (10) and two turns (200), not three.
    messages = build_prompt("sys", HISTORY, "q" * 10, max_chars=10 + 250)

    assert messages[1:-1] == HISTORY[2:]


def test_it_never_starts_the_history_with_an_assistant_turn() -> None:
    # Room for three turns, which would begin with the assistant's "b" answer.
    messages = build_prompt("sys", HISTORY, "q" * 10, max_chars=10 + 300)

    assert messages[1]["role"] == "user"
    assert messages[1:-1] == HISTORY[2:]


def test_a_history_that_does_not_fit_at_all_is_left_out() -> None:
    messages = build_prompt("sys", HISTORY, "q" * 10, max_chars=50)

    assert messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "q" * 10}]


def test_a_large_old_turn_does_not_let_older_turns_back_in() -> None:
    history = [turn("user", "s", 10), turn("assistant", "t", 10), turn("user", "L", 500), *HISTORY[2:]]

    messages = build_prompt("sys", history, "q", max_chars=300)

    assert messages[1:-1] == HISTORY[2:]
