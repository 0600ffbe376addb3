"""The built-in tool hand_off_to_person: it pauses the asking message's conversation, whatever the model passes."""

from __future__ import annotations

from collections.abc import Callable

from switchboard.domain.conversation import run_intake
from switchboard.domain.handoff import HandoffPolicy, is_paused
from switchboard.domain.handoff_tool import TOOL_NAME, TOOL_RESULT, handoff_tool
from switchboard.domain.inbound import InboundMessage
from switchboard.store import ConversationStore, StoredMessage
from switchboard.tools.identity import Identity
from switchboard.tools.toolbox import Toolbox
from tests.switchboard.domain.test_handoff import FakeNotifier

Make = Callable[..., InboundMessage]


def taken_in(store: ConversationStore, inbound: InboundMessage) -> StoredMessage:
    assert store.accept(inbound) is not None
    run_intake(store, inbound.message_sid)
    message = store.load(inbound.message_sid)
    assert message is not None
    return message


def test_the_tool_pauses_the_conversation_of_the_message_being_answered_and_tells_the_operator(
        store: ConversationStore, make_inbound: Make) -> None:
    message = taken_in(store, make_inbound("I want my money back, now"))
    other = taken_in(store, make_inbound("hi", sender="whatsapp:+15550001111"))
    notifier = FakeNotifier()
    tool = handoff_tool(store, HandoffPolicy(600, notifier))

    result = tool.run({"reason": "  wants\na refund ", "conversation": other.conversation},
                      Identity.from_message(message))

    assert result == TOOL_RESULT
    assert is_paused(store, message.conversation) and not is_paused(store, other.conversation)
    pause = store.pause_of(message.conversation)
    assert pause is not None and (pause.source, pause.reason) == ("tool", "wants a refund")
    [notice] = notifier.calls
    assert (notice.source, notice.recent_messages) == ("tool", ["I want my money back, now"])
    assert tool.run({"reason": "again"}, Identity.from_message(message)) == TOOL_RESULT  # a rerun: one notice
    assert len(notifier.calls) == 1


def test_the_toolbox_offers_it_to_the_model_like_a_declared_tool(store: ConversationStore) -> None:
    toolbox = Toolbox(local=[handoff_tool(store, HandoffPolicy())])

    [definition] = toolbox.definitions()

    assert definition["function"]["name"] == TOOL_NAME
    assert definition["function"]["parameters"]["required"] == ["reason"]
