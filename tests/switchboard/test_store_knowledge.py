"""The store's knowledge indexes: saved and loaded whole under a fingerprint, TTL renewed, one builder at a time."""

from __future__ import annotations

import redis

from switchboard.store import ConversationStore, StoredKnowledge
from switchboard.store.knowledge import KNOWLEDGE_INDEX_TTL_SECONDS


def test_an_index_round_trips_with_its_vectors_bytes_intact(store: ConversationStore) -> None:
    vectors = bytes(range(256)) * 4  # every byte value: nothing may be decoded as text on the way
    store.save_knowledge_index("fp1", StoredKnowledge('[{"title": "t", "text": "é"}]', vectors, "m", 12.5))

    loaded = store.load_knowledge_index("fp1")

    assert loaded == StoredKnowledge('[{"title": "t", "text": "é"}]', vectors, "m", 12.5)
    assert store.load_knowledge_index("fp-never-built") is None


def test_saving_again_replaces_the_whole_index_so_no_old_vectors_stay(store: ConversationStore) -> None:
    store.save_knowledge_index("fp2", StoredKnowledge("[1]", b"\x00" * 8, "m"))
    store.save_knowledge_index("fp2", StoredKnowledge("[2]"))

    assert store.load_knowledge_index("fp2") == StoredKnowledge("[2]", b"", "", 0.0)


def test_an_index_ages_out_unless_loaded_and_a_load_renews_it(
        store: ConversationStore, redis_client: redis.Redis, key_prefix: str) -> None:
    store.save_knowledge_index("fp3", StoredKnowledge("[]"), ttl_seconds=100)
    key = f"{key_prefix}knowledge:fp3"
    assert 0 < redis_client.ttl(key) <= 100

    store.load_knowledge_index("fp3")

    assert redis_client.ttl(key) > KNOWLEDGE_INDEX_TTL_SECONDS - 60


def test_one_owner_at_a_time_may_build_and_only_the_owner_releases_early(store: ConversationStore) -> None:
    assert store.claim_knowledge_build("fp4", "worker-a", ttl_seconds=60)
    assert not store.claim_knowledge_build("fp4", "worker-b", ttl_seconds=60)

    store.release_knowledge_build("fp4", "worker-b")  # not its claim: nothing happens
    assert not store.claim_knowledge_build("fp4", "worker-b", ttl_seconds=60)
    store.release_knowledge_build("fp4", "worker-a")

    assert store.claim_knowledge_build("fp4", "worker-b", ttl_seconds=60)
