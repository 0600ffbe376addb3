"""delete_keys_with_prefix: removes a run's keys and nothing else."""

from __future__ import annotations

import uuid

import pytest

from localdev.redis_keys import delete_keys_with_prefix
from localdev.redis_server import redis_url_for_tests
from switchboard.store.connection import connect

pytestmark = pytest.mark.integration
REDIS_URL = redis_url_for_tests()


def test_it_deletes_only_keys_with_the_prefix() -> None:
    ours, theirs = f"sbtest-{uuid.uuid4().hex[:8]}:", f"sbtest-{uuid.uuid4().hex[:8]}:"
    client = connect(REDIS_URL)
    try:
        client.set(ours + "a", 1)
        client.hset(ours + "msg:SM1", "body", "hi")
        client.set(theirs + "a", 1)

        assert delete_keys_with_prefix(REDIS_URL, ours) == 2
        assert client.exists(ours + "a", ours + "msg:SM1") == 0
        assert client.exists(theirs + "a") == 1
    finally:
        client.delete(theirs + "a")
        client.close()


def test_it_deletes_keys_in_every_slot_and_shard() -> None:
    # Against a cluster (SWITCHBOARD_TEST_REDIS_CLUSTER=1) these keys sit on every master.
    ours = f"sbtest-{uuid.uuid4().hex[:8]}:"
    keys = [f"{ours}{{s{shard}}}:conv:c{shard}:seq" for shard in range(64)] + [f"{ours}where:SM{n}" for n in range(64)]
    client = connect(REDIS_URL)
    try:
        for key in keys:
            client.set(key, 1)

        assert delete_keys_with_prefix(REDIS_URL, ours) == len(keys)
        assert client.exists(*keys) == 0
    finally:
        client.close()


def test_it_treats_glob_characters_in_the_prefix_literally() -> None:
    prefix = f"sbtest-{uuid.uuid4().hex[:8]}"
    client = connect(REDIS_URL)
    try:
        client.set(prefix + "-x:a", 1)

        assert delete_keys_with_prefix(REDIS_URL, prefix + "*:") == 0
        assert client.exists(prefix + "-x:a") == 1
    finally:
        client.delete(prefix + "-x:a")
        client.close()


def test_it_refuses_an_empty_prefix() -> None:
    with pytest.raises(ValueError, match="every key"):
        delete_keys_with_prefix(REDIS_URL, "")
