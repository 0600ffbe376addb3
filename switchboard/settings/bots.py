"""Several numbers, several bots (issue 14): a file of per-number prompts, knowledge and tools."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, field_validator

from switchboard.settings.checks import blank_is_unset


class BotsSettings(BaseModel):
    # A YAML file keyed by the receiving number (Twilio's To); unset: every number gets the settings above.
    bots_file: Path | None = None

    @field_validator("bots_file", mode="before")
    @classmethod
    def _bots_blank_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("bots_file")
    @classmethod
    def _bots_file_must_exist(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value
