"""The Redis settings (issue 13): REDIS_URL's scheme picks one server or a cluster; where task events go."""

from __future__ import annotations

import pytest
import redis
from redis.cluster import RedisCluster

from localdev.redis_server import redis_url_for_tests
from switchboard.settings import load_settings
from switchboard.settings.redis import is_cluster_url
from switchboard.store.connection import connect
from tests.switchboard.test_settings import CONVERSATION_SECRET, REQUIRED, config_error


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in {**REQUIRED, "CONVERSATION_ID_SECRET": CONVERSATION_SECRET}.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


def test_one_server_carries_the_task_events_too(env: pytest.MonkeyPatch) -> None:
    settings = load_settings(redis_url="rediss://:pw@redis.internal:6379/0")

    assert (settings.redis_cluster, settings.event_bus_url) == (False, "rediss://:pw@redis.internal:6379/0")


def test_a_cluster_url_selects_cluster_mode_and_no_events_without_their_own_redis(env: pytest.MonkeyPatch) -> None:
    cluster = load_settings(redis_url="rediss+cluster://:pw@clustercfg.sb.cache.amazonaws.com:6379")
    with_events = load_settings(redis_url="redis+cluster://10.0.0.5:6379/0", events_redis_url="redis://10.0.0.9:6379/1")

    assert (cluster.redis_cluster, cluster.event_bus_url) == (True, None)
    assert (with_events.redis_cluster, with_events.event_bus_url) == (True, "redis://10.0.0.9:6379/1")
    assert load_settings(events_redis_url="").events_redis_url is None  # as .env.example lists it


@pytest.mark.parametrize(("overrides", "named"), [
    ({"redis_url": "http://redis.internal:6379"}, "REDIS_URL"),
    ({"redis_url": "redis+cluster://redis.internal:6379/2"}, "database 0 only"),
    ({"events_redis_url": "redis+cluster://redis.internal:6379"}, "EVENTS_REDIS_URL"),
    ({"redis_key_prefix": "app{1}:"}, "hash tag"),
])
def test_urls_and_prefixes_a_cluster_cannot_use_stop_the_start(
    env: pytest.MonkeyPatch, overrides: dict[str, str], named: str
) -> None:
    assert named in config_error(**overrides)


def test_the_url_picks_the_client_and_a_cluster_nobody_answers_for_is_a_redis_error() -> None:
    assert isinstance(connect("redis://127.0.0.1:1/0"), redis.Redis)  # connects lazily, on first use

    # The cluster client maps the slots when it is made; redis-py's own exception is no RedisError,
    # and every caller of the store treats a RedisError as Redis being away (503, retry, try later).
    with pytest.raises(redis.ConnectionError, match="cannot be connected"):
        connect("redis+cluster://127.0.0.1:1", timeout_seconds=0.2)


def test_against_a_cluster_the_client_is_the_cluster_client(redis_client: object) -> None:
    if not is_cluster_url(redis_url_for_tests()):
        pytest.skip("runs with SWITCHBOARD_TEST_REDIS_CLUSTER=1")
    assert isinstance(redis_client, RedisCluster) and len(redis_client.get_primaries()) == 3
