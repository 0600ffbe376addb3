"""The conversation: history kept, record lifetimes, ordering, rate limits, bursts, spend and privacy."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from switchboard.settings.checks import blank_is_unset

DAY = 24 * 3600


class ConversationSettings(BaseModel):
    history_max_turns: int = Field(default=20, ge=1)
    history_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # A message's record; must outlive its stay on SQS plus the longest outbox wait (security.py checks it).
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

    @field_validator("conversation_id_secret", mode="before")
    @classmethod
    def _blank_conversation_secret_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("conversation_id_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("message_body_retention_seconds", mode="before")
    @classmethod
    def _empty_retention_is_unset(cls, value: object) -> object:
        # `.env.example` lists it empty: that means "not set", not a bad number.
        return blank_is_unset(value)
