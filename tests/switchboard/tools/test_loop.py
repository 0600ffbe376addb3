"""The function-calling loop: bounded rounds, a forced text answer, and replay from the ledger after a retry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from switchboard.errors import PermanentError, TransientError
from switchboard.tools import AssistantTurn, Identity, LocalTool, MemoryToolLedger, Toolbox, run_with_tools
from switchboard.tools.assistant_turn import ToolCall
from tests.switchboard.tools.conftest import ANOTHER_PERSON, ASKER
from tests.switchboard.tools.fakes import RecordingExecutor, ScriptedModel, calls

QUESTION = [{"role": "system", "content": "You answer for the club."},
            {"role": "user", "content": "did my registration go through?"}]
TOOLS = """
tools:
  - name: registration_status
    description: The asking person's registration status
    url: "https://api.example.org/registrations/{user_id}"
  - name: fees
    description: What a season costs
    parameters: {type: object, properties: {season: {type: string}}, required: [season]}
    url: "https://api.example.org/fees/{season}"
"""


@pytest.fixture
def toolbox(toolbox_from: Any) -> Toolbox:
    return toolbox_from(TOOLS)  # type: ignore[no-any-return]


@pytest.fixture
def executor() -> RecordingExecutor:
    return RecordingExecutor({"registration_status": '{"status": "confirmed"}', "fees": "$60"})


def run(model: ScriptedModel, toolbox: Toolbox, executor: RecordingExecutor, ledger: MemoryToolLedger,
        max_rounds: int = 3) -> str:
    return run_with_tools(model, QUESTION, toolbox, executor, ledger, ASKER, max_rounds)


def test_a_tool_call_is_made_for_the_asker_and_its_result_answered_in_text(
        toolbox: Toolbox, executor: RecordingExecutor) -> None:
    model = ScriptedModel([calls(("registration_status", {})), AssistantTurn("Your registration is confirmed.")])

    assert run(model, toolbox, executor, MemoryToolLedger()) == "Your registration is confirmed."

    assert executor.calls == [("registration_status", {}, ASKER)]
    first, second = model.requests
    assert first["messages"] == QUESTION and first["tools"] == toolbox.definitions()
    assert second["messages"][2:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "registration_status", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": '{"status": "confirmed"}'}]


def test_the_rounds_are_bounded_and_the_last_request_forbids_tools(toolbox: Toolbox,
                                                                  executor: RecordingExecutor) -> None:
    greedy = [calls(("fees", {"season": str(year)})) for year in (2024, 2025)]
    model = ScriptedModel([*greedy, AssistantTurn("It costs $60.")])

    assert run(model, toolbox, executor, MemoryToolLedger(), max_rounds=2) == "It costs $60."

    assert [c[1] for c in executor.calls] == [{"season": "2024"}, {"season": "2025"}]
    assert [r["tool_choice"] for r in model.requests] == [None, None, "none"]


def test_calls_made_anyway_when_tools_are_forbidden_are_not_run(toolbox: Toolbox, executor: RecordingExecutor) -> None:
    model = ScriptedModel([calls(("fees", {"season": "2025"})),
                           AssistantTurn("It costs $60.", (ToolCall("call_9", "fees", '{"season": "2026"}'),))])

    assert run(model, toolbox, executor, MemoryToolLedger(), max_rounds=1) == "It costs $60."
    assert len(executor.calls) == 1


def test_several_calls_of_one_turn_run_in_order_each_answered_by_its_id(toolbox: Toolbox,
                                                                       executor: RecordingExecutor) -> None:
    model = ScriptedModel([calls(("fees", {"season": "2025"}), ("registration_status", {})), AssistantTurn("Done.")])

    run(model, toolbox, executor, MemoryToolLedger())

    assert [name for name, _, _ in executor.calls] == ["fees", "registration_status"]
    assert [(m["tool_call_id"], m["content"]) for m in model.requests[1]["messages"][3:]] == [
        ("call_0", "$60"), ("call_1", '{"status": "confirmed"}')]


def test_a_redelivered_run_replays_the_recorded_rounds_and_calls_nothing_again(
        toolbox: Toolbox, executor: RecordingExecutor) -> None:
    ledger = MemoryToolLedger()
    first = run(ScriptedModel([calls(("registration_status", {})), AssistantTurn("Confirmed.")]), toolbox, executor,
                ledger)
    replay_model = ScriptedModel([])  # any request fails the test

    assert run(replay_model, toolbox, executor, ledger) == first == "Confirmed."
    assert replay_model.requests == [] and len(executor.calls) == 1


def test_a_retry_after_a_tool_timeout_calls_only_the_tool_that_failed(toolbox: Toolbox,
                                                                      executor: RecordingExecutor) -> None:
    ledger = MemoryToolLedger()
    executor.fail_next.append("registration_status")
    model = ScriptedModel([calls(("fees", {"season": "2025"}), ("registration_status", {}))])

    with pytest.raises(TransientError):
        run(model, toolbox, executor, ledger)
    assert "result:0:1" not in ledger.recorded()  # the failed call is not on record

    retry_model = ScriptedModel([AssistantTurn("It costs $60 and you are confirmed.")])
    assert run(retry_model, toolbox, executor, ledger) == "It costs $60 and you are confirmed."
    assert [name for name, _, _ in executor.calls] == ["fees", "registration_status", "registration_status"]
    assert len(retry_model.requests) == 1  # the tool-calling turn came from the ledger


def test_another_persons_number_as_an_argument_is_refused_back_to_the_model(toolbox: Toolbox,
                                                                           executor: RecordingExecutor) -> None:
    model = ScriptedModel([calls(("registration_status", {"user_id": ANOTHER_PERSON})),
                           AssistantTurn("I can only look up your own registration.")])

    run(model, toolbox, executor, MemoryToolLedger())

    assert executor.calls == []
    refusal = model.requests[1]["messages"][-1]["content"]
    assert refusal.startswith("error: invalid arguments for registration_status: Additional properties")


@pytest.mark.parametrize(("arguments", "said"), [("{not json", "error: the arguments are not valid JSON"),
                                                 ("[1, 2]", "error: the arguments must be a JSON object")])
def test_bad_json_arguments_are_an_error_result_not_a_crash(toolbox: Toolbox, executor: RecordingExecutor,
                                                           arguments: str, said: str) -> None:
    model = ScriptedModel([calls(("fees", arguments)), AssistantTurn("Sorry.")])

    assert run(model, toolbox, executor, MemoryToolLedger()) == "Sorry."
    assert executor.calls == [] and model.requests[1]["messages"][-1]["content"].startswith(said)


def test_an_unknown_tool_is_an_error_result(toolbox: Toolbox, executor: RecordingExecutor) -> None:
    model = ScriptedModel([calls(("delete_everything", {})), AssistantTurn("I cannot.")])

    run(model, toolbox, executor, MemoryToolLedger())

    assert executor.calls == []
    assert model.requests[1]["messages"][-1]["content"].startswith("error: there is no tool named 'delete_everything'")


def test_a_local_tool_runs_in_process_with_the_askers_identity(toolbox_from: Any,
                                                               executor: RecordingExecutor) -> None:
    ran: list[tuple[dict[str, Any], Identity]] = []

    def hand_off(arguments: Mapping[str, Any], identity: Identity) -> str:
        ran.append((dict(arguments), identity))
        return "Done."

    handoff = LocalTool("hand_off_to_person", "Hands the conversation to a person",
                        {"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]},
                        hand_off)
    toolbox = Toolbox(toolbox_from(TOOLS).declared.values(), [handoff])
    model = ScriptedModel([calls(("hand_off_to_person", {"reason": "asked"})), AssistantTurn("A person will answer.")])

    assert run(model, toolbox, executor, MemoryToolLedger()) == "A person will answer."
    assert ran == [({"reason": "asked"}, ASKER)] and executor.calls == []
    assert [d["function"]["name"] for d in model.requests[0]["tools"]] == ["registration_status", "fees",
                                                                           "hand_off_to_person"]


def test_an_empty_answer_is_permanent(toolbox: Toolbox, executor: RecordingExecutor) -> None:
    with pytest.raises(PermanentError, match="empty answer"):
        run(ScriptedModel([AssistantTurn("  ")]), toolbox, executor, MemoryToolLedger())
