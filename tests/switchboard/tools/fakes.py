"""Fakes for the loop: a model that plays scripted turns and records each request, an executor that records calls."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from switchboard.errors import TransientError
from switchboard.tools import AssistantTurn, Identity, ToolCall


def calls(*named: tuple[str, dict[str, Any]] | tuple[str, str]) -> AssistantTurn:
    """A turn asking for these (name, arguments) calls; arguments as an object, or a string sent as it is."""
    return AssistantTurn(None, tuple(ToolCall(f"call_{i}", name, args if isinstance(args, str) else json.dumps(args))
                                     for i, (name, args) in enumerate(named)))


@dataclass
class ScriptedModel:
    """Plays `turns` in order; a request past the script fails the test loudly."""

    turns: list[AssistantTurn]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def complete_turn(self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]],
                      tool_choice: str | None = None) -> AssistantTurn:
        self.requests.append({"messages": copy.deepcopy(list(messages)), "tools": list(tools),
                              "tool_choice": tool_choice})
        if not self.turns:
            raise AssertionError("the model was asked more often than scripted")
        return self.turns.pop(0)


@dataclass
class RecordingExecutor:
    """Answers each call with `answers[name]`; `fail_next` names tools whose next call is a TransientError."""

    answers: dict[str, str]
    fail_next: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any], Identity]] = field(default_factory=list)

    def execute(self, name: str, arguments: Mapping[str, Any], identity: Identity) -> str:
        self.calls.append((name, dict(arguments), identity))
        if name in self.fail_next:
            self.fail_next.remove(name)
            raise TransientError(f"tool {name} unreachable: ReadTimeout")
        return self.answers[name]
