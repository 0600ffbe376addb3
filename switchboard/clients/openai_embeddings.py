"""Wrapper around the openai SDK's embeddings (KNOWLEDGE_EMBEDDING_MODEL): explicit timeout, SDK retries off."""

from __future__ import annotations

from collections.abc import Sequence

import openai

from switchboard.clients.openai_client import _converted, _sdk
from switchboard.errors import PermanentError
from switchboard.settings import Settings

# OpenAI takes up to 2048 inputs and 300,000 tokens in one request; passages are at most a few hundred
# tokens, so this many per request stays well inside both.
BATCH = 256


class EmbeddingsClient:
    """Turns texts into vectors with one request per BATCH texts. Errors: TransientError, PermanentError,
    ConfigurationFault, as switchboard/clients/openai_client.py converts them."""

    def __init__(self, sdk: openai.OpenAI, model: str) -> None:
        self.sdk = sdk
        self.model = model

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddingsClient | None:
        """None without KNOWLEDGE_EMBEDDING_MODEL: retrieval is BM25 then, which needs no key."""
        if settings.knowledge_embedding_model is None:
            return None
        return cls(_sdk(settings), settings.knowledge_embedding_model)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in the texts' order. OpenAI refuses an empty string, so none may be empty."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start:start + BATCH])
            with _converted("OpenAI embeddings"):
                # The SDK asks for base64 (a quarter of the bytes of JSON floats) and decodes it itself.
                response = self.sdk.embeddings.create(model=self.model, input=batch)
            ordered = sorted(response.data, key=lambda item: item.index)
            if len(ordered) != len(batch):
                raise PermanentError(f"OpenAI embeddings returned {len(ordered)} vectors for {len(batch)} texts")
            vectors.extend(list(item.embedding) for item in ordered)
        return vectors

