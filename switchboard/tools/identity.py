"""Who is asking: the sender's identity as the signed webhook gave it, which every tool call carries."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.store.records import StoredMessage


@dataclass(frozen=True)
class Identity:
    """Who is asking, as the signed webhook gave it; never from the model."""

    user_id: str  # StoredMessage.inbound.user_id (WaId, else ExternalUserId, else From)
    sender: str  # inbound.sender, Twilio's From (e.g. "whatsapp:+15551234567")
    conversation: str  # the conversation id (StoredMessage.conversation)
    message_sid: str  # the inbound MessageSid
    bot_number: str  # inbound.recipient, Twilio's To (the receiving number)

    @classmethod
    def from_message(cls, message: StoredMessage) -> Identity:
        inbound = message.inbound
        return cls(user_id=inbound.user_id, sender=inbound.sender, conversation=message.conversation,
                   message_sid=inbound.message_sid, bot_number=inbound.recipient)
