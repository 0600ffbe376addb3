"""The model's answer to new user turns: the one place that puts a bot's prompt, facts and tools before the model.

The complete step (answering.py) and `switchboard eval` both call `model_answer`, so what an eval checks is
what users get: the same system text, the same history budget, the same function-calling loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from switchboard.clients.openai_client import CompletionClient
from switchboard.domain.bot_profiles import BotProfile
from switchboard.domain.prompt import build_prompt
from switchboard.domain.user_turn import UserTurn
from switchboard.knowledge import Knowledge
from switchboard.tools import AssistantTurn, Identity, Toolbox, ToolExecutor, ToolLedger, run_with_tools
from switchboard.tools.arguments import parsed_arguments


@dataclass(frozen=True)
class CalledTool:
    """A tool call the model made for this answer, with the arguments it chose ({} when they were not JSON)."""

    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class ModelAnswer:
    text: str
    # Every call the model asked for, round by round, replayed rounds of a redelivered run included
    # (their tools are not called again), and calls refused for bad arguments too: what the model chose.
    tool_calls: tuple[CalledTool, ...] = field(default=())


def system_text(profile: BotProfile, knowledge: Knowledge, question: str, name_line: str = "") -> str:
    """The bot's prompt, then its facts for the question, then the line about the user (if any).

    The per-user line goes last: OpenAI caches a prompt's repeated prefix, and the prompt and the whole
    folder's facts are the same for every user of the bot, so they stay the shared part.
    """
    facts = knowledge.with_contact(profile.knowledge_contact).system_text(question)
    parts = (profile.system_prompt, facts, name_line)
    return "\n\n".join(part for part in parts if part)


def model_answer(
    completions: CompletionClient, profile: BotProfile, knowledge: Knowledge, toolbox: Toolbox,
    history: Sequence[Mapping[str, str]], turns: Sequence[UserTurn], identity: Identity, *,
    executor: ToolExecutor, ledger: ToolLedger, max_rounds: int, history_max_tokens: int,
    summary: str = "", name_line: str = "",
) -> ModelAnswer:
    """The answer to `turns` after `history` (and its `summary`), with tools when the bot has any.

    `identity` is who asks, from the signed webhook; every tool call carries it, and the model never
    chooses it. `knowledge` is the folder of `profile.knowledge_path`; it is told the profile's contact here.
    """
    question = "\n".join(turn.text for turn in turns)
    prompt = build_prompt(system_text(profile, knowledge, question, name_line), history, turns,
                          history_max_tokens, summary=summary)
    if not toolbox:
        return ModelAnswer(completions.complete(prompt))
    noting = _NotingLedger(ledger)
    text = run_with_tools(completions, prompt, toolbox, executor, noting, identity, max_rounds)
    return ModelAnswer(text, noting.calls())


class _NotingLedger:
    """A ledger that passes everything through and keeps the assistant turns (`turn:<round>`) it sees."""

    def __init__(self, ledger: ToolLedger) -> None:
        self._ledger = ledger
        self._turns: dict[int, str] = {}

    def recorded(self) -> Mapping[str, str]:
        steps = self._ledger.recorded()
        for step, value in steps.items():
            self._note(step, value)
        return steps

    def record(self, step: str, value: str) -> str:
        kept = self._ledger.record(step, value)
        self._note(step, kept)
        return kept

    def calls(self) -> tuple[CalledTool, ...]:
        turns = (AssistantTurn.from_json(self._turns[round_]) for round_ in sorted(self._turns))
        return tuple(CalledTool(call.name, _arguments(call.arguments)) for turn in turns for call in turn.tool_calls)

    def _note(self, step: str, value: str) -> None:
        kind, _, round_ = step.partition(":")
        if kind == "turn" and round_.isdigit():
            self._turns[int(round_)] = value


def _arguments(text: str) -> Mapping[str, Any]:
    parsed = parsed_arguments(text)
    return {} if isinstance(parsed, str) else parsed
