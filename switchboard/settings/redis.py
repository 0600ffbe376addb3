"""Redis: where conversation state, claims and records live, and where Celery's task events travel."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator

from switchboard.settings.checks import blank_is_unset

# REDIS_URL's scheme picks the client. redis://, rediss:// (TLS), unix://: one server (ElastiCache with
# cluster mode off: its primary endpoint). redis+cluster://, rediss+cluster://: a Redis Cluster
# (ElastiCache with cluster mode on: its configuration endpoint), reached through any one node.
PLAIN_SCHEMES = ("redis", "rediss", "unix")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


class RedisSettings(BaseModel):
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")  # may carry a password: never in a repr
    redis_key_prefix: str = "switchboard:"
    redis_timeout_seconds: float = Field(default=2.0, gt=0)
    # Celery's task events (for Flower) go over kombu's Redis transport, which cannot use a cluster.
    # Unset: REDIS_URL when that is one server; with a cluster, no task events (Flower refuses to start).
    events_redis_url: SecretStr | None = None

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, value: SecretStr) -> SecretStr:
        url = urlsplit(value.get_secret_value())
        if url.scheme not in PLAIN_SCHEMES + CLUSTER_SCHEMES:
            raise ValueError(f"must start with one of {', '.join(s + '://' for s in PLAIN_SCHEMES + CLUSTER_SCHEMES)}")
        if url.scheme in CLUSTER_SCHEMES and url.path.strip("/") not in ("", "0"):
            raise ValueError("a Redis Cluster has database 0 only: drop the /<db> from the URL")
        return value

    @field_validator("events_redis_url", mode="before")
    @classmethod
    def _blank_events_url_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("events_redis_url")
    @classmethod
    def _a_plain_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in PLAIN_SCHEMES:
            raise ValueError("must be one Redis server (redis://, rediss:// or unix://): Celery's events "
                             "cannot travel over a Redis Cluster")
        return value

    @field_validator("redis_key_prefix")
    @classmethod
    def _no_hash_tag_in_prefix(cls, value: str) -> str:
        # The store puts a hash tag ({s12}) after the prefix; a brace in the prefix would become every key's tag.
        if "{" in value or "}" in value:
            raise ValueError("must not contain { or }: Redis Cluster reads braces as the key's hash tag")
        return value

    @property
    def redis_cluster(self) -> bool:
        """REDIS_URL names a Redis Cluster (redis+cluster:// or rediss+cluster://)."""
        return is_cluster_url(self.redis_url.get_secret_value())

    @property
    def event_bus_url(self) -> str | None:
        """Where task events go: EVENTS_REDIS_URL, else REDIS_URL unless that is a cluster (None: no events)."""
        if self.events_redis_url is not None:
            return self.events_redis_url.get_secret_value()
        return None if self.redis_cluster else self.redis_url.get_secret_value()
