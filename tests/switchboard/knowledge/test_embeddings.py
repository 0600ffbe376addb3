"""Retrieval by embeddings (KNOWLEDGE_EMBEDDING_MODEL), in memory as evals use it, against the OpenAI stand-in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.clients.openai_embeddings import EmbeddingsClient
from switchboard.knowledge import Knowledge
from switchboard.settings import Settings
from tests.switchboard.knowledge.conftest import MODEL, FlakyEmbedder


def test_the_passages_are_embedded_once_and_each_question_finds_its_passage_by_meaning(
        folder: Path, make_settings: Callable[..., Settings], flaky: FlakyEmbedder) -> None:
    knowledge = Knowledge.from_folder(folder, make_settings(knowledge_prompt_max_tokens=150), flaky)

    refunds = knowledge.select("Can I get a refund?")
    passport = knowledge.select("Will a passport do?")

    assert refunds.how == passport.how == "embeddings"
    assert refunds.passages[0][0].title.endswith("Refunds") and "refunded in full" in refunds.facts
    assert passport.passages[0][0].title.endswith("New players")
    assert [len(call) for call in flaky.calls] == [10, 1, 1]  # ten passages at once, then one per question


def test_when_the_questions_embedding_fails_the_passages_come_by_bm25_instead(
        folder: Path, make_settings: Callable[..., Settings], flaky: FlakyEmbedder,
        caplog: pytest.LogCaptureFixture) -> None:
    knowledge = Knowledge.from_folder(folder, make_settings(knowledge_prompt_max_tokens=150), flaky)
    flaky.failing = True

    selection = knowledge.select("How much does registration cost?")

    assert selection.how == "bm25" and "Registration costs $60" in selection.facts
    assert "BM25 instead" in caplog.text


def test_a_client_is_made_only_when_a_model_is_configured(make_settings: Callable[..., Settings]) -> None:
    assert EmbeddingsClient.from_settings(make_settings()) is None
    client = EmbeddingsClient.from_settings(make_settings(knowledge_embedding_model=MODEL))
    assert client is not None and client.model == MODEL
    assert client.sdk.max_retries == 0 and client.sdk.timeout == 30.0
