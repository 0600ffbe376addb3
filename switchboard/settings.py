"""The one typed source of configuration, read from the environment and validated at start-up."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant answering over WhatsApp and SMS. "
    "Keep answers short and plain; no markdown tables."
)


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a runnable deployment."""


class Settings(BaseSettings):
    """Every environment variable Switchboard reads. `.env.example` documents each one."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # Twilio
    twilio_account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    twilio_auth_token: SecretStr
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    twilio_timeout_seconds: float = Field(default=10.0, gt=0)

    # OpenAI
    openai_api_key: SecretStr
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    openai_max_output_tokens: int = Field(default=500, gt=0)
    system_prompt: str | None = None
    system_prompt_file: Path | None = None

    # Redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_key_prefix: str = "switchboard:"
    redis_timeout_seconds: float = Field(default=2.0, gt=0)

    # SQS
    sqs_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    sqs_queue_prefix: str = Field(default="switchboard-", pattern=r"^[A-Za-z0-9_-]{0,40}$")
    sqs_fifo: bool = True
    sqs_visibility_timeout: int = Field(default=60, ge=6, le=43200)
    sqs_wait_time_seconds: int = Field(default=1, ge=0, le=20)
    sqs_polling_interval: float = Field(default=0.05, ge=0)
    sqs_max_receive_count: int = Field(default=5, ge=1, le=1000)
    publish_timeout_seconds: float = Field(default=3.0, gt=0)

    # Conversation
    history_max_turns: int = Field(default=20, ge=1)
    history_max_chars: int = Field(default=8000, ge=100)
    history_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    order_wait_max_seconds: int = Field(default=300, ge=1)
    rate_limit_messages: int = Field(default=20, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)

    # Web
    public_base_url: str | None = None
    port: int = Field(default=8000, ge=1, le=65535)
    processing_mode: Literal["queue", "direct"] = "queue"

    # Observability
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("twilio_api_base_url", "openai_base_url", "sqs_endpoint_url", "public_base_url")
    @classmethod
    def _must_be_http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("system_prompt_file")
    @classmethod
    def _file_must_exist(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> Settings:
        if bool(self.aws_access_key_id) != bool(self.aws_secret_access_key):
            raise ValueError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
        return self

    @property
    def sqs_is_secure(self) -> bool:
        return self.sqs_endpoint_url is None or self.sqs_endpoint_url.startswith("https:")

    def system_prompt_text(self) -> str:
        if self.system_prompt_file is not None:
            return self.system_prompt_file.read_text(encoding="utf-8").strip()
        return self.system_prompt or DEFAULT_SYSTEM_PROMPT


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning pydantic's report into one readable error."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "SETTINGS"
            reason = "missing" if error["type"] == "missing" else error["msg"]
            problems.append(f"{name}: {reason}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read once on first use."""
    return load_settings()
