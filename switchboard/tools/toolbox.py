"""The tools one bot offers the model: the operator's declared HTTP tools and Switchboard's built-in ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.settings import Settings
from switchboard.settings.tool_declarations import TOOL_NAME, ToolDeclaration, ToolsFileError, read_tools_file
from switchboard.tools.arguments import argument_problem, check_parameters
from switchboard.tools.identity import Identity


@dataclass(frozen=True)
class LocalTool:
    """A built-in tool run in the worker itself (e.g. the hand-off); the model may call it like any tool."""

    name: str
    description: str
    parameters: dict[str, Any]  # a JSON schema of an object; arguments outside `properties` are refused
    run: Callable[[Mapping[str, Any], Identity], str]  # the result text the model reads

    def __post_init__(self) -> None:
        if not TOOL_NAME.fullmatch(self.name):
            raise ValueError(f"tool {self.name!r}: a name is 1 to 64 letters, digits, _ or -")
        check_parameters(self.name, self.parameters)


class Toolbox:
    """The model's tools by name; false when there are none (the model is then asked without tools)."""

    def __init__(self, declared: Sequence[ToolDeclaration] = (), local: Sequence[LocalTool] = ()) -> None:
        self.declared = {tool.name: tool for tool in declared}
        self.local = {tool.name: tool for tool in local}
        clash = sorted(set(self.declared) & set(self.local))
        if clash or len(self.declared) != len(declared) or len(self.local) != len(local):
            raise ValueError(f"two tools of one name: {', '.join(clash) or 'among the built-in tools'}")

    @classmethod
    def from_file(cls, path: Path | None, settings: Settings, local: Sequence[LocalTool] = ()) -> Toolbox:
        """The tools of `path` (TOOLS_FILE, or a bot's tools_file) and `local`; ToolsFileError for a bad file."""
        declared = read_tools_file(path) if path is not None else []
        if declared and settings.operator_signing_secret is None:
            raise ToolsFileError(f"TOOLS_FILE {path}: its calls must be signed, and OPERATOR_SIGNING_SECRET is not set")
        return cls(declared, local)

    def __bool__(self) -> bool:
        return bool(self.declared or self.local)

    def names(self) -> list[str]:
        return [*self.declared, *self.local]

    def definitions(self) -> list[dict[str, Any]]:
        """The `tools` parameter of a chat completion, declared tools first, each in the file's order."""
        tools: list[tuple[str, str, dict[str, Any], bool]] = [
            *((t.name, t.description, t.parameters, t.strict) for t in self.declared.values()),
            *((t.name, t.description, {**t.parameters, "additionalProperties": False}, False)
              for t in self.local.values()),
        ]
        return [{"type": "function",
                 "function": {"name": name, "description": description, "parameters": parameters,
                              **({"strict": True} if strict else {})}}
                for name, description, parameters, strict in tools]

    def argument_problem(self, name: str, arguments: Mapping[str, Any]) -> str | None:
        """Why this call cannot be made (no such tool, arguments off the schema), as text for the model; None."""
        tool = self.declared.get(name) or self.local.get(name)
        if tool is None:
            return f"error: there is no tool named {name!r}; the tools are: {', '.join(self.names())}"
        return argument_problem(name, tool.parameters, arguments)
