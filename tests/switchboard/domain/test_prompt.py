"""build_prompt: system prompt, the summary, the newest history that fits the token budget, the new turns."""

from __future__ import annotations

from switchboard.domain.prompt import SUMMARY_PREFIX, build_prompt
from switchboard.domain.user_turn import UserTurn
from switchboard.tokens import count_message

# Each history turn is 100 ASCII characters: 25 tokens of text plus the message's framing.
TURN = count_message("x" * 100)
NEW = count_message("q" * 10)


def turn(role: str, letter: str, size: int = 100) -> dict[str, str]:
    return {"role": role, "content": letter * size}


def said(text: str) -> list[UserTurn]:
    return [UserTurn(text)]


HISTORY = [turn("user", "a"), turn("assistant", "b"), turn("user", "c"), turn("assistant", "d")]


def test_it_puts_the_system_prompt_first_and_the_new_message_last() -> None:
    messages = build_prompt("Be brief.", HISTORY, said("What now?"), max_tokens=10_000)

    assert messages == [{"role": "system", "content": "Be brief."}, *HISTORY, {"role": "user", "content": "What now?"}]


def test_it_drops_the_oldest_turns_to_fit_max_tokens() -> None:
    # Room for the new message and two turns, not three.
    messages = build_prompt("sys", HISTORY, said("q" * 10), max_tokens=NEW + 2 * TURN + TURN // 2)

    assert messages[1:-1] == HISTORY[2:]


def test_it_never_starts_the_history_with_an_assistant_turn() -> None:
    # Room for three turns, which would begin with the assistant's "b" answer.
    messages = build_prompt("sys", HISTORY, said("q" * 10), max_tokens=NEW + 3 * TURN)

    assert messages[1]["role"] == "user"
    assert messages[1:-1] == HISTORY[2:]


def test_a_history_that_does_not_fit_at_all_is_left_out() -> None:
    messages = build_prompt("sys", HISTORY, said("q" * 10), max_tokens=NEW + TURN // 2)

    assert messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "q" * 10}]


def test_a_large_old_turn_does_not_let_older_turns_back_in() -> None:
    history = [turn("user", "s", 10), turn("assistant", "t", 10), turn("user", "L", 500), *HISTORY[2:]]

    messages = build_prompt("sys", history, said("q"), max_tokens=count_message("q") + 2 * TURN + 20)

    assert messages[1:-1] == HISTORY[2:]


def test_the_summary_follows_the_system_prompt_as_a_system_message() -> None:
    messages = build_prompt("sys", HISTORY, said("q"), max_tokens=10_000, summary="They asked about visas.")

    assert messages[:2] == [{"role": "system", "content": "sys"},
                            {"role": "system", "content": SUMMARY_PREFIX + "They asked about visas."}]
    assert messages[2:] == [*HISTORY, {"role": "user", "content": "q"}]


def test_the_summary_takes_its_share_of_the_budget() -> None:
    summary = "s" * 100  # about one turn's worth, so one exchange less of history fits
    budget = NEW + 4 * TURN + 2

    assert build_prompt("sys", HISTORY, said("q" * 10), budget)[1:-1] == HISTORY
    assert build_prompt("sys", HISTORY, said("q" * 10), budget, summary=summary)[2:-1] == HISTORY[2:]


def test_no_summary_means_no_summary_message() -> None:
    messages = build_prompt("sys", [], said("q"), max_tokens=100, summary="")

    assert messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "q"}]


def test_a_turn_with_images_becomes_text_and_image_parts() -> None:
    photo, form = "data:image/jpeg;base64,AAAA", "data:image/png;base64,BBBB"

    messages = build_prompt("sys", [], [UserTurn("What does this say?", (photo, form))], max_tokens=100)

    assert messages[-1] == {"role": "user", "content": [
        {"type": "text", "text": "What does this say?"},
        {"type": "image_url", "image_url": {"url": photo}},
        {"type": "image_url", "image_url": {"url": form}},
    ]}


def test_a_photo_without_a_caption_sends_only_the_image() -> None:
    messages = build_prompt("sys", [], [UserTurn("", ("data:image/jpeg;base64,AAAA",))], max_tokens=100)

    assert messages[-1]["content"] == [{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}}]


def test_a_burst_goes_in_as_one_user_message_per_turn_oldest_first() -> None:
    burst = [UserTurn("Hi"), UserTurn("I lost my card"), UserTurn("what now?")]

    messages = build_prompt("sys", HISTORY, burst, max_tokens=10_000)

    assert messages[-3:] == [{"role": "user", "content": "Hi"}, {"role": "user", "content": "I lost my card"},
                             {"role": "user", "content": "what now?"}]
    assert messages[1:-3] == HISTORY


def test_every_turn_of_a_burst_counts_against_the_budget() -> None:
    budget = NEW + 2 * TURN  # room for one new message and two turns

    assert build_prompt("sys", HISTORY, said("q" * 10), budget)[1:-1] == HISTORY[2:]
    # A second message leaves room for only one turn, an answer without its question: none is kept.
    assert build_prompt("sys", HISTORY, [UserTurn("q" * 10), UserTurn("q" * 10)], budget)[1:-2] == []
