"""Tools (issue 14): the operator's HTTP APIs the model may call, and the secret that signs every call."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from switchboard.settings.checks import blank_is_unset
from switchboard.settings.tool_declarations import read_tools_file


class ToolSettings(BaseModel):
    # A YAML file declaring HTTP tools (docs/tools.md); unset: the model is offered no tools.
    tools_file: Path | None = None
    # At most this many rounds of tool calls for one answer; the model must answer after the last.
    tools_max_rounds: int = Field(default=3, ge=1, le=10)
    # Signs the sender's identity on every tool call and hand-off notice (X-Switchboard-Signature), so the
    # operator's API can trust that the number is the one WhatsApp verified.
    operator_signing_secret: SecretStr | None = None

    @field_validator("tools_file", "operator_signing_secret", mode="before")
    @classmethod
    def _tool_blanks_are_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("tools_file")
    @classmethod
    def _tools_file_must_exist(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _tools_file_is_valid(self) -> Self:
        """A bad TOOLS_FILE (or one naming an unset variable) stops the start, not the first question."""
        if self.tools_file is None:
            return self
        declared = read_tools_file(self.tools_file)  # ToolsFileError is a ValueError: pydantic reports it
        if declared and self.operator_signing_secret is None:
            raise ValueError(f"OPERATOR_SIGNING_SECRET: missing (TOOLS_FILE {self.tools_file} declares tools, and "
                             "their calls carry the sender's identity signed with it; e.g. `openssl rand -hex 32`)")
        return self
