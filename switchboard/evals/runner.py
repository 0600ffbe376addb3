"""Running a cases file: each case's turns in order against the bot's prompt, knowledge and tools, each checked.

Nothing outside the model is touched: the knowledge is indexed in memory, tool calls are answered by the
cases file's fixtures, and tool rounds are recorded in memory. No Redis, Twilio or SQS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.clients.openai_client import CompletionClient
from switchboard.clients.openai_embeddings import EmbeddingsClient
from switchboard.domain import handoff_tool
from switchboard.domain.bot_profiles import BotProfile
from switchboard.domain.model_answer import model_answer
from switchboard.domain.user_turn import UserTurn
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.evals.cases import Case, CasesFile
from switchboard.evals.checks import CheckResult, check_answer
from switchboard.evals.fixtures import FixtureExecutor
from switchboard.evals.table import Row, excerpt
from switchboard.knowledge import Knowledge
from switchboard.settings import Settings
from switchboard.tools import Identity, LocalTool, MemoryToolLedger, Toolbox

# The errors of a model or tool call that fail one case; anything else is a bug and stops the run.
CALL_ERRORS = (TransientError, PermanentError, ConfigurationFault)


@dataclass(frozen=True)
class EvalBot:
    """One bot made ready for an eval: its profile, the model, its facts and its tool declarations."""

    profile: BotProfile
    completions: CompletionClient
    knowledge: Knowledge
    toolbox: Toolbox
    max_rounds: int
    history_max_tokens: int

    @classmethod
    def from_settings(cls, settings: Settings, profile: BotProfile) -> EvalBot:
        """The configured model (OPENAI_*) and the profile's folder and tools, read now (ToolsFileError)."""
        embeddings = EmbeddingsClient.from_settings(settings)  # as the worker retrieves: embeddings when configured
        knowledge = Knowledge.from_folder(profile.knowledge_path, settings, embeddings, profile.knowledge_contact)
        # The declared tools, and the built-in hand-off where the worker offers it (HANDOFF_WEBHOOK_URL set).
        local = [_handoff_stand_in()] if settings.handoff_webhook_url else []
        toolbox = Toolbox.from_file(profile.tools_file, settings, local=local)
        return cls(profile, CompletionClient.from_settings(settings), knowledge, toolbox,
                   settings.tools_max_rounds, settings.history_max_tokens)


def run_cases(bot: EvalBot, cases: CasesFile) -> list[Row]:
    """Every case's rows, in the file's order."""
    rows: list[Row] = []
    for number, case in enumerate(cases.cases, 1):
        rows += run_case(bot, case, number)
    return rows


def run_case(bot: EvalBot, case: Case, number: int) -> list[Row]:
    """One row per check of each turn; a model or tool error fails the case there (later turns need its answer)."""
    rows: list[Row] = []
    history: list[dict[str, str]] = []
    for index, turn in enumerate(case.turns, 1):
        identity = _identity(case, bot.profile, number, index)
        executor = FixtureExecutor({**case.tools, **turn.tools})
        try:
            answer = model_answer(
                bot.completions, bot.profile, bot.knowledge, bot.toolbox, history, [UserTurn(turn.user)], identity,
                executor=executor, ledger=MemoryToolLedger(), max_rounds=bot.max_rounds,
                history_max_tokens=bot.history_max_tokens)
        except CALL_ERRORS as exc:
            rows.append(Row(case.name, index, "answered", False, f"{type(exc).__name__}: {exc}"))
            return rows
        results = check_answer(turn.expect, answer.text, answer.tool_calls, bot.profile.knowledge_contact)
        results += [CheckResult(f"fixture for {name}", False, "the model called it; the cases file has no fixture")
                    for name in dict.fromkeys(executor.missing)]
        rows += _rows(case.name, index, results or [CheckResult("answered", True)], answer.text)
        history += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": answer.text}]
    return rows


def _rows(case: str, turn: int, results: Sequence[CheckResult], answer: str) -> list[Row]:
    # A failure shows why first, then as much of the answer as fits; a pass shows the answer.
    return [Row(case, turn, result.check, result.passed,
                excerpt(f"{result.detail}: {answer}" if result.detail else answer)) for result in results]


def _identity(case: Case, profile: BotProfile, number: int, turn: int) -> Identity:
    # What the signed webhook would give for this sender: WhatsApp's WaId is the number's digits.
    user_id = case.sender.removeprefix("whatsapp:").lstrip("+") if case.sender.startswith("whatsapp:") else case.sender
    return Identity(user_id=user_id, sender=case.sender, conversation=f"eval-{number}",
                    message_sid=f"SMeval{number:04d}{turn:04d}", bot_number=profile.number or "eval")


def _handoff_stand_in() -> LocalTool:
    # The real tool's name, description and schema, and what it tells the model; no conversation is paused.
    def answered(arguments: Mapping[str, Any], identity: Identity) -> str:
        return handoff_tool.TOOL_RESULT

    return LocalTool(name=handoff_tool.TOOL_NAME, description=handoff_tool.TOOL_DESCRIPTION,
                     parameters=handoff_tool.TOOL_PARAMETERS, run=answered)
