"""The function-calling loop: the model asks for tools, Switchboard calls them for the sender, the model answers.

Every round is recorded in the ledger before the next step (the assistant turn before any of its calls,
each result as soon as it is in), so a redelivered or retried run replays what is on record and asks
the model, or calls a tool, only for what is not. A call that raised TransientError is not recorded: the
retry makes it again. After `max_rounds` rounds the model is asked once more with tool_choice "none", so
the answer is text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from switchboard.errors import PermanentError, TransientError
from switchboard.metrics import TOOL_CALLS
from switchboard.tools.arguments import parsed_arguments
from switchboard.tools.assistant_turn import AssistantTurn, ToolCall
from switchboard.tools.http_executor import ToolExecutor
from switchboard.tools.identity import Identity
from switchboard.tools.ledger import ToolLedger
from switchboard.tools.toolbox import Toolbox

log = logging.getLogger(__name__)


class TurnCompleter(Protocol):
    """CompletionClient.complete_turn: the model's next turn, offered `tools` (none when empty)."""

    def complete_turn(self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]],
                      tool_choice: str | None = None) -> AssistantTurn: ...


def run_with_tools(completions: TurnCompleter, messages: Sequence[Mapping[str, Any]], toolbox: Toolbox,
                   executor: ToolExecutor, ledger: ToolLedger, identity: Identity, max_rounds: int) -> str:
    """The model's text answer to `messages` after at most `max_rounds` rounds of tool calls."""
    conversation = [dict(message) for message in messages]
    tools = toolbox.definitions()
    recorded = ledger.recorded()
    for round_ in range(max_rounds):
        turn = _turn(completions, conversation, tools, None, ledger, recorded, f"turn:{round_}")
        if not turn.tool_calls:
            return _text(turn)
        conversation.append(turn.as_message())
        for index, call in enumerate(turn.tool_calls):
            step = f"result:{round_}:{index}"
            result = recorded.get(step)
            if result is None:
                result = ledger.record(step, _call(call, toolbox, executor, identity))
            conversation.append({"role": "tool", "tool_call_id": call.id, "content": result})
    # The rounds are used up: the model must answer in words from what the tools said.
    return _text(_turn(completions, conversation, tools, "none", ledger, recorded, "final"))


def _turn(completions: TurnCompleter, conversation: list[dict[str, Any]], tools: list[dict[str, Any]],
          tool_choice: str | None, ledger: ToolLedger, recorded: Mapping[str, str], step: str) -> AssistantTurn:
    if step in recorded:
        return AssistantTurn.from_json(recorded[step])
    turn = completions.complete_turn(conversation, tools, tool_choice=tool_choice)
    if tool_choice == "none" and turn.tool_calls:
        turn = AssistantTurn(turn.content)  # asked for words: calls it made anyway are not run
    return AssistantTurn.from_json(ledger.record(step, turn.to_json()))


def _call(call: ToolCall, toolbox: Toolbox, executor: ToolExecutor, identity: Identity) -> str:
    """The result text of one call; TransientError (not recorded, the step retries) passes through."""
    # The model may name a tool that does not exist: the label stays one of the operator's names.
    label = call.name if call.name in toolbox.names() else "unknown"
    try:
        result, outcome = _result(call, toolbox, executor, identity)
    except TransientError:
        TOOL_CALLS.labels(tool=label, outcome="transient").inc()
        raise
    TOOL_CALLS.labels(tool=label, outcome=outcome).inc()
    return result


def _result(call: ToolCall, toolbox: Toolbox, executor: ToolExecutor, identity: Identity) -> tuple[str, str]:
    arguments = parsed_arguments(call.arguments)
    if isinstance(arguments, str):  # bad JSON: the model reads why and may call again
        log.info("tool %s: the model's arguments are not a JSON object", call.name)
        return arguments, "refused"
    problem = toolbox.argument_problem(call.name, arguments)
    if problem is not None:
        log.info("tool %s: refused the model's arguments", call.name)
        return problem, "refused"
    local = toolbox.local.get(call.name)
    if local is not None:
        return local.run(arguments, identity), "answered"
    return executor.execute(call.name, arguments, identity), "answered"


def _text(turn: AssistantTurn) -> str:
    # As CompletionClient.complete: an empty answer is the model's considered reply, so asking again is no use.
    content = (turn.content or "").strip()
    if not content:
        raise PermanentError("OpenAI returned an empty answer")
    return content
