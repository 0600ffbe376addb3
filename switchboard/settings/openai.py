"""OpenAI: the key and host, the models, and the prompt they read (system prompt, history budget)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from switchboard.settings.checks import blank_is_unset, http_url, plain_http_only_on_loopback
from switchboard.tokens import context_window, count_text, known_window

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant answering over WhatsApp and SMS. "
    "Keep answers short and plain; no markdown tables."
)


class OpenAISettings(BaseModel):
    openai_api_key: SecretStr
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    openai_max_output_tokens: int = Field(default=500, gt=0)
    system_prompt: str | None = None
    system_prompt_file: Path | None = None
    openai_transcription_model: str = "gpt-4o-mini-transcribe"  # voice notes (issue 11); whisper-1 works too

    # History budget (issue 11). HISTORY_MAX_CHARS, kept for older configurations, is unset by default;
    # when set it is an extra bound on the stored history, and the tighter of it and the tokens wins.
    history_max_chars: int | None = Field(default=None, ge=100)
    # Estimated tokens (switchboard/tokens.py) of the summary, kept history and new message in a prompt.
    history_max_tokens: int = Field(default=3000, ge=200)
    # true: turns past the budget are folded into a running summary by a background model call; false: dropped.
    history_summary: bool = True
    # The summary's cap in estimated tokens; it sits inside HISTORY_MAX_TOKENS, so at most half of it.
    history_summary_max_tokens: int = Field(default=300, ge=50)

    @field_validator("openai_base_url")
    @classmethod
    def _openai_url_is_safe(cls, value: str | None) -> str | None:
        return plain_http_only_on_loopback(http_url(value))

    @field_validator("system_prompt_file")
    @classmethod
    def _file_must_exist(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    def system_prompt_text(self) -> str:
        if self.system_prompt_file is not None:
            return self.system_prompt_file.read_text(encoding="utf-8").strip()
        return self.system_prompt or DEFAULT_SYSTEM_PROMPT

    # --- history budget (issue 11): it must fit the model's context window ---------------------------------
    @field_validator("history_max_chars", mode="before")
    @classmethod
    def _empty_max_chars_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)  # `.env.example` lists it empty

    @model_validator(mode="after")
    def _history_fits_the_model(self) -> Self:
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
