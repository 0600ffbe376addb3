"""TOOLS_FILE: declarations read and checked once, a bad file refused with the file and the tool named."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.settings import ConfigError, load_settings
from switchboard.settings.tool_declarations import ToolsFileError
from tests.switchboard.tools.conftest import ToolsFrom, one_tool

GOOD = """
tools:
  - name: registration_status
    description: The asking person's registration status
    parameters:
      type: object
      properties:
        season: {type: string, pattern: "^[0-9]{4}$"}
      required: [season]
    method: get
    url: "${API}/seasons/{season}/people/{user_id}/status"
    headers:
      Authorization: "Bearer ${API_TOKEN}"
      X-Api-Version: "2"
    timeout_seconds: 4
"""
ENV = {"API": "https://api.example.org", "API_TOKEN": "s3cr3t-token"}


def test_a_good_file_gives_its_tools_with_variables_resolved_and_extra_arguments_closed(tools_from: ToolsFrom) -> None:
    [tool] = tools_from(GOOD, ENV)

    assert (tool.name, tool.method, tool.timeout_seconds) == ("registration_status", "GET", 4)
    assert tool.url == "https://api.example.org/seasons/{season}/people/{user_id}/status"
    assert tool.headers["Authorization"].get_secret_value() == "Bearer s3cr3t-token"
    assert tool.parameters["additionalProperties"] is False
    assert tool.url_placeholders() == ["season", "user_id"]


def test_a_header_secret_never_shows_in_the_declarations_text(tools_from: ToolsFrom) -> None:
    [tool] = tools_from(GOOD, ENV)

    assert "s3cr3t-token" not in repr(tool) and "s3cr3t-token" not in str(tool)


def test_an_empty_list_declares_no_tools(tools_from: ToolsFrom) -> None:
    assert tools_from("tools: []\n") == []


@pytest.mark.parametrize(("entry", "reason"), [
    (one_tool("https://api.example.org/x", headers="{X-Switchboard-User-Id: '123'}"),
     "X-Switchboard-* headers carry the sender's identity"),
    (one_tool("https://api.example.org/x", headers="{x-switchboard-anything: '1'}"),
     "X-Switchboard-* headers carry the sender's identity"),
    (one_tool("https://api.example.org/x", headers="{Host: evil.example}"), "set by the HTTP client"),
    (one_tool("https://api.example.org/x", headers="{Authorization: 'Bearer ${NOT_SET}'}"),
     "header Authorization: environment variable NOT_SET is not set"),
    (one_tool("${NOT_SET_EITHER}/x"), "url: environment variable NOT_SET_EITHER is not set"),
    (one_tool("http://api.example.org/x"), "plain http is allowed only for a loopback host"),
    (one_tool("ftp://api.example.org/x"), "must be an http(s) URL"),
    (one_tool("https://{host}/x"), "never in the scheme or host"),
    (one_tool("https://api.example.org{path}"), "never in the scheme or host"),
    (one_tool("https://api.example.org/{nowhere}"), "{nowhere} is neither a parameter"),
    (one_tool("https://api.example.org/{id}", parameters="{type: object, properties: {id: {type: string}}}"),
     "{id} must be a required parameter"),
    (one_tool("https://api.example.org/x", parameters="{type: object, properties: {user_id: {type: string}}}"),
     "user_id is reserved for the sender's identity"),
    (one_tool("https://api.example.org/x", parameters="{type: array}"), "must be a schema of `type: object`"),
    (one_tool("https://api.example.org/x", parameters="{type: object, properties: {a: {type: 12}}}"),
     "not a JSON schema (Draft 2020-12)"),
    (one_tool("https://api.example.org/x", method="TRACE"), "method: Input should be"),
    (one_tool("https://api.example.org/x", timeout=0), "timeout_seconds: Input should be greater than 0"),
    (one_tool("https://api.example.org/x").replace("name: lookup", "name: look up!"), "name: String should match"),
    (one_tool("https://api.example.org/x").replace("    method:", "    colour: red\n    method:"),
     "unknown key 'colour'"),
])
def test_a_bad_tool_is_refused_naming_the_file_the_tool_and_the_reason(
        tools_from: ToolsFrom, tmp_path: Path, entry: str, reason: str) -> None:
    with pytest.raises(ToolsFileError) as caught:
        tools_from(entry)

    message = str(caught.value)
    assert message.startswith(f"TOOLS_FILE {tmp_path / 'tools.yaml'}: tool ")
    assert "'lookup'" in message or "'look up!'" in message
    assert reason in message


def test_two_tools_of_one_name_are_refused(tools_from: ToolsFrom) -> None:
    entry = one_tool("https://api.example.org/x")
    twice = entry + entry.split("tools:\n", 1)[1]

    with pytest.raises(ToolsFileError, match="tool 'lookup': a second tool of that name"):
        tools_from(twice)


@pytest.mark.parametrize("text", ["tools: {a: 1}\n", "- name: x\n", "tools: [\n", "other: []\n"])
def test_a_file_that_is_no_list_of_tools_is_refused(tools_from: ToolsFrom, text: str) -> None:
    with pytest.raises(ToolsFileError, match="TOOLS_FILE .*tools.yaml: "):
        tools_from(text)


@pytest.fixture
def env(hermetic_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in {"TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_AUTH_TOKEN": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                        "OPENAI_API_KEY": "sk-test", "CONVERSATION_ID_SECRET": "s" * 32}.items():
        hermetic_env.setenv(name, value)
    return hermetic_env


def test_a_bad_tools_file_stops_the_start_with_one_error_naming_it(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "tools.yaml"
    path.write_text(one_tool("https://api.example.org/x", headers="{Authorization: '${TOOLS_TOKEN}'}"))
    env.setenv("TOOLS_FILE", str(path))
    env.setenv("OPERATOR_SIGNING_SECRET", "x" * 32)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert str(caught.value) == (f"invalid configuration: TOOLS_FILE {path}: tool 'lookup': header Authorization: "
                                 "environment variable TOOLS_TOKEN is not set")
    env.setenv("TOOLS_TOKEN", "t")
    assert load_settings().tools_file == path


def test_declared_tools_need_the_signing_secret_at_start(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "tools.yaml"
    path.write_text(one_tool("https://api.example.org/x"))
    env.setenv("TOOLS_FILE", str(path))

    with pytest.raises(ConfigError, match="OPERATOR_SIGNING_SECRET: missing"):
        load_settings()
