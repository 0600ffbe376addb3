"""Knowledge (issue 14): the operator's facts the model answers from, whole in the prompt or retrieved."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from switchboard.settings.checks import blank_is_unset
from switchboard.settings.openai import OpenAISettings
from switchboard.tokens import context_window, count_text, known_window

# What the instruction around the facts costs beyond KNOWLEDGE_PROMPT_MAX_TOKENS (the words telling the model
# to answer from them, the contact line, the block's markers), with room for a long contact;
# tests/switchboard/knowledge/test_settings.py holds the real instruction to it.
KNOWLEDGE_INSTRUCTION_TOKENS = 250


class KnowledgeSettings(OpenAISettings):
    # A folder of the operator's files (.md, .txt, .pdf); unset: the bot has no knowledge beyond its prompt.
    knowledge_path: Path | None = None
    # While the whole folder's text fits this many estimated tokens it all goes into the system prompt
    # (in a stable order, so OpenAI's prompt caching keeps it cheap); beyond it, passages are retrieved.
    knowledge_prompt_max_tokens: int = Field(default=6000, ge=0)
    # How many retrieved passages go with each question.
    knowledge_passages: int = Field(default=4, ge=1, le=20)
    # An OpenAI embeddings model (e.g. text-embedding-3-small) for retrieval; unset: BM25, which needs no key.
    knowledge_embedding_model: str | None = None
    # Who to contact when the facts do not cover a question (a phone number, an address, a URL).
    knowledge_contact: str = ""

    @field_validator("knowledge_path", "knowledge_embedding_model", mode="before")
    @classmethod
    def _knowledge_blanks_are_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @field_validator("knowledge_path")
    @classmethod
    def _knowledge_folder_must_exist(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"no such folder: {value}")
        return value

    @model_validator(mode="after")
    def _knowledge_fits_the_model(self) -> Self:
        """With a folder, its facts (at most the budget, whole or retrieved) must fit the window beside the rest."""
        if self.knowledge_path is None:
            return self
        window = context_window(self.openai_model)
        prompt = count_text(self.system_prompt_text())
        knowledge = self.knowledge_prompt_max_tokens + KNOWLEDGE_INSTRUCTION_TOKENS
        if prompt + knowledge + self.history_max_tokens + self.openai_max_output_tokens > window:
            raise ValueError(
                f"KNOWLEDGE_PROMPT_MAX_TOKENS: {self.knowledge_prompt_max_tokens} (and about "
                f"{KNOWLEDGE_INSTRUCTION_TOKENS} for the instruction around the facts) plus HISTORY_MAX_TOKENS "
                f"{self.history_max_tokens}, OPENAI_MAX_OUTPUT_TOKENS {self.openai_max_output_tokens} and the system "
                f"prompt (about {prompt}) do not fit the context window of OPENAI_MODEL {self.openai_model} "
                f"({window} tokens"
                + ("" if known_window(self.openai_model) else ", assumed for a model switchboard/tokens.py does not know")
                + "): lower KNOWLEDGE_PROMPT_MAX_TOKENS (more questions then get retrieved passages)")
        return self
