"""Observability: logs, and where the web's and the worker's /metrics are served and who may read them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator


class ObservabilitySettings(BaseModel):
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Where the worker's /metrics and /healthz listen; loopback unless a scraper on another host needs it.
    worker_metrics_address: str = "127.0.0.1"
    # Guards the web's /metrics (Authorization: Bearer …). Unset: /metrics is 404 on AWS, open locally.
    metrics_bearer_token: SecretStr | None = None

    # --- /metrics token (issue 9, item 6) -------------------------------------------------------------------
    @field_validator("metrics_bearer_token")
    @classmethod
    def _token_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None  # an empty token would let an empty Authorization header through
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 24`)")
        return value
