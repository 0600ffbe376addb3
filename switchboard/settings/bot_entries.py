"""The BOTS_FILE format (docs/bots.md): each receiving number's prompt, knowledge and tools, read and checked.

Reading lives here, below both the start-up check (settings/bots.py) and `switchboard.domain.bot_profiles`
(which fills each entry's gaps from the settings), so the file that loads at start-up is the file answered with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from switchboard.settings.checks import entry_problem

# Twilio's To: E.164, or a WhatsApp / Messenger sender in front of one. "whatsapp:+1…" and "+1…" are different
# senders (a WhatsApp sender and an SMS number), so the prefix is part of the key.
NUMBER = re.compile(r"(?:(?:whatsapp|messenger):)?\+[1-9][0-9]{1,14}")
# What operators write inside a number for reading's sake and Twilio never sends.
_NUMBER_PUNCTUATION = re.compile(r"[\s\-().]")


def normalise_number(value: str) -> str:
    """The number as Twilio's To carries it: no spaces, dashes or brackets, a lower-case channel prefix."""
    prefix, colon, rest = value.strip().rpartition(":")
    return prefix.strip().lower() + colon + _NUMBER_PUNCTUATION.sub("", rest)


class BotsFileError(ValueError):
    """BOTS_FILE cannot be read or says something Switchboard cannot do; the message names the entry."""


@dataclass(frozen=True)
class ListedBot:
    """One BOTS_FILE entry: its normalised number, its name, and only the profile fields it lists."""

    number: str
    name: str = ""
    # Keys among system_prompt, knowledge_path, knowledge_contact, tools_file; the prompt read from its file,
    # paths resolved against the YAML file's folder.
    overrides: Mapping[str, str | Path | None] = field(default_factory=dict)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    system_prompt: str | None = None
    system_prompt_file: Path | None = None
    knowledge_path: Path | None = None  # null: this bot has no knowledge, whatever KNOWLEDGE_PATH says
    knowledge_contact: str | None = None
    tools_file: Path | None = None  # null: this bot has no tools, whatever TOOLS_FILE says

    @model_validator(mode="after")
    def _one_prompt(self) -> Self:
        if self.system_prompt is not None and self.system_prompt_file is not None:
            raise ValueError("give system_prompt or system_prompt_file, not both")
        return self


def read_bots_file(path: Path) -> list[ListedBot]:
    """Every entry of the file in its order; BotsFileError naming the file and each bad entry otherwise."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BotsFileError(f"BOTS_FILE {path}: cannot be read as YAML: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"bots"} or not isinstance(document["bots"], dict):
        raise BotsFileError(f"BOTS_FILE {path}: must be a mapping with one key, `bots`, a mapping of numbers")
    listed: list[ListedBot] = []
    problems: list[str] = []
    seen: dict[str, object] = {}  # number -> the key that listed it first
    for key, entry in document["bots"].items():
        try:
            bot = _listed(key, entry or {}, path.parent)
        except ValueError as exc:
            problems.append(f"entry {key!r}: {exc}")
            continue
        if bot.number in seen:
            problems.append(f"entry {key!r}: the same number as entry {seen[bot.number]!r}")
        seen.setdefault(bot.number, key)
        listed.append(bot)
    if problems:
        raise BotsFileError(f"BOTS_FILE {path}: " + "; ".join(problems))
    return listed


def _listed(key: object, entry: object, folder: Path) -> ListedBot:
    if not isinstance(key, str):
        # YAML reads an unquoted +14155238886 as the integer 14155238886: the plus, and so the key, is lost.
        raise ValueError("a number must be a quoted string, e.g. \"+14155238886\" or \"whatsapp:+14155238886\"")
    number = normalise_number(key)
    if not NUMBER.fullmatch(number):
        raise ValueError("not an E.164 number (+ and up to 15 digits), optionally after whatsapp: or messenger:")
    if not isinstance(entry, dict):
        raise ValueError("must be a mapping of name, system_prompt(_file), knowledge_path, knowledge_contact, "
                         "tools_file")
    try:
        parsed = _Entry.model_validate(entry)
    except ValidationError as exc:
        raise ValueError("; ".join(entry_problem(error) for error in exc.errors())) from None
    overrides: dict[str, str | Path | None] = {}
    for name in parsed.model_fields_set - {"name", "system_prompt_file"}:
        overrides[name] = getattr(parsed, name)
    if parsed.system_prompt_file is not None:
        overrides["system_prompt"] = _read_prompt(_within(folder, parsed.system_prompt_file, "system_prompt_file"))
    if overrides.get("system_prompt") is None:
        overrides.pop("system_prompt", None)  # null reads as "the settings' prompt"; a bot always has one
    if parsed.knowledge_path is not None:
        overrides["knowledge_path"] = _within(folder, parsed.knowledge_path, "knowledge_path", folder_wanted=True)
    if parsed.tools_file is not None:
        overrides["tools_file"] = _within(folder, parsed.tools_file, "tools_file")
    if overrides.get("knowledge_contact", "") is None:
        overrides["knowledge_contact"] = ""
    return ListedBot(number, parsed.name, overrides)



def _within(folder: Path, value: Path, key: str, folder_wanted: bool = False) -> Path:
    path = value.expanduser()
    path = path if path.is_absolute() else folder / path
    if folder_wanted and not path.is_dir():
        raise ValueError(f"{key}: no such folder: {path}")
    if not folder_wanted and not path.is_file():
        raise ValueError(f"{key}: no such file: {path}")
    return path


def _read_prompt(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"system_prompt_file: cannot be read: {exc}") from None
