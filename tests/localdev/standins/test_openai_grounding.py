"""The OpenAI stand-in answers from a <knowledge> block like an obedient model, and says when it does not know."""

from __future__ import annotations

from typing import Any

import openai

from localdev.standins.openai_grounding import grounded_answer

BLOCK = """You answer for the club.

Reference text follows.
Contact for anything the reference text does not cover: the club office, +1 555 010 2030
<knowledge>
--- fees.md > Fees ---
Registration costs $60 per player. Players under 8 pay $35.
Registration closes on 15 March 2026.

--- documents.md > Documents ---
- A copy of a birth certificate or passport.
</knowledge>"""


def conversation(question: str, system: str = BLOCK) -> list[dict[str, Any]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "Hi!"}, {"role": "user", "content": question}]


def test_the_answer_is_the_sentence_sharing_most_words_with_the_newest_question() -> None:
    assert grounded_answer(conversation("How much does registration cost?"),
                           "How much does registration cost?") == "Registration costs $60 per player."
    assert grounded_answer(conversation("x"), "Is a passport enough?") == "A copy of a birth certificate or passport."


def test_a_question_the_facts_do_not_cover_gets_i_dont_know_and_the_contact() -> None:
    answer = grounded_answer(conversation("x"), "Can I bring my dog to registration?")

    assert answer == ("I don't know that from the information I have. "
                      "Please contact the club office, +1 555 010 2030.")


def test_without_a_contact_it_only_says_it_does_not_know_and_without_a_block_it_stays_out() -> None:
    no_contact = BLOCK.replace("Contact for anything the reference text does not cover: the club office, "
                               "+1 555 010 2030\n", "")

    assert grounded_answer(conversation("x", no_contact), "Is there parking?") == (
        "I don't know that from the information I have.")
    assert grounded_answer(conversation("x", "You are terse."), "How much?") is None


def test_through_the_sdk_a_completion_with_the_block_is_answered_from_it(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.create(
        model="gpt-test", messages=conversation("When does registration close?"))  # type: ignore[arg-type]

    assert response.choices[0].message.content == "Registration closes on 15 March 2026."
