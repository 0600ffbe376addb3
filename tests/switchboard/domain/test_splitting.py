"""split_message: Twilio-sized parts, cut at the coarsest boundary that fits, nothing lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.splitting import TWILIO_MAX_BODY, split_message

SENTENCE = "This is one sentence of words."  # 30 characters


def squashed(text: str) -> str:
    """The text without any whitespace: what must survive splitting."""
    return "".join(text.split())


def paragraph(sentences: int) -> str:
    return " ".join([SENTENCE] * sentences)


def test_the_limit_is_twilios_1600_characters() -> None:
    assert TWILIO_MAX_BODY == 1600


def test_a_short_text_is_one_part() -> None:
    assert split_message("Hello there. How are you?") == ["Hello there. How are you?"]


def test_empty_or_blank_text_has_no_parts() -> None:
    assert split_message("") == []
    assert split_message(" \n\n \t") == []


def test_it_splits_on_paragraphs_first() -> None:
    first, second = paragraph(30), paragraph(30)  # 929 characters each: both together do not fit

    assert split_message(f"{first}\n\n{second}") == [first, second]


def test_it_keeps_small_paragraphs_together_in_one_part() -> None:
    text = "First paragraph.\n\nSecond paragraph.\n\nThird."

    assert split_message(text) == [text]


def test_a_paragraph_too_long_for_one_part_is_split_between_sentences() -> None:
    text = paragraph(80)  # 2479 characters, no paragraph break

    parts = split_message(text)

    assert len(parts) == 2
    assert all(len(part) <= TWILIO_MAX_BODY for part in parts)
    assert all(part.startswith("This") and part.endswith("words.") for part in parts)
    assert " ".join(parts) == text


def test_a_sentence_too_long_for_one_part_is_split_between_words() -> None:
    words = [f"w{i:04d}" for i in range(500)]  # 2999 characters, no sentence end
    text = " ".join(words)

    parts = split_message(text)

    assert len(parts) == 2
    assert all(len(part) <= TWILIO_MAX_BODY for part in parts)
    assert [word for part in parts for word in part.split(" ")] == words


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    assert split_message("x" * 4000) == ["x" * 1600, "x" * 1600, "x" * 800]


def test_nothing_is_lost_in_a_long_mixed_answer() -> None:
    text = "\n\n".join([paragraph(70), "y" * 3500, "Short one.", " ".join(["word"] * 900)])

    parts = split_message(text)

    assert all(0 < len(part) <= TWILIO_MAX_BODY for part in parts)
    assert squashed("".join(parts)) == squashed(text)


_fragments = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from([" ", "\n", "\n\n", " \n \n ", ". ", "! ", "? ", "… ", "\t"]),
)


@given(st.lists(_fragments, max_size=60).map("".join), st.integers(min_value=1, max_value=80))
def test_every_part_fits_none_is_empty_and_no_text_is_lost(text: str, limit: int) -> None:
    parts = split_message(text, limit=limit)

    assert all(len(part) <= limit for part in parts)
    assert all(part.strip() for part in parts)
    assert squashed("".join(parts)) == squashed(text)
