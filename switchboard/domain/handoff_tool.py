"""The built-in tool hand_off_to_person (issue 14): the model hands the conversation to a person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.domain.handoff import HandoffPolicy, pause
from switchboard.domain.turns import load
from switchboard.store import ConversationStore
from switchboard.tools.identity import Identity
from switchboard.tools.toolbox import LocalTool

TOOL_NAME = "hand_off_to_person"
TOOL_DESCRIPTION = (
    "Hand this conversation to a person from our team. Call it when the user asks for a human, or when you "
    "cannot help them and a person could. After it, tell the user in one short sentence that a person will "
    "answer here, and that they can send /bot to talk to you again.")
TOOL_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "Why a person is needed, in a few words"}},
    "required": ["reason"],
    "additionalProperties": False,
}
TOOL_RESULT = ("Done: a person from the team has been asked to take over and will answer here. Tell the user so "
               "briefly, and that they can send /bot to talk to you again. Do not answer their request yourself.")
REASON_MAX_CHARS = 200


def handoff_tool(store: ConversationStore, policy: HandoffPolicy) -> LocalTool:
    """The built-in tool hand_off_to_person: pauses the asking message's conversation (never another one)."""

    def run(arguments: Mapping[str, Any], identity: Identity) -> str:
        # The conversation comes from the signed webhook (identity), never from the model's arguments.
        message = load(store, identity.message_sid)
        reason = " ".join(str(arguments.get("reason") or "").split())[:REASON_MAX_CHARS] or "the model handed off"
        pause(store, message, reason, policy, source="tool")
        return TOOL_RESULT

    return LocalTool(name=TOOL_NAME, description=TOOL_DESCRIPTION, parameters=TOOL_PARAMETERS, run=run)
