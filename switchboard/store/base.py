"""What every concern of the store shares: the Redis client, the limits, and how keys are spelled."""

from __future__ import annotations

from typing import Any

import redis

from switchboard.store.limits import HistoryLimits, SpendLimits


class StoreBase:
    """The state each concern's mixin works on; the package's ConversationStore composes the mixins.

    A mixin that runs Lua scripts registers them in `_register_scripts`, calling super() first, so
    the composed store registers every concern's scripts once, when it is made.
    """

    def __init__(self, client: redis.Redis, prefix: str, limits: HistoryLimits,
                 spend: SpendLimits | None = None, text_retention_seconds: int | None = None) -> None:
        self.redis = client
        self.prefix = prefix
        self.limits = limits
        self.spend = spend or SpendLimits()
        self.text_retention_seconds = text_retention_seconds  # MESSAGE_BODY_RETENTION_SECONDS
        self._register_scripts()

    def _register_scripts(self) -> None:
        """Register this concern's Lua scripts with the client; each mixin extends it."""

    def ping(self) -> bool:
        return bool(self.redis.ping())

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _conv(self, conversation: str, what: str) -> str:
        return self._key("conv", conversation, what)


def as_texts(reply: Any) -> list[str]:
    """A list or set reply of redis-py (typed loosely by redis-py) as text."""
    return [as_text(item) for item in reply]


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
