"""Redis: where conversation state, claims and records live."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class RedisSettings(BaseModel):
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")  # may carry a password: never in a repr
    redis_key_prefix: str = "switchboard:"
    redis_timeout_seconds: float = Field(default=2.0, gt=0)
