"""Function calling on the OpenAI stand-in, through the real openai SDK: the wire format and an obedient model."""

from __future__ import annotations

import json
from typing import Any

import openai
import requests

from localdev.standins.openai_tools import FOUND_PREFIX
from tests.harness.standins import RunningStandin

TOOLS: list[Any] = [
    {"type": "function", "function": {
        "name": "registration_status", "description": "Looks up the status of the asking person's registration",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False}}},
    {"type": "function", "function": {
        "name": "order_lookup", "description": "Finds a shop order",
        "parameters": {"type": "object", "properties": {"order": {"type": "string", "pattern": "[0-9]{4}"},
                                                        "note": {"type": "string"}},
                       "required": ["order", "note"], "additionalProperties": False}}},
]


def ask(sdk: openai.OpenAI, text: str, **options: Any) -> Any:
    return sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}],
                                       **options).choices[0]


def test_the_tool_sharing_most_words_with_the_question_is_called_in_the_wire_format(sdk: openai.OpenAI) -> None:
    choice = ask(sdk, "Did my registration go through?", tools=TOOLS)

    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.id.startswith("call_") and call.type == "function"
    assert (call.function.name, json.loads(call.function.arguments)) == ("registration_status", {})


def test_required_string_arguments_come_from_the_users_text_by_their_pattern(sdk: openai.OpenAI) -> None:
    [call] = ask(sdk, "where is my order 4821 please", tools=TOOLS).message.tool_calls

    assert (call.function.name, json.loads(call.function.arguments)) == ("order_lookup", {"order": "4821", "note": ""})


def test_no_tool_is_called_when_none_shares_a_word_or_tools_are_forbidden(sdk: openai.OpenAI) -> None:
    assert ask(sdk, "hello there", tools=TOOLS).message.tool_calls is None
    forbidden = ask(sdk, "Did my registration go through?", tools=TOOLS, tool_choice="none")
    assert forbidden.message.tool_calls is None and forbidden.finish_reason == "stop"


def test_after_tool_results_the_answer_is_text_built_from_them(sdk: openai.OpenAI) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "Did my registration go through?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "registration_status", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "confirmed"}'},
    ]

    choice = sdk.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS).choices[0]

    assert choice.message.content == FOUND_PREFIX + '{"status": "confirmed"}'


def test_scripted_calls_are_the_next_tool_offering_completions_exactly(sdk: openai.OpenAI,
                                                                       openai_standin: RunningStandin) -> None:
    script = [{"name": "registration_status", "arguments": {"user_id": "15559998888"}},
              {"name": "order_lookup", "arguments": "{not json"}]
    assert requests.post(f"{openai_standin.base_url}/_standin/openai/next-tool-calls", json=script,
                         timeout=5).status_code == 201

    assert ask(sdk, "hello").message.tool_calls is None  # offers no tools: the script waits
    calls = ask(sdk, "hello", tools=TOOLS).message.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("registration_status", '{"user_id": "15559998888"}'), ("order_lookup", "{not json")]
    assert ask(sdk, "hello", tools=TOOLS).message.tool_calls is None  # used once


def test_a_reset_forgets_the_scripted_calls(sdk: openai.OpenAI, openai_standin: RunningStandin) -> None:
    requests.post(f"{openai_standin.base_url}/_standin/openai/next-tool-calls",
                  json=[{"name": "order_lookup", "arguments": {}}], timeout=5)
    openai_standin.client.reset()

    assert ask(sdk, "hello", tools=TOOLS).message.tool_calls is None


def test_a_malformed_script_is_refused(openai_standin: RunningStandin) -> None:
    for bad in ([], [{"name": 3}], [{"name": "x", "args": {}}], {"name": "x"}):
        answer = requests.post(f"{openai_standin.base_url}/_standin/openai/next-tool-calls", json=bad, timeout=5)
        assert answer.status_code == 400


KNOWLEDGE = """You answer for the club.
Contact for anything the reference text does not cover: the club office
<knowledge>
--- fees.md ---
Registration costs $60 per player for the spring season.
</knowledge>"""


def test_a_question_the_knowledge_answers_gets_no_tool_call_and_a_status_question_does(sdk: openai.OpenAI) -> None:
    def with_facts(question: str) -> Any:
        return sdk.chat.completions.create(model="gpt-4o-mini", tools=TOOLS, messages=[
            {"role": "system", "content": KNOWLEDGE}, {"role": "user", "content": question}]).choices[0].message

    answered = with_facts("How much does registration cost?")
    assert answered.tool_calls is None and answered.content == "Registration costs $60 per player for the spring season."
    [call] = with_facts("Did my registration go through?").tool_calls
    assert call.function.name == "registration_status"


def test_a_tool_fitting_the_question_better_than_the_facts_is_called(sdk: openai.OpenAI) -> None:
    [call] = sdk.chat.completions.create(model="gpt-4o-mini", tools=TOOLS, messages=[
        {"role": "system", "content": KNOWLEDGE},
        {"role": "user", "content": "What is my registration status?"}]).choices[0].message.tool_calls

    assert call.function.name == "registration_status"
