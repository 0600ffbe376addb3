"""Several numbers, several bots (issue 14): BOTS_FILE, checked at start-up against the settings each bot falls back to.

BOTS_FILE is YAML keyed by the receiving number (docs/bots.md), read by settings/bot_entries.py; the domain's
`switchboard.domain.bot_profiles` turns each entry, with the settings above as its defaults, into a profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import field_validator, model_validator

from switchboard.settings.bot_entries import read_bots_file
from switchboard.settings.checks import blank_is_unset
from switchboard.settings.knowledge import KNOWLEDGE_INSTRUCTION_TOKENS, KnowledgeSettings
from switchboard.settings.tool_declarations import ToolsFileError, read_tools_file
from switchboard.settings.tools import ToolSettings
from switchboard.tokens import context_window, count_text, known_window


class BotsSettings(ToolSettings, KnowledgeSettings):
    """BOTS_FILE; its check reads the prompt, knowledge and model settings that each bot falls back to."""

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

    @model_validator(mode="after")
    def _bots_file_is_sound(self) -> Self:
        if self.bots_file is None:
            return self
        problems = []
        for bot in read_bots_file(self.bots_file):  # BotsFileError is a ValueError: pydantic reports it
            prompt = bot.overrides.get("system_prompt", self.system_prompt_text())
            knowledge = bot.overrides.get("knowledge_path", self.knowledge_path)
            problem = self.bots_prompt_overflow(str(prompt), knowledge is not None)
            tools = bot.overrides.get("tools_file")
            problem = "; ".join(part for part in (problem, self.bots_tools_problem(Path(tools)) if tools else "")
                                if part)
            if problem:
                problems.append(f"entry {bot.number!r}: {problem}")
        if problems:
            raise ValueError(f"BOTS_FILE {self.bots_file}: " + "; ".join(problems))
        return self

    def bots_tools_problem(self, path: Path) -> str:
        """What the tools check (settings/tools.py) says of a bot's own tools_file; "" when it is sound."""
        try:
            declared = read_tools_file(path)
        except ToolsFileError as exc:
            return str(exc)
        if declared and self.operator_signing_secret is None:
            return (f"OPERATOR_SIGNING_SECRET: missing (tools_file {path} declares tools, and their calls carry the "
                    "sender's identity signed with it)")
        return ""

    def bots_prompt_overflow(self, system_prompt: str, has_knowledge: bool) -> str:
        """Why a bot with this prompt (and knowledge) overflows OPENAI_MODEL's window, as the global checks say; ""."""
        window = context_window(self.openai_model)
        prompt = count_text(system_prompt)
        knowledge = self.knowledge_prompt_max_tokens + KNOWLEDGE_INSTRUCTION_TOKENS if has_knowledge else 0
        if prompt + knowledge + self.history_max_tokens + self.openai_max_output_tokens <= window:
            return ""
        return (f"its system prompt (about {prompt} tokens)"
                + (f", KNOWLEDGE_PROMPT_MAX_TOKENS {self.knowledge_prompt_max_tokens} (and about "
                   f"{KNOWLEDGE_INSTRUCTION_TOKENS} for the instruction around the facts)" if has_knowledge else "")
                + f", HISTORY_MAX_TOKENS {self.history_max_tokens} and OPENAI_MAX_OUTPUT_TOKENS "
                f"{self.openai_max_output_tokens} do not fit the context window of OPENAI_MODEL {self.openai_model} "
                f"({window} tokens"
                + ("" if known_window(self.openai_model) else ", assumed for a model switchboard/tokens.py does not know")
                + ")")
