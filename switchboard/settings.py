"""The one typed source of configuration, read from the environment and validated at start-up."""

from __future__ import annotations

import functools
import ipaddress
import re
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


# --- start-up checks against forged webhooks and mistaken settings (issue 9) ---------------------------
# Twilio issues auth tokens as 32 lowercase hex characters; anything else is a typo or a placeholder.
_TWILIO_TOKEN_SHAPE = re.compile(r"[0-9a-f]{32}")
_PLACEHOLDER_TOKENS = frozenset({
    "change-me", "changeme", "change_me", "replace-me", "your-auth-token", "your_auth_token", "auth-token",
    "auth_token", "token", "secret", "test", "example", "xxx", "0123456789abcdef0123456789abcdef",
})
# The stage queues' MessageRetentionPeriod (switchboard/clients/sqs_admin.py): a message can wait on SQS this long.
SQS_STAGE_RETENTION_SECONDS = 4 * 24 * 3600
DAY = 24 * 3600


def is_placeholder_token(token: str) -> bool:
    lowered = token.strip().lower()
    return lowered in _PLACEHOLDER_TOKENS or len(set(lowered)) <= 1  # "", "0000…", "xxxx…"


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every environment variable Switchboard reads. `.env.example` documents each one."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # Twilio
    twilio_account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    twilio_auth_token: SecretStr
    # Tests only: accept a TWILIO_AUTH_TOKEN that is not Twilio's shape. Refused on AWS or against real Twilio.
    allow_test_auth_token: bool = False
    # Optional: the SharedKey secret of a Twilio Webhook Setting (X-Twilio-Webhooks-Signature-Settings).
    twilio_webhook_shared_key_secret: SecretStr | None = None
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
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")  # may carry a password: never in a repr
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
    # A message's record; must outlive its stay on SQS plus the longest outbox wait (checked below).
    message_ttl_seconds: int = Field(default=7 * DAY, ge=60)
    # The longest SQS outage this deployment is sized for: how long a message may wait in the outbox.
    outbox_max_wait_seconds: int = Field(default=3 * DAY, ge=0)
    # The MessageSid claim (a small key): a replayed webhook is a duplicate for this long.
    message_claim_ttl_seconds: int = Field(default=90 * DAY, ge=60)
    # Key of the HMAC that turns (our number, user) into a conversation id. Required on AWS.
    conversation_id_secret: SecretStr | None = None
    order_wait_max_seconds: int = Field(default=300, ge=1)
    rate_limit_messages: int = Field(default=20, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    # Messages from one user this close together are answered once, after the last (0: each on its own).
    burst_window_seconds: float = Field(default=2.0, ge=0, le=30)
    burst_max_messages: int = Field(default=10, ge=1, le=50)
    # Whether the model is told the user's WhatsApp ProfileName.
    use_profile_name: bool = True

    # Spend, moderation and privacy (issue 9); a budget or cap of 0 means no limit
    completion_budget_per_minute: int = Field(default=300, ge=0)  # completions, all senders together
    completion_budget_per_day: int = Field(default=20_000, ge=0)
    sender_daily_cap: int = Field(default=200, ge=0)  # completions per sender (conversation) per UTC day
    openai_moderation: bool = False  # ask OpenAI's moderation endpoint before each completion
    openai_moderation_model: str = "omni-moderation-latest"
    # Unset: message text lives as long as its record and the history. Set: at most this long.
    message_body_retention_seconds: int | None = Field(default=None, ge=600)

    # Web
    public_base_url: str | None = None
    # X-Forwarded-* hops to trust (your load balancers). Unset means 0; on AWS set it or PUBLIC_BASE_URL.
    trusted_proxy_hops: int | None = Field(default=None, ge=0, le=5)
    port: int = Field(default=8000, ge=1, le=65535)
    processing_mode: Literal["queue", "direct"] = "queue"

    # Observability
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Where the worker's /metrics and /healthz listen; loopback unless a scraper on another host needs it.
    worker_metrics_address: str = "127.0.0.1"
    # Guards the web's /metrics (Authorization: Bearer …). Unset: /metrics is 404 on AWS, open locally.
    metrics_bearer_token: SecretStr | None = None
    # The numbers (and WhatsApp senders) this deployment answers, comma-separated; `catchup` answers only these.
    twilio_numbers: str = ""

    @field_validator("twilio_api_base_url", "openai_base_url", "sqs_endpoint_url", "public_base_url")
    @classmethod
    def _must_be_http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("trusted_proxy_hops", "conversation_id_secret", "twilio_webhook_shared_key_secret",
                     mode="before")
    @classmethod
    def _blank_security_setting_is_unset(cls, value: object) -> object:
        # `.env.example` lists these empty; an empty line must read as "not set", not as a bad value.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("twilio_api_base_url", "openai_base_url")
    @classmethod
    def _plain_http_only_on_loopback(cls, value: str | None) -> str | None:
        # An API key or auth token sent over plain http to another host is readable on the way.
        if value and value.startswith("http:") and not is_loopback_url(value):
            raise ValueError("plain http is allowed only for a loopback host; use https")
        return value

    @field_validator("twilio_auth_token")
    @classmethod
    def _token_is_not_a_placeholder(cls, value: SecretStr) -> SecretStr:
        # An empty key lets anyone sign webhooks; a placeholder is as good as public.
        if is_placeholder_token(value.get_secret_value()):
            raise ValueError("empty or a placeholder; set the auth token from the Twilio console")
        return value

    @field_validator("conversation_id_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    # --- /metrics token and served numbers (issue 9, items 6 and 8) ---------------------------------------
    @field_validator("metrics_bearer_token")
    @classmethod
    def _token_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None  # an empty token would let an empty Authorization header through
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 24`)")
        return value

    @field_validator("twilio_numbers")
    @classmethod
    def _numbers_are_addresses(cls, value: str) -> str:
        bad = [n for n in _split_numbers(value) if not re.fullmatch(r"(whatsapp:)?\+[1-9]\d{6,14}", n)]
        if bad:
            raise ValueError(f"not E.164 numbers (optionally whatsapp:-prefixed): {', '.join(bad)}")
        return value

    @property
    def served_numbers(self) -> tuple[str, ...]:
        return tuple(_split_numbers(self.twilio_numbers))

    @field_validator("message_body_retention_seconds", mode="before")
    @classmethod
    def _empty_retention_is_unset(cls, value: object) -> object:
        # `.env.example` lists it empty: that means "not set", not a bad number.
        return None if isinstance(value, str) and not value.strip() else value

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

    @model_validator(mode="after")
    def _security_cross_checks(self) -> Settings:
        problems = []
        test_sandbox = not self.on_aws and is_loopback_url(self.twilio_api_base_url)
        if self.allow_test_auth_token and not test_sandbox:
            problems.append("ALLOW_TEST_AUTH_TOKEN: only for tests (SQS_ENDPOINT_URL set and TWILIO_API_BASE_URL "
                            "on loopback)")
        if not self.allow_test_auth_token and not _TWILIO_TOKEN_SHAPE.fullmatch(
                self.twilio_auth_token.get_secret_value()):
            problems.append("TWILIO_AUTH_TOKEN: not an auth token Twilio issues (32 lowercase hex characters)")
        least = SQS_STAGE_RETENTION_SECONDS + self.outbox_max_wait_seconds
        if self.message_ttl_seconds < least:
            problems.append(f"MESSAGE_TTL_SECONDS: must be at least {least} (SQS retention of "
                            f"{SQS_STAGE_RETENTION_SECONDS} s plus OUTBOX_MAX_WAIT_SECONDS)")
        if self.message_claim_ttl_seconds < self.message_ttl_seconds:
            problems.append("MESSAGE_CLAIM_TTL_SECONDS: must be at least MESSAGE_TTL_SECONDS (a claim that expires "
                            "first lets a replay in)")
        if self.on_aws and self.conversation_id_secret is None:
            problems.append("CONVERSATION_ID_SECRET: missing (required on AWS; e.g. `openssl rand -hex 32`)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def on_aws(self) -> bool:
        """Production: SQS is Amazon's (no SQS_ENDPOINT_URL)."""
        return self.sqs_endpoint_url is None

    @property
    def proxy_hops(self) -> int:
        return self.trusted_proxy_hops or 0

    def conversation_key(self) -> bytes:
        """The HMAC key for conversation ids; off AWS without a secret, the auth token stands in."""
        secret = self.conversation_id_secret or self.twilio_auth_token
        return secret.get_secret_value().encode()

    @property
    def sqs_is_secure(self) -> bool:
        return self.sqs_endpoint_url is None or self.sqs_endpoint_url.startswith("https:")

    def system_prompt_text(self) -> str:
        if self.system_prompt_file is not None:
            return self.system_prompt_file.read_text(encoding="utf-8").strip()
        return self.system_prompt or DEFAULT_SYSTEM_PROMPT


def _split_numbers(value: str) -> list[str]:
    return [number.strip() for number in value.split(",") if number.strip()]


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning pydantic's report into one readable error."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            reason = "missing" if error["type"] == "missing" else error["msg"]
            # Checks across fields name their variables themselves.
            problems.append(f"{name}: {reason}" if name else reason.removeprefix("Value error, "))
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def check_web_settings(settings: Settings) -> None:
    """What only the web process needs: on AWS, a signed URL that never comes from the client's headers."""
    if settings.on_aws and settings.public_base_url is None and settings.trusted_proxy_hops is None:
        raise ConfigError("invalid configuration: PUBLIC_BASE_URL or TRUSTED_PROXY_HOPS must be set on AWS "
                          "(the signed URL's host would otherwise come from the request)")


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read once on first use."""
    return load_settings()
