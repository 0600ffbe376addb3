"""EmbeddingsClient through the real openai SDK against the stand-in: vectors in order, errors as ours."""

from __future__ import annotations

import math

import openai
import pytest
import requests

import switchboard.clients.openai_embeddings as embeddings_module
from localdev.standins.openai_api import create_openai_standin
from localdev.standins.serving import serve_in_thread
from switchboard.clients.openai_embeddings import EmbeddingsClient
from switchboard.errors import ConfigurationFault, TransientError
from tests.harness.standins import RunningStandin, openai_sdk


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_each_text_gets_its_vector_in_order_and_similar_texts_are_near(openai_standin: RunningStandin) -> None:
    client = EmbeddingsClient(openai_sdk(openai_standin), "text-embedding-3-small")

    fees, fees_again, passport = client.embed(
        ["Registration costs $60 per player", "What does registration cost?", "Bring a passport"])

    assert len(fees) == 256
    assert cosine(fees, fees_again) > 0.4 > cosine(fees, passport)
    sent = requests.get(f"{openai_standin.base_url}/_standin/embeddings", timeout=5).json()["requests"]
    # The SDK asks for base64 and decodes it; the client sends one request for the three.
    assert [(r["model"], len(r["input"]), r["encoding_format"]) for r in sent] == [
        ("text-embedding-3-small", 3, "base64")]


def test_many_texts_go_in_batches(openai_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings_module, "BATCH", 2)
    client = EmbeddingsClient(openai_sdk(openai_standin), "text-embedding-3-small")

    vectors = client.embed([f"text number {n}" for n in range(5)])

    assert vectors == [client.embed([f"text number {n}"])[0] for n in range(5)]
    sent = requests.get(f"{openai_standin.base_url}/_standin/embeddings", timeout=5).json()["requests"]
    assert [len(r["input"]) for r in sent[:3]] == [2, 2, 1]


def test_a_refused_key_is_a_configuration_fault_and_no_answer_is_transient() -> None:
    base_url, stop = serve_in_thread(create_openai_standin(api_key="sk-right"))
    try:
        wrong = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-wrong", max_retries=0, timeout=2)
        with pytest.raises(ConfigurationFault):
            EmbeddingsClient(wrong, "text-embedding-3-small").embed(["fees"])
    finally:
        stop()
    gone = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-right", max_retries=0, timeout=2)
    with pytest.raises(TransientError):
        EmbeddingsClient(gone, "text-embedding-3-small").embed(["fees"])
