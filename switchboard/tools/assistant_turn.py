"""One assistant turn of function calling: its text and the tool calls it asks for, as OpenAI words them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    id: str  # OpenAI's call id (call_...): the tool message answering it names it
    name: str
    arguments: str  # a JSON object as the model wrote it: not parsed here, it may be bad JSON


@dataclass(frozen=True)
class AssistantTurn:
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()

    def as_message(self) -> dict[str, Any]:
        """The assistant message to send back with the tool results, in the chat format."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [{"id": call.id, "type": "function",
                                      "function": {"name": call.name, "arguments": call.arguments}}
                                     for call in self.tool_calls]
        return message

    def to_json(self) -> str:
        return json.dumps({"content": self.content,
                           "tool_calls": [[call.id, call.name, call.arguments] for call in self.tool_calls]},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> AssistantTurn:
        data = json.loads(text)
        return cls(data["content"], tuple(ToolCall(*call) for call in data["tool_calls"]))
