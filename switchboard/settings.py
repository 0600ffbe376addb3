"""The one typed source of configuration, read from the environment and validated at start-up."""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import string
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.tokens import context_window, count_text, known_window

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
    # --- WhatsApp delivery (issue 11): typing indicator, the 24-hour window's template, parts in order ---
    # Show "typing…" (which also marks the user's message read) while an answer is written; best effort.
    whatsapp_typing_indicator: bool = True
    # The Content template (HX…) a reply goes out as once the 24-hour window has closed; unset: not sent.
    whatsapp_template_content_sid: str | None = Field(default=None, pattern=r"^HX[0-9a-fA-F]{32}$")
    # The template's ContentVariables as a JSON object; values may use {answer} and {profile_name}.
    whatsapp_template_variables: str = '{"1": "{answer}"}'
    # Longest wait for Twilio to report a part sent before the next part goes anyway (0: no waiting).
    part_order_wait_seconds: float = Field(default=30.0, ge=0, le=600)
    # Twilio's Messaging API host (typing indicator). Unset: Twilio's, or TWILIO_API_BASE_URL's when that is
    # not Twilio's (a local stand-in answers both).
    twilio_messaging_base_url: str | None = None

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
    # History budget (issue 11). HISTORY_MAX_CHARS, kept for older configurations, is unset by default;
    # when set it is an extra bound on the stored history, and the tighter of it and the tokens wins.
    history_max_chars: int | None = Field(default=None, ge=100)
    # Estimated tokens (switchboard/tokens.py) of the summary, kept history and new message in a prompt.
    history_max_tokens: int = Field(default=3000, ge=200)
    # true: turns past the budget are folded into a running summary by a background model call; false: dropped.
    history_summary: bool = True
    # The summary's cap in estimated tokens; it sits inside HISTORY_MAX_TOKENS, so at most half of it.
    history_summary_max_tokens: int = Field(default=300, ge=50)
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

    # Media: voice notes, photos and PDFs, fetched from Twilio and read (issue 11)
    # false: nothing is downloaded; the model is told a voice note or photo could not be read.
    media_enabled: bool = True
    # Where Twilio's media URLs may redirect (host, *.domain, optionally :port); no credentials go there.
    twilio_media_redirect_hosts: str = "*.twiliocdn.com,s3-external-1.amazonaws.com"
    # The largest file downloaded. WhatsApp caps audio at 16 MB; OpenAI transcribes at most 25 MB.
    media_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=25 * 1024 * 1024)
    # Content types the bot reads (comma-separated); anything else gets the "what I can take" answer.
    media_content_types: str = ("audio/ogg,audio/mpeg,audio/mp4,audio/wav,audio/webm,"
                                "image/jpeg,image/png,image/webp,application/pdf")
    # Connect and read timeout of each media request; a whole download gets at most three times this.
    media_timeout_seconds: float = Field(default=10.0, gt=0)
    openai_transcription_model: str = "gpt-4o-mini-transcribe"  # whisper-1 works too
    # true: an answer to a voice note starts with 'I heard: "…"', so a mis-hearing shows.
    voice_echo_transcript: bool = False

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

    # --- media hosts and types (issue 11) ------------------------------------------------------------------
    @field_validator("twilio_media_redirect_hosts")
    @classmethod
    def _hosts_are_hosts(cls, value: str) -> str:
        bad = [h for h in _split_lower(value) if not re.fullmatch(r"(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?", h)]
        if bad:
            raise ValueError(f"not a host, *.domain or host:port: {', '.join(bad)}")
        return value

    @field_validator("media_content_types")
    @classmethod
    def _types_are_content_types(cls, value: str) -> str:
        bad = [t for t in _split_lower(value) if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*/([a-z0-9][a-z0-9.+-]*|\*)", t)]
        if bad:
            raise ValueError(f"not content types (type/subtype or type/*): {', '.join(bad)}")
        return value

    @property
    def media_redirect_hosts(self) -> tuple[str, ...]:
        return tuple(_split_lower(self.twilio_media_redirect_hosts))

    @property
    def media_types(self) -> frozenset[str]:
        """MEDIA_CONTENT_TYPES as a set, for switchboard.domain.media.can_read."""
        return frozenset(_split_lower(self.media_content_types))

    def readable_media(self) -> frozenset[str]:
        """What intake treats as media the bot can take: none while MEDIA_ENABLED is off (the polite answer)."""
        return self.media_types if self.media_enabled else frozenset()

    # --- history budget (issue 11): it must fit the model's context window ---------------------------------
    @field_validator("history_max_chars", mode="before")
    @classmethod
    def _empty_max_chars_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value  # `.env.example` lists it empty

    @model_validator(mode="after")
    def _history_fits_the_model(self) -> Settings:
        problems = []
        window = context_window(self.openai_model)
        prompt = count_text(self.system_prompt_text())
        if prompt + self.history_max_tokens + self.openai_max_output_tokens > window:
            problems.append(
                f"HISTORY_MAX_TOKENS: {self.history_max_tokens} plus OPENAI_MAX_OUTPUT_TOKENS "
                f"{self.openai_max_output_tokens} and the system prompt (about {prompt}) do not fit the context "
                f"window of OPENAI_MODEL {self.openai_model} ({window} tokens"
                + ("" if known_window(self.openai_model) else ", assumed for a model switchboard/tokens.py does not know")
                + ")")
        if self.history_summary_max_tokens > self.history_max_tokens // 2:
            problems.append(f"HISTORY_SUMMARY_MAX_TOKENS: at most half of HISTORY_MAX_TOKENS "
                            f"({self.history_max_tokens // 2}), so recent turns keep room beside the summary")
        if problems:
            raise ValueError("; ".join(problems))
        return self

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

    # --- WhatsApp delivery (issue 11) ----------------------------------------------------------------------
    @field_validator("whatsapp_template_content_sid", "twilio_messaging_base_url", mode="before")
    @classmethod
    def _blank_delivery_setting_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("twilio_messaging_base_url")
    @classmethod
    def _messaging_url_is_safe(cls, value: str | None) -> str | None:
        # The typing indicator carries our credentials, as every API call does (see twilio_api_base_url).
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("must be an http(s) URL")
            if parts.scheme == "http" and not is_loopback_url(value):
                raise ValueError("plain http is allowed only for a loopback host; use https")
        return value.rstrip("/") if value else None

    @field_validator("whatsapp_template_variables")
    @classmethod
    def _template_variables_are_twilios(cls, value: str) -> str:
        template_variables_from_json(value)  # raises ValueError naming what is wrong
        return value

    @property
    def template_variables(self) -> dict[str, str]:
        return template_variables_from_json(self.whatsapp_template_variables)

    @property
    def messaging_base_url(self) -> str:
        """Where the SDK's Messaging domain (messaging.twilio.com) calls go."""
        if self.twilio_messaging_base_url:
            return self.twilio_messaging_base_url
        if self.twilio_api_base_url.rstrip("/") == TWILIO_API:
            return TWILIO_MESSAGING_API
        return self.twilio_api_base_url

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


# --- WhatsApp delivery (issue 11): Twilio's hosts, and its rules for ContentVariables ----------------------
TWILIO_API = "https://api.twilio.com"
TWILIO_MESSAGING_API = "https://messaging.twilio.com"
TEMPLATE_PLACEHOLDERS = frozenset({"answer", "profile_name"})


def template_variables_from_json(raw: str) -> dict[str, str]:
    """WHATSAPP_TEMPLATE_VARIABLES parsed and checked: Twilio takes at most 100 variables, keys of at most
    16 characters without spaces, non-empty values; ours may use only the {answer} and {profile_name} fields."""
    try:
        variables = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(variables, dict) or not variables or len(variables) > 100:
        raise ValueError('must be a JSON object of 1 to 100 variables, e.g. {"1": "{answer}"}')
    for key, value in variables.items():
        if not 0 < len(key) <= 16 or " " in key:
            raise ValueError(f"variable name {key!r}: 1 to 16 characters, no spaces")
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"variable {key!r}: the value must be a non-empty string")
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"variable {key!r}: {exc} (write a literal brace twice)") from None
        if fields - TEMPLATE_PLACEHOLDERS:
            raise ValueError(f"variable {key!r}: only {{answer}} and {{profile_name}} can be filled in")
    return variables


def _split_numbers(value: str) -> list[str]:
    return [number.strip() for number in value.split(",") if number.strip()]


def _split_lower(value: str) -> list[str]:
    # Media hosts and content types (issue 11): compared lowercased, as DNS names and MIME types are.
    return [item.strip().lower() for item in value.split(",") if item.strip()]


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
