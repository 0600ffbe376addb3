"""Fixtures for the knowledge tests: a copy of the sample folder, settings from keywords, the embeddings stand-in."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from localdev.processes import REPO_ROOT
from switchboard.clients.openai_embeddings import EmbeddingsClient
from switchboard.errors import TransientError
from switchboard.settings import Settings, load_settings
from tests.harness.standins import RunningStandin, openai_sdk

SAMPLE = REPO_ROOT / "localdev" / "sample" / "knowledge"
CONTACT = "the club office, +1 555 010 2030"
MODEL = "text-embedding-3-small"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The sample registration-season folder (fees, deadlines, documents), a copy a test may change."""
    return Path(shutil.copytree(SAMPLE, tmp_path / "knowledge"))


@pytest.fixture
def make_settings(hermetic_env: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Settings off AWS from keyword fields; nothing read from the shell."""

    def make(**fields: object) -> Settings:
        base: dict[str, object] = {
            "twilio_account_sid": "AC" + "1" * 32, "twilio_auth_token": "5f" * 16, "openai_api_key": "sk-test",
            "conversation_id_secret": "s" * 32, "sqs_endpoint_url": "http://127.0.0.1:4566",
            "knowledge_contact": CONTACT,
        }
        return load_settings(**{**base, **fields})

    return make


@pytest.fixture
def embeddings(openai_standin: RunningStandin) -> EmbeddingsClient:
    """The real client and SDK, against the OpenAI stand-in's /v1/embeddings."""
    return EmbeddingsClient(openai_sdk(openai_standin), MODEL)


class FlakyEmbedder:
    """Embeds through `inner`, recording each call's texts; raises TransientError while `failing`."""

    def __init__(self, inner: EmbeddingsClient) -> None:
        self.inner = inner
        self.model = inner.model
        self.calls: list[list[str]] = []
        self.failing = False

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        if self.failing:
            raise TransientError("OpenAI embeddings unavailable: APIConnectionError")
        return self.inner.embed(texts)


@pytest.fixture
def flaky(embeddings: EmbeddingsClient) -> FlakyEmbedder:
    return FlakyEmbedder(embeddings)
