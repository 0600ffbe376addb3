"""A folder's index to and from Redis, and `build_folder`, what `switchboard knowledge build` runs for each folder."""

from __future__ import annotations

import logging
from pathlib import Path

from switchboard.knowledge.folder import Corpus, read_corpus
from switchboard.knowledge.index import Embedder, KnowledgeIndex, build_index, fingerprint, from_stored, stored_form
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)


def load_index(store: ConversationStore, corpus: Corpus, model: str | None) -> KnowledgeIndex | None:
    """The index Redis keeps for this corpus and embeddings model; None when there is none (or none usable)."""
    key = fingerprint(corpus, model)
    stored = store.load_knowledge_index(key)
    if stored is None:
        return None
    try:
        return from_stored(corpus, model, stored)
    except ValueError as exc:
        log.warning("knowledge: the stored index %s is unusable (%s); building it again", key, exc)
        return None


def save_index(store: ConversationStore, index: KnowledgeIndex) -> KnowledgeIndex:
    store.save_knowledge_index(index.fingerprint, stored_form(index))
    return index


def build_folder(store: ConversationStore, folder: Path, embeddings: Embedder | None) -> KnowledgeIndex:
    """Read, cut, embed (with `embeddings`) and save the folder's index, whether or not one was saved before.

    The operator asked for it, so it pays for the embeddings again rather than trusting an older index.
    """
    return save_index(store, build_index(read_corpus(folder), embeddings))
