"""BM25 over the passages: the question's words find their passage, and words nobody wrote find nothing."""

from __future__ import annotations

from pathlib import Path

from switchboard.knowledge.folder import read_corpus
from switchboard.knowledge.lexical import LexicalIndex, terms
from switchboard.knowledge.passages import split_passages


def top_titles(folder: Path, question: str, k: int = 4) -> list[str]:
    passages = split_passages(read_corpus(folder).files)
    index = LexicalIndex([p.searchable() for p in passages])
    return [passages[i].title.split(" > ")[-1] for i, _ in index.top(question, k)]


def test_the_cost_question_finds_the_fee_passage_first_and_not_the_documents(folder: Path) -> None:
    found = top_titles(folder, "How much does registration cost?")

    assert found[0] == "What registration costs"
    assert "New players" not in found  # the documents passage shares no word with the question


def test_each_topic_finds_its_own_passage(folder: Path) -> None:
    assert top_titles(folder, "Do you give refunds?", 1) == ["Refunds"]
    assert top_titles(folder, "Do I need a passport or a birth certificate?", 1) == ["New players"]
    assert top_titles(folder, "When are the first matches?", 1) == ["Season"]


def test_a_question_sharing_no_word_with_the_facts_finds_nothing(folder: Path) -> None:
    assert top_titles(folder, "Is the weather nice tomorrow?") == []
    assert top_titles(folder, "what is it?") == []  # only words every question has


def test_question_words_are_dropped_and_plurals_folded() -> None:
    assert terms("How much does registration cost?") == ["registration", "cost"]
    assert terms("Fees, costs and documents; the class and the bus") == ["fee", "cost", "document", "class", "bus"]
