"""A folder's index: its whole text, its passages with BM25 over them, and their embeddings when configured.

Kept in Redis under the folder's fingerprint (switchboard/store/knowledge.py) so that the embeddings are
paid for once per change of the folder, not once per process; the BM25 side is rebuilt in memory from
the stored passages, which takes milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from switchboard.knowledge.folder import Corpus
from switchboard.knowledge.instruction import whole_facts
from switchboard.knowledge.lexical import LexicalIndex
from switchboard.knowledge.passages import PASSAGE_MAX_TOKENS, PASSAGES_VERSION, Passage, split_passages
from switchboard.knowledge.vectors import VectorIndex, pack, unpack
from switchboard.store.knowledge import StoredKnowledge
from switchboard.tokens import count_text


class Embedder(Protocol):
    """Texts to vectors (switchboard/clients/openai_embeddings.py's EmbeddingsClient, or a test's own)."""

    model: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class KnowledgeIndex:
    fingerprint: str
    corpus: Corpus
    whole_text: str  # every file in sorted order (instruction.whole_facts)
    whole_tokens: int
    passages: tuple[Passage, ...]
    lexical: LexicalIndex
    vectors: VectorIndex | None = None  # one row per passage, by `model`
    packed: bytes = b""  # the same rows as Redis keeps them (vectors.pack)
    model: str = ""


def fingerprint(corpus: Corpus, model: str | None) -> str:
    """Changes with any file, with how passages are cut, and with the embeddings model."""
    spec = f"passages:{PASSAGES_VERSION}:{PASSAGE_MAX_TOKENS}\nmodel:{model or ''}\nfiles:{corpus.content_hash}"
    return hashlib.sha256(spec.encode()).hexdigest()[:32]


def build_index(corpus: Corpus, embeddings: Embedder | None = None) -> KnowledgeIndex:
    """Cut the passages and, with `embeddings`, embed each (its headings and text): one request per batch."""
    passages = split_passages(corpus.files)
    model = embeddings.model if embeddings is not None else None
    packed = b""
    if embeddings is not None and passages:
        packed = pack(embeddings.embed([p.searchable() for p in passages]))
    return _index(corpus, fingerprint(corpus, model), passages, packed, model or "")


def provisional_index(corpus: Corpus, model: str | None) -> KnowledgeIndex:
    """BM25 only, under the fingerprint the full index will have: what serves while its embeddings are made."""
    return _index(corpus, fingerprint(corpus, model), split_passages(corpus.files), b"", "")


def stored_form(index: KnowledgeIndex) -> StoredKnowledge:
    passages = json.dumps([{"title": p.title, "text": p.text} for p in index.passages], ensure_ascii=False)
    return StoredKnowledge(passages=passages, vectors=index.packed, model=index.model, built_at=time.time())


def from_stored(corpus: Corpus, model: str | None, stored: StoredKnowledge) -> KnowledgeIndex:
    """The index Redis kept for this corpus; ValueError when it is not one this code can read."""
    try:
        passages = [Passage(str(item["title"]), str(item["text"])) for item in json.loads(stored.passages)]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"the stored passages are not readable: {exc}") from exc
    if model and passages and (not stored.vectors or stored.model != model):
        raise ValueError(f"the stored index has no vectors by {model}")
    return _index(corpus, fingerprint(corpus, model), passages, stored.vectors, stored.model)


def _index(corpus: Corpus, key: str, passages: Sequence[Passage], packed: bytes, model: str) -> KnowledgeIndex:
    whole = whole_facts(corpus.files)
    vectors = VectorIndex(unpack(packed, len(passages))) if packed else None
    return KnowledgeIndex(key, corpus, whole, count_text(whole), tuple(passages),
                          LexicalIndex([p.searchable() for p in passages]), vectors, packed, model if packed else "")
