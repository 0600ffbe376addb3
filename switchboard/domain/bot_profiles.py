"""Which bot answers a number: each receiving number's prompt, knowledge and tools, from BOTS_FILE or the settings.

One deployment serves several Twilio numbers or WhatsApp senders (issue 14). A number BOTS_FILE lists gets its
entry, with every field it leaves out taken from the settings (SYSTEM_PROMPT(_FILE), KNOWLEDGE_PATH,
KNOWLEDGE_CONTACT, TOOLS_FILE); any other number gets the settings' own profile. docs/bots.md is the
operator's side; switchboard/settings/bot_entries.py reads the file, settings/bots.py checks it at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from switchboard.settings import ConfigError, Settings
from switchboard.settings.bot_entries import BotsFileError, ListedBot, normalise_number, read_bots_file


@dataclass(frozen=True)
class BotProfile:
    """What one receiving number's bot is: its prompt, the folder it answers from, its contact, its tools."""

    number: str  # normalised as Twilio's To arrives; "" for the settings' own profile (any unlisted number)
    system_prompt: str
    knowledge_path: Path | None
    knowledge_contact: str
    tools_file: Path | None
    name: str = ""  # for logs and eval tables

    @property
    def label(self) -> str:
        """How logs and tables name the bot: its name, else its number, else "default"."""
        return self.name or self.number or "default"


class BotProfiles:
    """Every configured bot, looked up by the number a message was sent to."""

    def __init__(self, default: BotProfile, listed: Mapping[str, BotProfile] | None = None) -> None:
        self.default = default
        self._listed = dict(listed or {})

    @classmethod
    def from_settings(cls, settings: Settings) -> BotProfiles:
        default = BotProfile(
            number="",
            system_prompt=settings.system_prompt_text(),
            knowledge_path=settings.knowledge_path,
            knowledge_contact=settings.knowledge_contact,
            tools_file=settings.tools_file,
        )
        if settings.bots_file is None:
            return cls(default)
        try:
            listed = read_bots_file(settings.bots_file)
        except BotsFileError as exc:  # changed since start-up, when the same reader accepted it
            raise ConfigError(f"invalid configuration: {exc}") from None
        return cls(default, {bot.number: _profile(default, bot) for bot in listed})

    def for_number(self, to: str) -> BotProfile:
        """The bot of the receiving number (Twilio's To); the settings' profile for a number the file does not list."""
        return self._listed.get(normalise_number(to), self.default)

    def all(self) -> list[BotProfile]:
        """The listed bots in the file's order, then the default one (it answers every other number)."""
        return [*self._listed.values(), self.default]


def _profile(default: BotProfile, bot: ListedBot) -> BotProfile:
    overrides = bot.overrides
    profile = replace(default, number=bot.number, name=bot.name)
    if "system_prompt" in overrides:
        profile = replace(profile, system_prompt=str(overrides["system_prompt"]))
    if "knowledge_contact" in overrides:
        profile = replace(profile, knowledge_contact=str(overrides["knowledge_contact"] or ""))
    if "knowledge_path" in overrides:
        profile = replace(profile, knowledge_path=_path(overrides["knowledge_path"]))
    if "tools_file" in overrides:
        profile = replace(profile, tools_file=_path(overrides["tools_file"]))
    return profile


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)
