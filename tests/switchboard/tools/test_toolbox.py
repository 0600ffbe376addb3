"""The toolbox: declared and built-in tools offered in OpenAI's `tools` format, one name each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.settings import Settings
from switchboard.settings.tool_declarations import ToolsFileError
from switchboard.tools import LocalTool, Toolbox
from tests.switchboard.tools.conftest import one_tool

STRICT = """
tools:
  - name: fees
    description: What a season costs
    parameters: {type: object, properties: {season: {type: string}}, required: [season]}
    url: "https://api.example.org/fees/{season}"
    strict: true
"""


def local(name: str = "hand_off_to_person") -> LocalTool:
    return LocalTool(name, "Hands over", {"type": "object", "properties": {}}, lambda arguments, identity: "done")


def test_definitions_are_openais_function_tools_closed_to_extra_arguments(toolbox_from: Any) -> None:
    toolbox = Toolbox(toolbox_from(STRICT).declared.values(), [local()])

    assert toolbox.definitions() == [
        {"type": "function", "function": {
            "name": "fees", "description": "What a season costs", "strict": True,
            "parameters": {"type": "object", "properties": {"season": {"type": "string"}}, "required": ["season"],
                           "additionalProperties": False}}},
        {"type": "function", "function": {
            "name": "hand_off_to_person", "description": "Hands over",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": False}}},
    ]


def test_a_toolbox_without_tools_is_false() -> None:
    assert not Toolbox() and Toolbox(local=[local()])


def test_a_built_in_tool_may_not_take_a_declared_tools_name(toolbox_from: Any) -> None:
    with pytest.raises(ValueError, match="two tools of one name: fees"):
        Toolbox(toolbox_from(STRICT).declared.values(), [local("fees")])


def test_a_built_in_tool_needs_a_name_and_an_object_schema() -> None:
    with pytest.raises(ValueError, match="a name is 1 to 64"):
        local("hand off")
    with pytest.raises(ValueError, match="parameters must be a schema of `type: object`"):
        LocalTool("x", "x", {"type": "string"}, lambda arguments, identity: "")


def test_from_file_reads_the_file_and_wants_the_signing_secret(tmp_path: Path, hermetic_env: pytest.MonkeyPatch
                                                               ) -> None:
    path = tmp_path / "tools.yaml"
    path.write_text(one_tool("https://api.example.org/x"))
    base = {"twilio_account_sid": "AC" + "a" * 32, "twilio_auth_token": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "openai_api_key": "sk-test", "conversation_id_secret": "k" * 32}
    signed = Settings(**base, operator_signing_secret="s" * 32)  # type: ignore[arg-type]

    assert Toolbox.from_file(path, signed, [local()]).names() == ["lookup", "hand_off_to_person"]
    assert Toolbox.from_file(None, signed).names() == []
    with pytest.raises(ToolsFileError, match="OPERATOR_SIGNING_SECRET is not set"):
        Toolbox.from_file(path, Settings(**base))  # type: ignore[arg-type]
