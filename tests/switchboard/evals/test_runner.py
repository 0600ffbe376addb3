"""Running cases: answers join the history, fixtures answer the declared tools, an error fails only its case."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from switchboard.domain.bot_profiles import BotProfile
from switchboard.errors import TransientError
from switchboard.evals.cases import CasesFile
from switchboard.evals.runner import EvalBot, run_cases
from switchboard.evals.table import Row
from switchboard.knowledge import Knowledge
from switchboard.tools import AssistantTurn, Toolbox, read_tools_file
from tests.switchboard.tools.fakes import calls

PROFILE = BotProfile(number="whatsapp:+14155238886", system_prompt="You are the desk.", knowledge_path=None,
                     knowledge_contact="+1 555 0100", tools_file=None, name="desk")


class Model:
    """Answers each plain completion and tool turn from `outcomes` in order (an exception is raised)."""

    def __init__(self, *outcomes: str | AssistantTurn | Exception) -> None:
        self.outcomes = list(outcomes)
        self.prompts: list[list[dict[str, Any]]] = []

    def _next(self, messages: Sequence[Mapping[str, Any]]) -> str | AssistantTurn:
        self.prompts.append([dict(message) for message in messages])
        assert self.outcomes, "the model was asked more often than the test expected"
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def complete(self, messages: Sequence[Mapping[str, Any]]) -> str:
        outcome = self._next(messages)
        assert isinstance(outcome, str)
        return outcome

    def complete_turn(self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]],
                      tool_choice: str | None = None) -> AssistantTurn:
        outcome = self._next(messages)
        return outcome if isinstance(outcome, AssistantTurn) else AssistantTurn(outcome)


def bot(model: Model, toolbox: Toolbox | None = None) -> EvalBot:
    return EvalBot(PROFILE, model, Knowledge.empty(), toolbox or Toolbox(), max_rounds=3,  # type: ignore[arg-type]
                   history_max_tokens=3000)


def declared_tools(tmp_path: Path) -> Toolbox:
    (tmp_path / "tools.yaml").write_text("""
tools:
  - name: registration_status
    description: The asker's registration status.
    url: http://127.0.0.1:9/status
""", encoding="utf-8")
    return Toolbox(read_tools_file(tmp_path / "tools.yaml"))


def cases(document: dict[str, Any]) -> CasesFile:
    return CasesFile.model_validate(document)


def results(rows: list[Row]) -> list[tuple[str, int, str, bool]]:
    return [(row.case, row.turn, row.check, row.passed) for row in rows]


def test_each_answer_joins_the_history_of_the_next_turn() -> None:
    model = Model("Hello! How can I help?", "It costs $60.")

    rows = run_cases(bot(model), cases({"cases": [{"name": "two turns", "turns": [
        {"user": "Hi"}, {"user": "And the fee?", "expect": {"mentions": "$60"}}]}]}))

    assert [(m["role"], m["content"]) for m in model.prompts[1][1:]] == [
        ("user", "Hi"), ("assistant", "Hello! How can I help?"), ("user", "And the fee?")]
    assert results(rows) == [("two turns", 1, "answered", True), ("two turns", 2, "mentions '$60'", True)]
    assert rows[1].excerpt == "It costs $60."


def test_a_model_error_fails_its_case_there_and_the_next_case_still_runs() -> None:
    model = Model(TransientError("OpenAI unavailable: APITimeoutError"), "Fine.")

    rows = run_cases(bot(model), cases({"cases": [
        {"name": "broken", "turns": [{"user": "Hi"}, {"user": "never asked"}]},
        {"name": "fine", "turns": [{"user": "Hi", "expect": {"mentions": "fine"}}]}]}))

    assert results(rows) == [("broken", 1, "answered", False), ("fine", 1, "mentions 'fine'", True)]
    assert rows[0].excerpt == "TransientError: OpenAI unavailable: APITimeoutError"


def test_a_declared_tool_is_answered_by_the_turns_fixture_over_the_cases(tmp_path: Path) -> None:
    model = Model(calls(("registration_status", {})), "Yours is confirmed.")

    rows = run_cases(bot(model, declared_tools(tmp_path)), cases({"cases": [{
        "name": "status", "tools": {"registration_status": "received"},
        "turns": [{"user": "Did it go through?", "tools": {"registration_status": {"status": "confirmed"}},
                   "expect": {"tool_called": {"name": "registration_status"}}}]}]}))

    assert results(rows) == [("status", 1, "tool_called registration_status", True)]
    assert model.prompts[1][-1] == {"role": "tool", "tool_call_id": "call_0", "content": '{"status": "confirmed"}'}


def test_a_tool_call_without_a_fixture_fails_the_turn_naming_the_tool(tmp_path: Path) -> None:
    model = Model(calls(("registration_status", {})), "I could not look it up.")

    rows = run_cases(bot(model, declared_tools(tmp_path)), cases({"cases": [{
        "name": "no fixture", "turns": [{"user": "Did it go through?"}]}]}))

    assert results(rows) == [("no fixture", 1, "fixture for registration_status", False)]
    assert "the cases file has no fixture" in rows[0].excerpt
