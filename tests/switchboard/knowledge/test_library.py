"""KnowledgeLibrary on the real Redis: indexes saved and loaded by fingerprint, rebuilt when the folder changes,
embeddings paid once while other processes answer with BM25."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.knowledge import KnowledgeLibrary
from switchboard.knowledge.building import build_folder
from switchboard.knowledge.folder import read_corpus
from switchboard.knowledge.index import fingerprint
from switchboard.knowledge.library import BUILD_RETRY_SECONDS, CHECK_SECONDS
from switchboard.settings import Settings
from switchboard.store import ConversationStore
from tests.switchboard.knowledge.conftest import MODEL, FlakyEmbedder

QUESTION = "How much does registration cost?"
# The stand-in's embeddings are a hashed bag of words: a question with one telling word finds its passage.
ABOUT_REFUNDS = "Can I get a refund?"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # Small enough that the sample folder is retrieved, not sent whole: the embeddings matter.
    return make_settings(knowledge_prompt_max_tokens=150, knowledge_embedding_model=MODEL)


def library(store: ConversationStore, settings: Settings, embeddings: FlakyEmbedder | None,
            clock: Clock) -> KnowledgeLibrary:
    return KnowledgeLibrary(store, settings, embeddings, clock=clock)


def test_without_embeddings_the_index_is_saved_and_the_question_gets_its_passage_by_bm25(
        store: ConversationStore, make_settings: Callable[..., Settings], folder: Path, clock: Clock) -> None:
    knowledge = library(store, make_settings(knowledge_prompt_max_tokens=150), None, clock).for_folder(folder)

    selection = knowledge.select(QUESTION)

    assert selection.how == "bm25"
    assert "Registration costs $60" in selection.facts
    assert store.load_knowledge_index(fingerprint(read_corpus(folder), None)) is not None


def test_a_process_finding_the_index_in_redis_pays_for_no_passage_embeddings(
        store: ConversationStore, settings: Settings, folder: Path, flaky: FlakyEmbedder, clock: Clock) -> None:
    first = library(store, settings, flaky, clock).for_folder(folder)
    assert len(flaky.calls) == 1 and len(flaky.calls[0]) == len(first.index.passages)  # type: ignore[union-attr]
    later = FlakyEmbedder(flaky.inner)

    knowledge = library(store, settings, later, clock).for_folder(folder)
    selection = knowledge.select(ABOUT_REFUNDS)

    assert later.calls == [[ABOUT_REFUNDS]]  # the question only
    assert selection.how == "embeddings"
    assert selection.passages[0][0].title.endswith("Refunds")


def test_a_change_is_seen_after_a_few_seconds_and_not_before(
        store: ConversationStore, settings: Settings, folder: Path, flaky: FlakyEmbedder, clock: Clock) -> None:
    books = library(store, settings, flaky, clock)
    books.for_folder(folder)
    fees = folder / "fees.md"
    fees.write_text(fees.read_text().replace("until 1 March 2026", "until 8 March 2026"))

    clock.now += CHECK_SECONDS - 1
    before = books.for_folder(folder).select(ABOUT_REFUNDS).facts
    clock.now += 2
    after = books.for_folder(folder).select(ABOUT_REFUNDS).facts

    assert "until 1 March" in before and "until 8 March" in after
    assert [len(call) > 1 for call in flaky.calls] == [True, False, True, False]  # build, question, rebuild, question
    assert store.load_knowledge_index(fingerprint(read_corpus(folder), MODEL)) is not None


def test_a_touched_file_with_the_same_text_is_not_embedded_again(
        store: ConversationStore, settings: Settings, folder: Path, flaky: FlakyEmbedder, clock: Clock) -> None:
    books = library(store, settings, flaky, clock)
    books.for_folder(folder)
    (folder / "fees.md").write_text((folder / "fees.md").read_text())

    clock.now += CHECK_SECONDS + 1
    books.for_folder(folder)

    assert len(flaky.calls) == 1


def test_while_another_process_builds_this_one_answers_by_bm25_then_loads_the_built_index(
        store: ConversationStore, settings: Settings, folder: Path, flaky: FlakyEmbedder, clock: Clock) -> None:
    key = fingerprint(read_corpus(folder), MODEL)
    assert store.claim_knowledge_build(key, "another-worker", ttl_seconds=60)
    waiting = library(store, settings, flaky, clock)

    meanwhile = waiting.for_folder(folder).select(QUESTION)
    build_folder(store, folder, flaky.inner)  # the other worker's build ends
    clock.now += CHECK_SECONDS + 1
    afterwards = waiting.for_folder(folder).select(ABOUT_REFUNDS)

    assert meanwhile.how == "bm25" and "Registration costs $60" in meanwhile.facts
    assert afterwards.how == "embeddings" and afterwards.passages[0][0].title.endswith("Refunds")
    assert flaky.calls == [[ABOUT_REFUNDS]]  # no passage embedded by this process


def test_a_failed_build_answers_by_bm25_frees_the_claim_and_is_tried_again_only_after_a_while(
        store: ConversationStore, settings: Settings, folder: Path, flaky: FlakyEmbedder, clock: Clock) -> None:
    flaky.failing = True
    books = library(store, settings, flaky, clock)

    failed = books.for_folder(folder).select(QUESTION)
    key = fingerprint(read_corpus(folder), MODEL)
    assert store.claim_knowledge_build(key, "probe", ttl_seconds=5)  # released after the failure
    store.release_knowledge_build(key, "probe")
    flaky.failing = False
    clock.now += CHECK_SECONDS + 1
    books.for_folder(folder)
    tries_before_the_retry = len(flaky.calls)
    clock.now += BUILD_RETRY_SECONDS
    rebuilt = books.for_folder(folder).select(QUESTION)

    assert failed.how == "bm25" and "Registration costs $60" in failed.facts
    assert tries_before_the_retry == 1
    assert rebuilt.how == "embeddings"


def test_each_bot_may_give_its_own_contact_and_no_folder_gives_no_text(
        store: ConversationStore, settings: Settings, folder: Path, clock: Clock) -> None:
    books = library(store, settings, None, clock)

    assert "Contact for anything the reference text does not cover: +44 20 7946 0000" in books.for_folder(
        folder, contact="+44 20 7946 0000").system_text(QUESTION)
    assert books.for_folder(None).system_text(QUESTION) == ""
