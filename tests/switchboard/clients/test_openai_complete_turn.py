"""CompletionClient.complete_turn through the real openai SDK against the stand-in: tool calls and text turns."""

from __future__ import annotations

import pytest
import requests

from switchboard.clients.openai_client import CompletionClient
from switchboard.errors import TransientError
from switchboard.settings import load_settings
from switchboard.tools import AssistantTurn, LocalTool, MemoryToolLedger, Toolbox, run_with_tools
from tests.harness.standins import RunningStandin
from tests.switchboard.tools.conftest import ASKER
from tests.switchboard.tools.fakes import RecordingExecutor

TOOLS = [{"type": "function", "function": {
    "name": "registration_status", "description": "The status of the asking person's registration",
    "parameters": {"type": "object", "properties": {}, "additionalProperties": False}}}]
QUESTION = [{"role": "user", "content": "Did my registration go through?"}]


@pytest.fixture
def client(hermetic_env: pytest.MonkeyPatch, openai_standin: RunningStandin) -> CompletionClient:
    return CompletionClient.from_settings(load_settings(
        twilio_account_sid="AC" + "c" * 32, twilio_auth_token="a1b2c3d4" * 4, conversation_id_secret="k" * 32,
        openai_api_key="sk-test", openai_base_url=f"{openai_standin.base_url}/v1", openai_timeout_seconds=3))


def test_a_tool_call_turn_carries_its_id_name_and_arguments(client: CompletionClient,
                                                            openai_standin: RunningStandin) -> None:
    turn = client.complete_turn(QUESTION, TOOLS)

    [call] = turn.tool_calls
    assert turn.content is None and call.id.startswith("call_")
    assert (call.name, call.arguments) == ("registration_status", "{}")
    [request] = openai_standin.client.requests()
    assert request["tools"] == TOOLS and "tool_choice" not in request


def test_tool_choice_none_gives_a_text_turn(client: CompletionClient, openai_standin: RunningStandin) -> None:
    turn = client.complete_turn(QUESTION, TOOLS, tool_choice="none")

    assert turn == AssistantTurn("echo: Did my registration go through?")
    assert openai_standin.client.requests()[0]["tool_choice"] == "none"


def test_no_tools_sends_neither_tools_nor_tool_choice(client: CompletionClient, openai_standin: RunningStandin) -> None:
    assert client.complete_turn(QUESTION, [], tool_choice="none").tool_calls == ()
    assert not {"tools", "tool_choice"} & set(openai_standin.client.requests()[0])


def test_bad_json_arguments_come_back_as_written(client: CompletionClient, openai_standin: RunningStandin) -> None:
    requests.post(f"{openai_standin.base_url}/_standin/openai/next-tool-calls",
                  json=[{"name": "registration_status", "arguments": "{oops"}], timeout=5)

    assert client.complete_turn(QUESTION, TOOLS).tool_calls[0].arguments == "{oops"


def test_an_unavailable_model_is_transient(client: CompletionClient, openai_standin: RunningStandin) -> None:
    openai_standin.client.fail(503)

    with pytest.raises(TransientError):
        client.complete_turn(QUESTION, TOOLS)


def test_the_loop_against_the_standin_answers_from_the_tools_result(client: CompletionClient) -> None:
    status = LocalTool("registration_status", "The status of the asking person's registration",
                       {"type": "object", "properties": {}}, lambda arguments, identity: f"confirmed for {identity.user_id}")
    executor = RecordingExecutor({})

    answer = run_with_tools(client, QUESTION, Toolbox(local=[status]), executor, MemoryToolLedger(), ASKER, 3)

    assert answer == f"Here is what I found: confirmed for {ASKER.user_id}"
    assert executor.calls == []
