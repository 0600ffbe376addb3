"""The cases file of `switchboard eval`: scripted conversations, each turn's fixture answers and expectations.

docs/evals.md shows the format to operators; these models are its one definition, so a typo in a key is an
error naming its place, not a check that silently never runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_SENDER = "whatsapp:+15550001234"  # the identity the tools get when a case names none


class CasesFileError(ValueError):
    """The cases file cannot be read or does not follow the format; the message names the place."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ToolCallExpectation(_Strict):
    """The model called `name`, with at least these arguments (strings compared ignoring case and edges)."""

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict, alias="with")


class Expectation(_Strict):
    """What one turn's answer must (and must not) do; every part is optional."""

    mentions: tuple[str, ...] = ()
    not_mentions: tuple[str, ...] = ()
    tool_called: tuple[ToolCallExpectation, ...] = ()
    tool_not_called: tuple[str, ...] = ()
    says_it_does_not_know: bool | None = None

    @field_validator("mentions", "not_mentions", "tool_not_called", "tool_called", mode="before")
    @classmethod
    def _one_or_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, (str, dict)) else value


class _WithFixtures(_Strict):
    # Tool name -> what the operator's API would answer: a string as it is, YAML data as its JSON.
    tools: dict[str, str] = Field(default_factory=dict)

    @field_validator("tools", mode="before")
    @classmethod
    def _fixtures_as_text(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {name: answer if isinstance(answer, str) else json.dumps(answer) for name, answer in value.items()}


class Turn(_WithFixtures):
    """One user message, the fixture answers of the tools the model may call for it, and what to check."""

    user: str = Field(min_length=1)
    expect: Expectation = Field(default_factory=Expectation)


class Case(_WithFixtures):
    """One scripted conversation: its turns run in order, each answer joining the history of the next.

    Its `tools` answer in every turn; a turn's own fixture of the same tool wins.
    """

    name: str = Field(min_length=1)
    sender: str = DEFAULT_SENDER
    turns: tuple[Turn, ...]

    @field_validator("turns")
    @classmethod
    def _has_turns(cls, turns: tuple[Turn, ...]) -> tuple[Turn, ...]:
        if not turns:
            raise ValueError("a case needs at least one turn")
        return turns


class CasesFile(_Strict):
    bot: str | None = None  # the receiving number whose profile (BOTS_FILE) answers; --bot wins
    cases: tuple[Case, ...]

    @field_validator("cases")
    @classmethod
    def _names_are_unique(cls, cases: tuple[Case, ...]) -> tuple[Case, ...]:
        if not cases:
            raise ValueError("the file needs at least one case")
        names = [case.name for case in cases]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError("case names must be unique (the table tells cases apart by them): " + ", ".join(twice))
        return cases


def load_cases(path: Path) -> CasesFile:
    """The file's cases, or CasesFileError saying what is wrong and where (`cases.2.turns.0.expect`)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CasesFileError(f"{path}: cannot be read as YAML: {exc}") from None
    try:
        return CasesFile.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "the file"
            reason = "unknown key" if error["type"] == "extra_forbidden" else str(error["msg"])
            reason = reason.removeprefix("Value error, ")
            problems.append(f"{where}: {reason}")
        raise CasesFileError(f"{path}: " + "; ".join(problems)) from None
