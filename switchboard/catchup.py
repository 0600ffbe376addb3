"""Find inbound messages Twilio holds that this deployment never accepted, and accept them now."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from switchboard.acceptance import Outcome, accept
from switchboard.inbound import InboundMessage
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)


def inbound_since(twilio: Any, since: datetime, to: str | None = None) -> list[InboundMessage]:
    """Inbound messages from the Twilio REST API, oldest first (the webhook's order)."""
    filters: dict[str, Any] = {"date_sent_after": since}
    if to:
        filters["to"] = to
    found = []
    for resource in twilio.messages.list(**filters):
        if resource.direction != "inbound":
            continue
        found.append(InboundMessage.from_twilio_form({
            "MessageSid": resource.sid,
            "AccountSid": resource.account_sid or "",
            "From": resource.from_ or "",
            "To": resource.to or "",
            "Body": resource.body or "",
            "NumMedia": str(resource.num_media or 0),
            # The webhook's WaId is the WhatsApp number without '+': derive it so both paths
            # put the message in the same conversation.
            "WaId": _wa_id(resource.from_ or ""),
        }, received_at=resource.date_sent.timestamp() if resource.date_sent else None))
    found.sort(key=lambda message: message.received_at)
    return found


def catch_up(store: ConversationStore, messages: list[InboundMessage],
             hand_over: Callable[[str, str], bool]) -> dict[Outcome, int]:
    counts = dict.fromkeys(Outcome, 0)
    for message in messages:
        counts[accept(store, message, hand_over)] += 1
    return counts


def _wa_id(sender: str) -> str:
    if sender.startswith("whatsapp:"):
        return sender.removeprefix("whatsapp:").lstrip("+")
    return ""
