"""Function calling on the OpenAI stand-in: tool calls in the real wire format, made like a simple obedient model.

When a completion offers `tools` (and tool_choice is not "none") and the newest message is the user's, the
stand-in calls the tool whose name and description share the most content words with the user's text (none
when no tool shares a word, or when the answer from a <knowledge> block in the system prompt shares as
many: openai_grounding.py); each required string parameter gets the first part of the user's text that
matches its `pattern`, else "". When the newest messages are tool results it answers in text from them:
"Here is what I found: <the tools' content>". `POST /_standin/openai/next-tool-calls` with a JSON list of
{"name", "arguments"} scripts the next tool-offering completion's calls exactly (arguments: an object, or a
string sent as it is, bad JSON included), e.g. the model trying to pass another person's number. A reset
forgets what was scripted.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

from flask import Flask, Response, jsonify, request

from localdev.standins.openai_grounding import content_words, grounded_answer

FOUND_PREFIX = "Here is what I found: "
# How openai_grounding's answer begins when the facts do not cover the question.
NOT_COVERED = "I don't know"


def tool_call_completion(model: str, calls: list[dict[str, Any]], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A `chat.completion` whose message asks for `calls` ([{"name", "arguments": str}]), as the API sends it."""
    prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
    completion_tokens = sum(len(call["arguments"]) for call in calls) // 4 + 1
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": None, "refusal": None, "annotations": [],
                        "tool_calls": [{"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                                        "function": {"name": call["name"], "arguments": call["arguments"]}}
                                       for call in calls]},
            "logprobs": None,
            "finish_reason": "tool_calls",
        }],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "service_tier": "default",
        "system_fingerprint": None,
    }


def answer_from_tool_results(messages: list[dict[str, Any]]) -> str | None:
    """The text answer when the newest messages are tool results; None when the newest is not one."""
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.insert(0, str(message.get("content") or ""))
    return FOUND_PREFIX + " ".join(results) if results else None


def chosen_calls(tools: list[dict[str, Any]], tool_choice: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls an obedient model makes for the newest user message; [] for none."""
    if not tools or tool_choice == "none" or not messages or messages[-1].get("role") != "user":
        return []
    text = _text(messages[-1].get("content"))
    functions = [tool.get("function") or {} for tool in tools if tool.get("type") == "function"]
    forced = tool_choice.get("function", {}).get("name") if isinstance(tool_choice, dict) else None
    if forced is not None:
        functions = [f for f in functions if f.get("name") == forced]
    asked = content_words(text)
    scored = [(len(asked & content_words(_words_of(f))), i, f) for i, f in enumerate(functions)]
    best = max(scored, key=lambda item: (item[0], -item[1]), default=None)
    # As a model told to answer from the facts: a tool only when it fits the question better than they do.
    if best is None or (best[0] <= _facts_score(messages, text) and forced is None and tool_choice != "required"):
        return []
    function = best[2]
    return [{"name": function.get("name", ""), "arguments": json.dumps(_arguments(function, text))}]


def _facts_score(messages: list[dict[str, Any]], question: str) -> int:
    """How many of the question's content words the knowledge block's answer shares (0: no block, or not covered)."""
    answer = grounded_answer(messages, question)
    if answer is None or answer.startswith(NOT_COVERED):
        return 0
    return len(content_words(question) & content_words(answer))


def _words_of(function: dict[str, Any]) -> str:
    return re.sub(r"[_-]", " ", str(function.get("name", ""))) + " " + str(function.get("description", ""))


def _arguments(function: dict[str, Any], text: str) -> dict[str, str]:
    schema = function.get("parameters") or {}
    properties = schema.get("properties") or {}
    arguments: dict[str, str] = {}
    for name in schema.get("required") or []:
        spec = properties.get(name) or {}
        if spec.get("type") != "string":
            continue
        found = re.search(spec["pattern"], text) if isinstance(spec.get("pattern"), str) else None
        arguments[name] = found.group(0) if found else ""
    return arguments


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content or "")


class ToolTurns:
    """What the stand-in's model does with tools: scripted calls first, then the obedient choice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripted: list[list[dict[str, Any]]] = []  # one list of calls per coming completion

    def script(self, calls: list[dict[str, Any]]) -> int:
        with self._lock:
            self._scripted.append(calls)
            return len(self._scripted)

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()

    def reply(self, body: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]] | str | None:
        """The calls to make, the text to answer from tool results, or None: answer as without tools."""
        found = answer_from_tool_results(messages)
        if found is not None:
            return found
        tools, tool_choice = body.get("tools") or [], body.get("tool_choice")
        if not tools or tool_choice == "none":
            return None
        with self._lock:
            scripted = self._scripted.pop(0) if self._scripted else None
        return scripted if scripted is not None else (chosen_calls(tools, tool_choice, messages) or None)


def add_tool_routes(app: Flask, turns: ToolTurns) -> None:
    """`POST /_standin/openai/next-tool-calls`; the shared reset forgets what was scripted."""

    @app.post("/_standin/openai/next-tool-calls")
    def script_tool_calls() -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, list) or not data or not all(
                isinstance(c, dict) and isinstance(c.get("name"), str) and set(c) <= {"name", "arguments"}
                and isinstance(c.get("arguments", {}), dict | str) for c in data):
            return jsonify({"error": "expected a non-empty JSON list of {\"name\", \"arguments\"} "
                                     "(arguments: an object, or a string sent as it is)"}), 400
        calls = [{"name": c["name"], "arguments": c["arguments"] if isinstance(c.get("arguments"), str)
                  else json.dumps(c.get("arguments", {}))} for c in data]
        return jsonify({"scripted": turns.script(calls)}), 201

    @app.before_request
    def forget_tool_calls_on_reset() -> None:
        # The shared control routes own POST /_standin/reset; what was scripted goes with the rest.
        if request.method == "POST" and request.path == "/_standin/reset":
            turns.clear()
