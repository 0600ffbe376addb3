"""Twilio's Message resource (as the SDK reads it) turned into the inbound message the webhook would have built."""

from __future__ import annotations

from typing import Any

from switchboard.domain.inbound import InboundMessage


def inbound_from_resource(resource: Any) -> InboundMessage:
    """The InboundMessage for an inbound Message resource (catch-up and rebuilding a lost record share it).

    Raises MalformedMessage when the resource lacks what every message carries.
    """
    sender = resource.from_ or ""
    return InboundMessage.from_twilio_form({
        "MessageSid": resource.sid or "",
        "AccountSid": resource.account_sid or "",
        "From": sender,
        "To": resource.to or "",
        "Body": resource.body or "",
        "NumMedia": str(resource.num_media or 0),
        # The resource has only `from_`; rebuild the webhook's sender fields from it, so both paths
        # derive the same user_id and put the message in the same conversation.
        **sender_fields(sender),
    }, received_at=resource.date_sent.timestamp() if resource.date_sent else None)


def sender_fields(sender: str) -> dict[str, str]:
    """The webhook's WaId or ExternalUserId for a `From`, as Twilio sends them.

    A WhatsApp phone number comes with WaId, the number without '+'. A sender known only by a
    WhatsApp username has no phone: Twilio puts its business-scoped user id in From
    ('whatsapp:US.1349…') and sends the same value, channel prefix included, as ExternalUserId.
    SMS carries neither (the user id is From itself).
    """
    if not sender.startswith("whatsapp:"):
        return {}
    number = sender.removeprefix("whatsapp:")
    if number.lstrip("+").isdigit():
        return {"WaId": number.lstrip("+")}
    return {"ExternalUserId": sender}

