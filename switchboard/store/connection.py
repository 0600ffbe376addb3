"""The Redis client for a URL: one server, or a Redis Cluster when the scheme says so (settings/redis.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

import redis
from redis.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import CrossSlotTransactionError, InvalidPipelineStack, RedisClusterException

from switchboard.settings.redis import is_cluster_url

# Every store method works on either: the keys are hash-tagged so that each script and transaction
# stays in one slot (see the package docstring), and cross-shard reads are plain pipelines.
RedisClient: TypeAlias = "redis.Redis | RedisCluster"


class ClusterUnavailable(redis.ConnectionError):
    """Too little of the cluster answers to map or reach a slot.

    redis-py raises RedisClusterException then, which is no RedisError; every caller of the store
    treats a RedisError as Redis being away (503 to Twilio, a task retried, the relay trying later).
    """


def connect(url: str, timeout_seconds: float = 2.0) -> RedisClient:
    """A client for `url`, created here only (the web, the worker, the CLI and the tests' own clients).

    redis+cluster://host:port (rediss+cluster:// with TLS) reaches a Redis Cluster through that node,
    which tells the client where every slot lives; redis-py follows MOVED and ASK redirections itself.
    Unlike the plain client, the cluster client asks for the slot map when it is made, so a process
    that starts while no node answers fails with ClusterUnavailable.
    """
    if not is_cluster_url(url):
        return redis.Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds,
                                    health_check_interval=30)
    scheme, rest = url.split("://", 1)
    with _unavailable_as_connection_error():
        # dynamic_startup_nodes off: a configuration endpoint (a DNS name, ElastiCache's) stays the node
        # asked for the slot map after a failover, instead of the addresses the old map listed.
        return Cluster.from_url(f"{scheme.removesuffix('+cluster')}://{rest}", dynamic_startup_nodes=False,
                                socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds)


class Cluster(RedisCluster):
    """redis-py's cluster client, failing with ClusterUnavailable (a RedisError) where it gives up on the cluster."""

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        with _unavailable_as_connection_error():
            return super().execute_command(*args, **kwargs)  # type: ignore[no-untyped-call]  # redis-py: unannotated

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> ClusterPipeline:
        pipe: ClusterPipeline = super().pipeline(transaction, shard_hint)  # type: ignore[no-untyped-call]
        # The same object with execute() wrapped: built by redis-py, so its constructor's arguments stay redis-py's.
        pipe.__class__ = _ClusterPipeline
        return pipe


class _ClusterPipeline(ClusterPipeline):
    def execute(self, raise_on_error: bool = True) -> list[Any]:
        with _unavailable_as_connection_error():
            return super().execute(raise_on_error)


@contextmanager
def _unavailable_as_connection_error() -> Iterator[None]:
    try:
        yield
    except (CrossSlotTransactionError, InvalidPipelineStack):
        raise  # a bug in how keys are spelled (tests/switchboard/test_store_slots.py), not an outage
    except RedisClusterException as exc:
        raise ClusterUnavailable(str(exc)) from exc
