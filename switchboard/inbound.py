"""The inbound message as Twilio posts it, reduced to the fields the pipeline uses."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass

MAX_BODY_CHARS = 4096


class MalformedMessage(ValueError):
    """The webhook form lacks what every Twilio message carries."""


@dataclass(frozen=True)
class InboundMessage:
    message_sid: str
    account_sid: str
    sender: str  # Twilio's From: "+15551234567" or "whatsapp:+15551234567"
    recipient: str  # Twilio's To: the number (or WhatsApp sender) that received the message
    body: str
    user_id: str  # ExternalUserId, else WaId, else From: stable even when From is a WhatsApp username
    num_media: int = 0
    received_at: float = 0.0

    @classmethod
    def from_twilio_form(cls, form: Mapping[str, str], received_at: float | None = None) -> InboundMessage:
        missing = [name for name in ("MessageSid", "From") if not form.get(name, "").strip()]
        if missing:
            raise MalformedMessage("missing " + ", ".join(missing))
        sender = form["From"].strip()
        try:
            num_media = int(form.get("NumMedia") or 0)
        except ValueError as exc:
            raise MalformedMessage("NumMedia is not a number") from exc
        return cls(
            message_sid=form["MessageSid"].strip(),
            account_sid=form.get("AccountSid", "").strip(),
            sender=sender,
            recipient=form.get("To", "").strip(),
            body=form.get("Body", "")[:MAX_BODY_CHARS],
            user_id=(form.get("ExternalUserId") or form.get("WaId") or sender).strip(),
            num_media=num_media,
            received_at=time.time() if received_at is None else received_at,
        )

    @property
    def conversation_id(self) -> str:
        """Opaque and stable per (our number, user); safe to show in logs and as an SQS group id."""
        digest = hashlib.sha256(f"{self.recipient}|{self.user_id}".encode()).hexdigest()
        return digest[:24]

    def to_fields(self) -> dict[str, str]:
        return {name: str(value) for name, value in asdict(self).items()}

    @classmethod
    def from_fields(cls, data: Mapping[str, str]) -> InboundMessage:
        return cls(
            message_sid=data["message_sid"],
            account_sid=data["account_sid"],
            sender=data["sender"],
            recipient=data["recipient"],
            body=data["body"],
            user_id=data["user_id"],
            num_media=int(data.get("num_media", 0)),
            received_at=float(data.get("received_at", 0.0)),
        )


def mask_phone(value: str) -> str:
    """'whatsapp:+15551234567' → 'whatsapp:+1555***67', for logs."""
    channel, _, number = value.rpartition(":")
    if len(number) <= 6:
        masked = "***"
    else:
        masked = number[:5] + "***" + number[-2:]
    return f"{channel}:{masked}" if channel else masked
