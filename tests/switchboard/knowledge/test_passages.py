"""Passages: cut at headings and paragraphs, bounded in size, each titled by its file and heading path."""

from __future__ import annotations

from pathlib import Path

from switchboard.knowledge.folder import SourceFile, read_corpus
from switchboard.knowledge.passages import PASSAGE_MAX_TOKENS, split_passages
from switchboard.tokens import count_text


def test_each_section_is_a_passage_titled_by_its_file_and_headings(folder: Path) -> None:
    passages = split_passages(read_corpus(folder).files)

    titles = [p.title for p in passages]
    assert "fees.md > Registration fees, spring season 2026 > What registration costs" in titles
    assert "documents.md > Documents needed > Returning players" in titles
    fees = next(p for p in passages if p.title.endswith("What registration costs"))
    assert fees.text.startswith("Registration costs $60 per player")
    assert "#" not in fees.text


def test_a_heading_replaces_those_of_its_level_and_below_and_a_code_block_has_none() -> None:
    text = "# Top\n\n## One\n\nFirst.\n\n### Deep\n\nDeeper.\n\n## Two\n\n```\n# not a heading\n```\n\nSecond."

    passages = split_passages([SourceFile("guide.md", text)])

    assert [(p.title, p.text) for p in passages] == [
        ("guide.md > Top > One", "First."),
        ("guide.md > Top > One > Deep", "Deeper."),
        ("guide.md > Top > Two", "```\n# not a heading\n```\n\nSecond."),
    ]


def test_a_text_file_without_headings_is_titled_by_its_path_and_packed_by_paragraphs() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 40 for n in range(10)]

    passages = split_passages([SourceFile("notes.txt", "\n\n".join(paragraphs))], max_tokens=120)

    assert {p.title for p in passages} == {"notes.txt"}
    assert all(count_text(p.text) <= 120 for p in passages)
    assert 1 < len(passages) < len(paragraphs)  # several paragraphs share a passage, not one each
    assert "\n\n".join(p.text for p in passages).split() == "\n\n".join(paragraphs).split()  # nothing lost


def test_a_paragraph_longer_than_a_passage_is_cut_between_sentences() -> None:
    sentences = " ".join(f"Sentence number {n} says a little about the registration rules." for n in range(80))

    passages = split_passages([SourceFile("long.md", sentences)])

    assert len(passages) > 1
    assert all(count_text(p.text) <= PASSAGE_MAX_TOKENS for p in passages)
    assert all(p.text.startswith("Sentence") and p.text.endswith("rules.") for p in passages)
    assert " ".join(p.text for p in passages) == sentences


def test_a_run_with_no_space_in_it_is_cut_by_characters() -> None:
    unbroken = "https://example.org/" + "x" * (PASSAGE_MAX_TOKENS * 5)

    passages = split_passages([SourceFile("links.md", unbroken)])

    assert all(count_text(p.text) <= PASSAGE_MAX_TOKENS for p in passages)
    assert "".join(p.text for p in passages) == unbroken
