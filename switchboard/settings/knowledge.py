"""Knowledge (issue 14): the operator's facts the model answers from, whole in the prompt or retrieved."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from switchboard.settings.checks import blank_is_unset


class KnowledgeSettings(BaseModel):
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
