"""The OpenAI stand-in's Embeddings API: the real wire format, base64 as the SDK asks, deterministic vectors."""

from __future__ import annotations

import base64
import struct

import openai
import pytest
import requests

from localdev.standins.openai_embeddings import embedding_vector
from tests.harness.standins import RunningStandin


def post(standin: RunningStandin, body: dict[str, object]) -> requests.Response:
    return requests.post(f"{standin.base_url}/v1/embeddings", json=body,
                         headers={"Authorization": "Bearer sk-test"}, timeout=5)


def test_a_float_request_gets_openais_list_of_embeddings_with_usage(openai_standin: RunningStandin) -> None:
    response = post(openai_standin, {"model": "text-embedding-3-small", "input": ["a fee", "a deadline"],
                                     "encoding_format": "float"})

    body = response.json()
    assert response.status_code == 200 and response.headers["x-request-id"].startswith("req_")
    assert body["object"] == "list" and body["model"] == "text-embedding-3-small"
    assert [(item["object"], item["index"]) for item in body["data"]] == [("embedding", 0), ("embedding", 1)]
    assert body["data"][0]["embedding"] == embedding_vector("a fee")
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0


def test_base64_is_little_endian_float32_and_a_string_input_is_one_item(openai_standin: RunningStandin) -> None:
    body = post(openai_standin, {"model": "m", "input": "a fee", "encoding_format": "base64",
                                 "dimensions": 8}).json()

    raw = base64.b64decode(body["data"][0]["embedding"])
    assert len(body["data"]) == 1
    assert list(struct.unpack("<8f", raw)) == pytest.approx(embedding_vector("a fee", 8))


def test_the_sdk_decodes_what_it_asked_for(openai_standin: RunningStandin, sdk: openai.OpenAI) -> None:
    response = sdk.embeddings.create(model="text-embedding-3-small", input=["registration costs", "passport"])

    assert [item.embedding for item in response.data] == [
        pytest.approx(embedding_vector("registration costs")), pytest.approx(embedding_vector("passport"))]


def test_the_same_text_gets_the_same_unit_vector_and_shared_words_bring_texts_near() -> None:
    fees, cost, passport = (embedding_vector(text) for text in
                            ("Registration costs $60", "What does registration cost?", "Bring your passport"))

    assert embedding_vector("Registration costs $60") == fees
    assert sum(x * x for x in fees) == pytest.approx(1.0)
    assert sum(a * b for a, b in zip(fees, cost, strict=True)) > 0.5
    assert sum(a * b for a, b in zip(fees, passport, strict=True)) == pytest.approx(0.0, abs=0.3)


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "m", "input": ""}, "input"),
    ({"model": "m", "input": [[1, 2, 3]]}, "input"),
    ({"input": "x"}, "model"),
    ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
])
def test_bad_requests_are_refused_as_openai_refuses_them(
        openai_standin: RunningStandin, body: dict[str, object], param: str) -> None:
    response = post(openai_standin, body)

    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_requests_are_listed_until_a_reset(openai_standin: RunningStandin) -> None:
    post(openai_standin, {"model": "m", "input": "fees"})
    listed = f"{openai_standin.base_url}/_standin/embeddings"
    assert requests.get(listed, timeout=5).json()["requests"] == [{"model": "m", "input": "fees"}]

    openai_standin.client.reset()

    assert requests.get(listed, timeout=5).json()["requests"] == []
