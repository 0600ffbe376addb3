"""Tools (issue 14): the operator's HTTP APIs and built-in tools the model may call, with the sender's identity.

docs/tools.md is the operator's side. The modules, bottom up: identity (who asks, from the signed webhook),
signing (the signature operators check), arguments and urls (the model's arguments checked and placed),
toolbox (LocalTool, Toolbox), http_executor (ToolExecutor, HttpToolExecutor), ledger (ToolLedger, Redis and
memory), loop (run_with_tools). The TOOLS_FILE format is read in switchboard.settings.tool_declarations,
which the start-up check shares.
"""

from __future__ import annotations

from switchboard.settings.tool_declarations import ToolDeclaration, ToolsFileError, read_tools_file
from switchboard.tools.assistant_turn import AssistantTurn, ToolCall
from switchboard.tools.http_executor import HttpToolExecutor, ToolExecutor
from switchboard.tools.identity import Identity
from switchboard.tools.ledger import MemoryToolLedger, RedisToolLedger, ToolLedger
from switchboard.tools.loop import TurnCompleter, run_with_tools
from switchboard.tools.toolbox import LocalTool, Toolbox

__all__ = ["AssistantTurn", "HttpToolExecutor", "Identity", "LocalTool", "MemoryToolLedger", "RedisToolLedger",
           "ToolCall", "ToolDeclaration", "ToolExecutor", "ToolLedger", "ToolsFileError", "Toolbox", "TurnCompleter",
           "read_tools_file", "run_with_tools"]
