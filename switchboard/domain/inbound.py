"""The inbound message as Twilio posts it, reduced to the fields the pipeline uses."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from switchboard.settings import get_settings

MAX_BODY_CHARS = 4096
# Twilio's shapes, lowercase hex as Twilio issues them. Checked before anything is stored: the
# signature joins names and values with no separator, so "MessageSid=<sid>NumMedia0" without
# NumMedia signs the same as the original, and a sid with spaces or over 128 characters is a
# deduplication id SQS refuses.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")


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
    conversation: str = ""  # HMAC-keyed id from from_twilio_form; empty in records made before it existed

    @classmethod
    def from_twilio_form(cls, form: Mapping[str, str], received_at: float | None = None, *,
                         conversation_key: bytes | None = None) -> InboundMessage:
        """Parse Twilio's form; `conversation_key` (Settings.conversation_key()) defaults to the process's."""
        missing = [name for name in ("MessageSid", "AccountSid", "From") if not form.get(name, "").strip()]
        if missing:
            raise MalformedMessage("missing " + ", ".join(missing))
        if not MESSAGE_SID.fullmatch(form["MessageSid"]):
            raise MalformedMessage("MessageSid is not a Twilio message SID")
        if not ACCOUNT_SID.fullmatch(form["AccountSid"]):
            raise MalformedMessage("AccountSid is not a Twilio account SID")
        if conversation_key is None:
            conversation_key = get_settings().conversation_key()
        sender = form["From"].strip()
        try:
            num_media = int(form.get("NumMedia") or 0)
        except ValueError as exc:
            raise MalformedMessage("NumMedia is not a number") from exc
        recipient = form.get("To", "").strip()
        user_id = (form.get("ExternalUserId") or form.get("WaId") or sender).strip()
        return cls(
            message_sid=form["MessageSid"],
            account_sid=form["AccountSid"],
            sender=sender,
            recipient=recipient,
            body=form.get("Body", "")[:MAX_BODY_CHARS],
            user_id=user_id,
            num_media=num_media,
            received_at=time.time() if received_at is None else received_at,
            conversation=conversation_id_for(conversation_key, recipient, user_id),
        )

    @property
    def conversation_id(self) -> str:
        """Opaque and stable per (our number, user); safe to show in logs and as an SQS group id."""
        return self.conversation or _legacy_conversation_id(self.recipient, self.user_id)

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
            conversation=data.get("conversation", ""),
        )


def conversation_id_for(key: bytes, recipient: str, user_id: str) -> str:
    """HMAC-SHA256 of (our number, user): without the key, phone numbers cannot be guessed back out."""
    return hmac.new(key, f"{recipient}|{user_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _legacy_conversation_id(recipient: str, user_id: str) -> str:
    # Records stored before conversation ids were keyed keep the id their conversation keys use.
    return hashlib.sha256(f"{recipient}|{user_id}".encode()).hexdigest()[:24]


def mask_phone(value: str) -> str:
    """'whatsapp:+15551234567' → 'whatsapp:+1555***67', for logs."""
    channel, _, number = value.rpartition(":")
    if len(number) <= 6:
        masked = "***"
    else:
        masked = number[:5] + "***" + number[-2:]
    return f"{channel}:{masked}" if channel else masked
