"""The token estimate (UTF-8 bytes / 4, rounded up, plus a message's framing) and the models' context windows."""

from __future__ import annotations

from switchboard.tokens import (
    TOKENS_PER_MESSAGE,
    UNKNOWN_MODEL_WINDOW,
    context_window,
    count_message,
    count_text,
    known_window,
    truncate,
)


def test_text_is_counted_as_utf8_bytes_over_four_rounded_up() -> None:
    assert count_text("") == 0
    assert count_text("abcd") == 1
    assert count_text("abcde") == 2
    assert count_text("ж" * 10) == 5  # 20 bytes: scripts beyond ASCII count their bytes


def test_a_message_costs_its_text_and_its_framing() -> None:
    assert count_message("abcd" * 25) == 25 + TOKENS_PER_MESSAGE
    assert count_message("") == TOKENS_PER_MESSAGE


def test_truncate_leaves_text_within_the_cap_alone() -> None:
    assert truncate("short and sweet", 10) == "short and sweet"


def test_truncate_cuts_long_text_at_a_word_to_fit_the_cap() -> None:
    text = " ".join(f"word{i}" for i in range(200))

    cut = truncate(text, 20)

    assert count_text(cut) <= 20
    assert cut.endswith("…")
    assert text.startswith(cut.removesuffix("…"))
    assert cut.removesuffix("…").split()[-1] in text.split()  # no word cut in half


def test_truncate_never_splits_a_character() -> None:
    cut = truncate("ж" * 100, 5)

    assert count_text(cut) <= 5
    assert set(cut.removesuffix("…")) == {"ж"}


def test_known_models_and_their_dated_snapshots_have_their_context_window() -> None:
    assert context_window("gpt-4o-mini") == 128_000
    assert context_window("gpt-4o-mini-2024-07-18") == 128_000
    assert context_window("gpt-4-0613") == 8_192
    assert context_window("gpt-4-turbo-2024-04-09") == 128_000
    assert context_window("GPT-4.1") == 1_047_576


def test_an_unknown_model_gets_the_conservative_window() -> None:
    assert known_window("llama-3-8b-local") is None
    assert context_window("llama-3-8b-local") == UNKNOWN_MODEL_WINDOW
    assert context_window("gpt-4ox") == UNKNOWN_MODEL_WINDOW  # a prefix of a name is not a family
