"""Fixtures for the tools tests: a sender's identity, tools files written from YAML, the signing secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.settings.tool_declarations import ToolDeclaration, read_tools_file
from switchboard.tools import Identity, Toolbox

SECRET = b"test-operator-signing-secret"
ASKER = Identity(user_id="15551234567", sender="whatsapp:+15551234567", conversation="c0nv3rsat10n",
                 message_sid="SM" + "1" * 32, bot_number="whatsapp:+15550000000")
ANOTHER_PERSON = "15559998888"

ToolsFrom = Callable[..., list[ToolDeclaration]]


@pytest.fixture
def tools_from(tmp_path: Path) -> ToolsFrom:
    """The declarations of a tools file with this YAML text (environment: `environ`, default none)."""

    def read(text: str, environ: dict[str, str] | None = None) -> list[ToolDeclaration]:
        path = tmp_path / "tools.yaml"
        path.write_text(text, encoding="utf-8")
        return read_tools_file(path, environ or {})

    return read


def one_tool(url: str, method: str = "GET", parameters: str = "{type: object, properties: {}}",
             headers: str = "{}", timeout: float = 2) -> str:
    return f"""
tools:
  - name: lookup
    description: Looks up the asking person's registration
    method: {method}
    url: "{url}"
    parameters: {parameters}
    headers: {headers}
    timeout_seconds: {timeout}
"""


@pytest.fixture
def toolbox_from(tools_from: ToolsFrom) -> Callable[..., Toolbox]:
    def make(text: str, environ: dict[str, str] | None = None) -> Toolbox:
        return Toolbox(tools_from(text, environ))

    return make
