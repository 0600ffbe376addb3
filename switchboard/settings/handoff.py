"""Hand-off to a person (issue 14): how the operator is told, and how long a pause lasts."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from switchboard.settings.checks import blank_is_unset, http_url


class HandoffSettings(BaseModel):
    # POSTed (JSON, signed with OPERATOR_SIGNING_SECRET) when a conversation asks for a person; unset:
    # only `switchboard inbox` shows it.
    handoff_webhook_url: str | None = None
    # A paused conversation goes back to the bot by itself after this long without `switchboard resume`.
    handoff_pause_seconds: int = Field(default=4 * 3600, ge=60)

    @field_validator("handoff_webhook_url", mode="before")
    @classmethod
    def _handoff_blank_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("handoff_webhook_url")
    @classmethod
    def _handoff_url_is_url(cls, value: str | None) -> str | None:
        return http_url(value)
