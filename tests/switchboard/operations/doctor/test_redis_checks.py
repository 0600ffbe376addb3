"""Redis persists (AOF or RDB) and does not evict: what CONFIG GET answers decides each row."""

from __future__ import annotations

import redis

from localdev.processes import free_port
from switchboard.operations.doctor.redis_checks import check_redis, eviction_result, persistence_result
from switchboard.operations.doctor.results import Status

WHERE = "127.0.0.1:6379/0"
DEFAULTS = {"appendonly": "no", "appendfsync": "everysec", "save": "", "maxmemory": "0",
            "maxmemory-policy": "noeviction"}


def test_aof_or_rdb_snapshots_count_as_persistent_and_neither_fails_with_the_fix() -> None:
    aof = persistence_result({**DEFAULTS, "appendonly": "yes"}, WHERE)
    rdb = persistence_result({**DEFAULTS, "save": "3600 1 300 100"}, WHERE)
    neither = persistence_result(DEFAULTS, WHERE)

    assert (aof.status, rdb.status, neither.status) == (Status.OK, Status.OK, Status.FAIL)
    assert "AOF on" in aof.detail and "save 3600 1 300 100" in rdb.detail
    assert "a restart loses every stored message" in neither.detail
    assert "CONFIG SET appendonly yes" in neither.fix


def test_an_evicting_policy_fails_only_when_a_memory_limit_is_set() -> None:
    unlimited = eviction_result({**DEFAULTS, "maxmemory-policy": "allkeys-lru"}, WHERE)
    refusing = eviction_result({**DEFAULTS, "maxmemory": "1073741824"}, WHERE)
    evicting = eviction_result({**DEFAULTS, "maxmemory": "1073741824", "maxmemory-policy": "volatile-lru"}, WHERE)

    assert (unlimited.status, refusing.status, evicting.status) == (Status.OK, Status.OK, Status.FAIL)
    assert "maxmemory-policy noeviction" in evicting.fix


class RefusesConfig(redis.Redis):
    """Like ElastiCache, which disables CONFIG."""

    def config_get(self, *args: object, **kwargs: object) -> dict[str, str]:  # type: ignore[override]
        raise redis.ResponseError("unknown command 'CONFIG'")


def test_a_redis_that_refuses_config_cannot_tell_rather_than_fails() -> None:
    [result] = check_redis(RefusesConfig(), WHERE)

    assert result.status is Status.UNKNOWN and "refuses CONFIG" in result.detail


def test_a_redis_that_does_not_answer_fails() -> None:
    client = redis.Redis(port=free_port(), socket_connect_timeout=1)

    [result] = check_redis(client, "127.0.0.1:1/0")

    assert result.status is Status.FAIL and "does not answer: ConnectionError" in result.detail
