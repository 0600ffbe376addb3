"""Twilio's Message resource (as the SDK reads it) turned into the inbound message the webhook would have built."""

from __future__ import annotations

from typing import Any

from switchboard.domain.inbound import InboundMessage


def inbound_from_resource(resource: Any) -> InboundMessage:
    """The InboundMessage for an inbound Message resource (catch-up and rebuilding a lost record share it).

    Raises MalformedMessage when the resource lacks what every message carries.
    """
    return InboundMessage.from_twilio_form({
        "MessageSid": resource.sid or "",
        "AccountSid": resource.account_sid or "",
        "From": resource.from_ or "",
        "To": resource.to or "",
        "Body": resource.body or "",
        "NumMedia": str(resource.num_media or 0),
        # The webhook's WaId is the WhatsApp number without '+': derive it so both paths put the
        # message in the same conversation.
        "WaId": wa_id(resource.from_ or ""),
    }, received_at=resource.date_sent.timestamp() if resource.date_sent else None)


def wa_id(sender: str) -> str:
    if sender.startswith("whatsapp:"):
        return sender.removeprefix("whatsapp:").lstrip("+")
    return ""
