"""Redis keeps what the pipeline stores: persistence (AOF or RDB) on, and no eviction, read with CONFIG GET."""

from __future__ import annotations

import redis

from switchboard.operations.doctor.results import CheckResult, fail, ok, unknown
from switchboard.store.connection import RedisClient

PERSISTENCE = "redis persistence"
EVICTION = "redis eviction"


def check_redis(client: RedisClient, where: str) -> list[CheckResult]:
    """`where`: the Redis to name in the rows (host:port/db, never the password); a cluster answers for one node."""
    try:
        config = {name: _config(client, name) for name in ("appendonly", "appendfsync", "save", "maxmemory",
                                                           "maxmemory-policy")}
    except redis.ResponseError:
        # ElastiCache and MemoryDB disable CONFIG; their persistence is set in the provider's console.
        return [unknown(PERSISTENCE, f"{where} refuses CONFIG (a managed Redis such as ElastiCache?): cannot see "
                        "whether it persists or evicts",
                        "check in its console: snapshots or AOF on (or MemoryDB), maxmemory-policy noeviction")]
    except redis.RedisError as exc:
        return [fail(PERSISTENCE, f"{where} does not answer: {type(exc).__name__}",
                     "check REDIS_URL, and that Redis runs and this machine may reach it")]
    return [persistence_result(config, where), eviction_result(config, where)]


def persistence_result(config: dict[str, str], where: str) -> CheckResult:
    if config["appendonly"] == "yes":
        return ok(PERSISTENCE, f"{where}: AOF on (appendfsync {config['appendfsync']})")
    if config["save"].strip():
        return ok(PERSISTENCE, f"{where}: RDB snapshots (save {config['save']}); a crash loses the writes "
                               "since the last one")
    return fail(PERSISTENCE, f"{where}: neither AOF nor RDB is on: a restart loses every stored message, "
                             "MessageSid claim and outbox entry",
                "`redis-cli CONFIG SET appendonly yes` then `redis-cli CONFIG REWRITE` (or appendonly yes in "
                "redis.conf)")


def eviction_result(config: dict[str, str], where: str) -> CheckResult:
    policy, limit = config["maxmemory-policy"], int(config["maxmemory"] or 0)
    if limit == 0 or policy == "noeviction":
        # A full Redis without eviction refuses writes: the webhook answers 503 and Twilio tries again.
        return ok(EVICTION, f"{where}: maxmemory {limit or 'unlimited'}, policy {policy}")
    return fail(EVICTION, f"{where}: policy {policy} at maxmemory {limit}: a full Redis drops keys, so claims "
                          "(duplicates answered twice) and stored messages (never answered) can vanish",
                "`redis-cli CONFIG SET maxmemory-policy noeviction` (ElastiCache: in the parameter group)")


def _config(client: RedisClient, name: str) -> str:
    # One name per call: CONFIG GET with several names needs Redis 7.
    value = client.config_get(name).get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)
