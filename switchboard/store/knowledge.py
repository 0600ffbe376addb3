"""Knowledge indexes (issue 14): a folder's passages and their embeddings, kept under the folder's fingerprint.

An index is content-addressed: the fingerprint (switchboard/knowledge/folder.py) covers the files' paths,
sizes and content hashes, how passages are cut, and the embeddings model, so two folders with the same files
share one index and a changed folder simply has another. Nothing here knows what a passage is: the knowledge
package hands in and gets back the passages as JSON and the vectors as packed float32 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.store.base import StoreBase, as_text

# An index no process has loaded for this long belongs to a folder nobody serves any more; it ages out.
# Each load renews it, so a served index stays (a new process loads it at start-up).
KNOWLEDGE_INDEX_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class StoredKnowledge:
    """One folder's index as Redis keeps it."""

    passages: str  # JSON, as switchboard/knowledge/index.py writes it
    vectors: bytes = b""  # one float32 row per passage (little-endian), when an embeddings model made them
    model: str = ""  # that model; "" when the index has no vectors
    built_at: float = 0.0


class KnowledgeIndexes(StoreBase):
    """knowledge:<fingerprint> (the index) and knowledge-build:<fingerprint> (who is building it now)."""

    def save_knowledge_index(self, fingerprint: str, index: StoredKnowledge,
                             ttl_seconds: int = KNOWLEDGE_INDEX_TTL_SECONDS) -> None:
        key = self._key("knowledge", fingerprint)
        fields: dict[str, str | bytes | float] = {"passages": index.passages, "model": index.model,
                                                  "built_at": index.built_at}
        if index.vectors:
            fields["vectors"] = index.vectors
        # One key, so MULTI is atomic on a cluster too: a reader never sees passages beside older vectors.
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]  # redis-py types the mapping too narrowly
            pipe.expire(key, ttl_seconds)
            pipe.execute()

    def load_knowledge_index(self, fingerprint: str,
                             ttl_seconds: int = KNOWLEDGE_INDEX_TTL_SECONDS) -> StoredKnowledge | None:
        """The index under `fingerprint`, its TTL renewed; None when none was built (or it aged out)."""
        key = self._key("knowledge", fingerprint)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(key)
            pipe.expire(key, ttl_seconds)
            found, _ = pipe.execute()
        fields = {as_text(name): value for name, value in found.items()}
        if "passages" not in fields:
            return None
        return StoredKnowledge(passages=as_text(fields["passages"]), vectors=bytes(fields.get("vectors", b"")),
                               model=as_text(fields.get("model", b"")),
                               built_at=float(as_text(fields.get("built_at", b"0"))))

    def claim_knowledge_build(self, fingerprint: str, owner: str, ttl_seconds: int) -> bool:
        """Whether `owner` may build the index now (no other process is); the claim lapses after `ttl_seconds`."""
        return bool(self.redis.set(self._key("knowledge-build", fingerprint), owner, nx=True, ex=ttl_seconds))

    def release_knowledge_build(self, fingerprint: str, owner: str) -> None:
        """Give up `owner`'s claim early (the build ended, well or not), so another process need not wait it out.

        GET then DEL, not a script: the claim only saves a second process from paying for the same
        embeddings, so the one race (the claim lapsed and was taken between the two calls) costs at most that.
        """
        key = self._key("knowledge-build", fingerprint)
        held = self.redis.get(key)
        if held is not None and as_text(held) == owner:
            self.redis.delete(key)
