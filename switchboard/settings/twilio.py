"""Twilio: the account, its auth token (which signs every webhook), the API host and the numbers we serve."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, SecretStr, field_validator

from switchboard.settings.checks import blank_is_unset, http_url, plain_http_only_on_loopback

# --- start-up checks against forged webhooks and mistaken settings (issue 9) ---------------------------
# Twilio issues auth tokens as 32 lowercase hex characters; anything else is a typo or a placeholder.
TWILIO_TOKEN_SHAPE = re.compile(r"[0-9a-f]{32}")
_PLACEHOLDER_TOKENS = frozenset({
    "change-me", "changeme", "change_me", "replace-me", "your-auth-token", "your_auth_token", "auth-token",
    "auth_token", "token", "secret", "test", "example", "xxx", "0123456789abcdef0123456789abcdef",
})


def is_placeholder_token(token: str) -> bool:
    lowered = token.strip().lower()
    return lowered in _PLACEHOLDER_TOKENS or len(set(lowered)) <= 1  # "", "0000…", "xxxx…"


class TwilioSettings(BaseModel):
    twilio_account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    twilio_auth_token: SecretStr
    # While rotating the auth token: the token being replaced. Webhooks signed with it are accepted too, so
    # none is refused between Twilio's promotion of the new token and every web process running with it.
    twilio_auth_token_previous: SecretStr | None = None
    # Tests only: accept a TWILIO_AUTH_TOKEN that is not Twilio's shape. Refused on AWS or against real Twilio.
    allow_test_auth_token: bool = False
    # Optional: the SharedKey secret of a Twilio Webhook Setting (X-Twilio-Webhooks-Signature-Settings).
    twilio_webhook_shared_key_secret: SecretStr | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    twilio_timeout_seconds: float = Field(default=10.0, gt=0)
    # Twilio REST requests the reply path may have in flight at once, across every process and host (slots
    # in Redis). Twilio refuses an account's requests past its concurrency limit (429, error 20429; 100 is
    # the usual default, raised on request): half of it leaves room for other users of the account. 0: no limit.
    twilio_max_concurrent_requests: int = Field(default=50, ge=0)
    # The numbers (and WhatsApp senders) this deployment answers, comma-separated; `catchup` answers only these.
    twilio_numbers: str = ""

    @field_validator("twilio_api_base_url")
    @classmethod
    def _api_url_is_safe(cls, value: str | None) -> str | None:
        return plain_http_only_on_loopback(http_url(value))

    @field_validator("twilio_webhook_shared_key_secret", "twilio_auth_token_previous", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("twilio_auth_token_previous")
    @classmethod
    def _previous_token_is_not_a_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and is_placeholder_token(value.get_secret_value()):
            raise ValueError("a placeholder; set the token being rotated out, or leave it unset")
        return value

    def webhook_tokens(self) -> tuple[str, ...]:
        """The auth tokens a webhook's X-Twilio-Signature may be made with: the current one, then the previous."""
        tokens = [self.twilio_auth_token.get_secret_value()]
        if self.twilio_auth_token_previous is not None:
            tokens.append(self.twilio_auth_token_previous.get_secret_value())
        return tuple(tokens)

    @field_validator("twilio_auth_token")
    @classmethod
    def _token_is_not_a_placeholder(cls, value: SecretStr) -> SecretStr:
        # An empty key lets anyone sign webhooks; a placeholder is as good as public.
        if is_placeholder_token(value.get_secret_value()):
            raise ValueError("empty or a placeholder; set the auth token from the Twilio console")
        return value

    # --- served numbers (issue 9, item 8) -------------------------------------------------------------------
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


def _split_numbers(value: str) -> list[str]:
    return [number.strip() for number in value.split(",") if number.strip()]
