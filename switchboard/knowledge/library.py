"""Each knowledge folder's Knowledge, per process: looked at every few seconds, rebuilt when its files change.

Who pays for embeddings. When a folder changes, every worker notices within CHECK_SECONDS; the first to
claim knowledge-build:<fingerprint> in Redis embeds the passages and saves the index, and every other
process answers with BM25 over the new passages meanwhile (built in memory in milliseconds) and looks for
the saved index at its next check. Waiting for the builder instead would hold every answer up for as long
as the embeddings take (a large folder: many seconds), and BM25 over the right files is a better answer
than a late one. `switchboard knowledge build` before a change is rolled out makes even that window empty.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.knowledge.building import load_index, save_index
from switchboard.knowledge.facts import Knowledge
from switchboard.knowledge.folder import Corpus, Signature, read_corpus, signature
from switchboard.knowledge.index import Embedder, KnowledgeIndex, build_index, fingerprint, provisional_index
from switchboard.settings import Settings
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)

# How stale a process's view of a folder may be. A look is a stat of each file; the files are read
# (and PDFs parsed) only when one changed.
CHECK_SECONDS = 5.0
# Longer than any embedding of a folder should take; a builder that dies frees it when it lapses.
BUILD_CLAIM_SECONDS = 300
# After a failed build (OpenAI down, a bad key), this process waits this long before paying for another try.
BUILD_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class _Seen:
    signature: Signature
    fingerprint: str
    knowledge: Knowledge
    complete: bool  # False: BM25 only while the index with embeddings is being made
    next_look: float


class KnowledgeLibrary:
    """`for_folder(path)` -> that folder's Knowledge; thread-safe, one per process (built with the services)."""

    def __init__(self, store: ConversationStore, settings: Settings, embeddings: Embedder | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.settings = settings
        self.embeddings = embeddings
        self._model = embeddings.model if embeddings is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[Path, _Seen] = {}
        self._retry_at: dict[str, float] = {}  # fingerprint -> when a failed build may be tried again
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def for_folder(self, path: Path | None, contact: str | None = None) -> Knowledge:
        """The folder's Knowledge, with `contact` (default KNOWLEDGE_CONTACT); an empty one for no folder."""
        if path is None:
            return Knowledge.empty()
        with self._lock:
            seen, to_build = self._look(path)
        if to_build is not None:
            seen = self._build(path, seen, to_build)
        return seen.knowledge.with_contact(self.settings.knowledge_contact if contact is None else contact)

    def _look(self, path: Path) -> tuple[_Seen, Corpus | None]:
        """What the folder holds now, and the corpus this thread should build the full index of, if any."""
        now = self._clock()
        seen = self._seen.get(path)
        if seen is not None and now < seen.next_look:
            return seen, None
        try:
            looked = signature(path)
            if seen is not None and seen.complete and looked == seen.signature:
                return self._keep(path, seen, looked, now), None
            corpus = read_corpus(path)
        except OSError as exc:
            # The folder went away or cannot be read: keep what this process had rather than forget every fact.
            log.warning("knowledge: cannot read %s (%s); keeping what was read before", path, exc)
            kept = seen or _Seen((), "", Knowledge.empty(), True, now)
            return self._keep(path, kept, kept.signature, now), None
        key = fingerprint(corpus, self._model)
        if seen is not None and seen.complete and key == seen.fingerprint:
            return self._keep(path, seen, looked, now), None  # touched, not changed
        found = load_index(self.store, corpus, self._model)
        if found is not None:
            return self._remember(path, looked, found, True, now), None
        if self.embeddings is None:
            # Nothing to pay for: any process builds it, and the same fingerprint always gives the same index.
            return self._remember(path, looked, save_index(self.store, build_index(corpus)), True, now), None
        seen = self._remember(path, looked, provisional_index(corpus, self._model), False, now)
        if now >= self._retry_at.get(key, 0.0) and self.store.claim_knowledge_build(
                key, self._owner, BUILD_CLAIM_SECONDS):
            return seen, corpus
        return seen, None

    def _build(self, path: Path, provisional: _Seen, corpus: Corpus) -> _Seen:
        """Embed the passages and save the index, outside the lock: this process's other threads use BM25 meanwhile."""
        key = provisional.fingerprint
        try:
            index = save_index(self.store, build_index(corpus, self.embeddings))
        except (TransientError, PermanentError, ConfigurationFault) as exc:
            log.error("knowledge: embedding %s failed (%s); BM25 until a retry in %.0f s",
                      path, exc, BUILD_RETRY_SECONDS)
            with self._lock:
                self._retry_at[key] = self._clock() + BUILD_RETRY_SECONDS
            return provisional
        finally:
            self.store.release_knowledge_build(key, self._owner)
        log.info("knowledge: built the index of %s (%d passages, %s)", path, len(index.passages), index.model)
        with self._lock:
            current = self._seen.get(path)
            if current is None or current.fingerprint != key:
                return current or provisional  # the folder changed again while this ran
            return self._remember(path, current.signature, index, True, self._clock())

    def _remember(self, path: Path, looked: Signature, index: KnowledgeIndex, complete: bool, now: float) -> _Seen:
        knowledge = Knowledge.from_index(index, self.settings, self.embeddings)
        seen = _Seen(looked, index.fingerprint, knowledge, complete, now + CHECK_SECONDS)
        self._seen[path] = seen
        return seen

    def _keep(self, path: Path, seen: _Seen, looked: Signature, now: float) -> _Seen:
        kept = _Seen(looked, seen.fingerprint, seen.knowledge, seen.complete, now + CHECK_SECONDS)
        self._seen[path] = kept
        return kept
