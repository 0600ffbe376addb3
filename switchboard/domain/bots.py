"""Each receiving number's bot put together for the complete step: its profile, its facts, its tools.

Built once per process (switchboard/services.py). The YAML of a tools file is parsed and its schemas
checked once per file, not per message; the knowledge library looks at its folders at most every few
seconds and rebuilds an index only when a file changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.domain.bot_profiles import BotProfile, BotProfiles
from switchboard.errors import PermanentError
from switchboard.knowledge import Knowledge, KnowledgeLibrary
from switchboard.tools import Identity, LocalTool, Toolbox, ToolExecutor


@dataclass(frozen=True)
class Bot:
    """What answers one message: the number's profile, its facts, and its tools with their executor."""

    profile: BotProfile
    knowledge: Knowledge
    toolbox: Toolbox
    executor: ToolExecutor


class Bots:
    """`for_number(to)`: the bot of the number a message was sent to (BOTS_FILE, else the settings')."""

    def __init__(self, profiles: BotProfiles, library: KnowledgeLibrary | None,
                 tools_for: Callable[[Path | None, Sequence[LocalTool]], tuple[Toolbox, ToolExecutor]],
                 local_tools: Sequence[LocalTool] = ()) -> None:
        self.profiles = profiles
        self._library = library
        self._tools_for = tools_for
        self._local_tools = tuple(local_tools)
        self._lock = threading.Lock()
        self._tools: dict[Path | None, tuple[Toolbox, ToolExecutor]] = {}

    def for_number(self, to: str) -> Bot:
        profile = self.profiles.for_number(to)
        knowledge = (Knowledge.empty() if self._library is None
                     else self._library.for_folder(profile.knowledge_path, profile.knowledge_contact))
        toolbox, executor = self._toolbox(profile.tools_file)
        return Bot(profile, knowledge, toolbox, executor)

    def _toolbox(self, path: Path | None) -> tuple[Toolbox, ToolExecutor]:
        with self._lock:
            if path not in self._tools:
                self._tools[path] = self._tools_for(path, self._local_tools)
            return self._tools[path]


class _NoTools:
    """The executor of a bot with no tools: the model is offered none, so nothing may be called."""

    def execute(self, name: str, arguments: Mapping[str, Any], identity: Identity) -> str:
        raise PermanentError(f"the model called {name!r}, but this bot has no tools")


def plain_bot(system_prompt: str) -> Bot:
    """A bot that is only its system prompt: no knowledge, no tools (callers that pass no Bots)."""
    return Bot(BotProfile(number="", system_prompt=system_prompt, knowledge_path=None, knowledge_contact="",
                          tools_file=None), Knowledge.empty(), Toolbox(), _NoTools())
