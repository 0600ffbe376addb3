"""The inbound message as Twilio posts it, reduced to the fields the pipeline uses."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.settings import get_settings

MAX_BODY_CHARS = 4096
# Twilio's shapes, lowercase hex as Twilio issues them. Checked before anything is stored: the
# signature joins names and values with no separator, so "MessageSid=<sid>NumMedia0" without
# NumMedia signs the same as the original, and a sid with spaces or over 128 characters is a
# deduplication id SQS refuses.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
# Twilio sends at most 10 media items per message (MediaUrl0..9, MediaContentType0..9).
MAX_MEDIA = 10
# Click-to-WhatsApp ad fields Twilio forwards (Referral*); kept as context for the first answer.
REFERRAL_FIELDS = ("ReferralBody", "ReferralHeadline", "ReferralSourceType", "ReferralSourceId",
                   "ReferralSourceUrl", "ReferralMediaContentType", "ReferralCtwaClid")
MAX_FIELD_CHARS = 1024  # any other free-text field we keep (address, label, button text, referral text)


@dataclass(frozen=True)
class Media:
    """One attachment as the signed webhook named it: Twilio's media URL and its content type."""

    url: str
    content_type: str

    @property
    def kind(self) -> str:
        """'audio', 'image', 'video', 'application', ... (the content type's top-level type)."""
        return self.content_type.split("/", 1)[0].lower()


@dataclass(frozen=True)
class Location:
    """A shared WhatsApp location (Latitude, Longitude, and the optional Address and Label)."""

    latitude: float
    longitude: float
    address: str = ""
    label: str = ""


class MalformedMessage(ValueError):
    """The webhook form lacks what every Twilio message carries."""


@dataclass(frozen=True)
class InboundMessage:
    message_sid: str
    account_sid: str
    sender: str  # Twilio's From: "+15551234567" or "whatsapp:+15551234567"
    recipient: str  # Twilio's To: the number (or WhatsApp sender) that received the message
    body: str
    user_id: str  # WaId, else ExternalUserId, else From: stable even when From is a WhatsApp username
    num_media: int = 0
    received_at: float = 0.0
    conversation: str = ""  # HMAC-keyed id from from_twilio_form; empty in records made before it existed
    # What else WhatsApp (and MMS) carry; all optional, so records stored before they existed still load.
    message_type: str = ""  # Twilio's MessageType (text, image, audio, location, button, ...), lowercased
    media: tuple[Media, ...] = ()
    location: Location | None = None
    button_text: str = ""  # ButtonText (quick reply), or ListTitle (list pick)
    button_payload: str = ""  # ButtonPayload, or ListId
    replied_to_sid: str = ""  # OriginalRepliedMessageSid: the message this one quotes
    referral: tuple[tuple[str, str], ...] = ()  # Referral* fields of a click-to-WhatsApp ad, by name
    profile_name: str = ""  # ProfileName: the name the user set in WhatsApp
    opt_out_type: str = ""  # OptOutType (STOP, START, HELP) when Twilio's opt-out handling saw a keyword

    @property
    def channel(self) -> str:
        """'whatsapp' or 'sms' (SMS and MMS): decides opt-out handling, the 24-hour window, typing."""
        return "whatsapp" if self.sender.startswith("whatsapp:") else "sms"

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
        if not 0 <= num_media <= MAX_MEDIA:
            raise MalformedMessage(f"NumMedia must be 0 to {MAX_MEDIA}")
        recipient = form.get("To", "").strip()
        # WaId first: a phone user's conversation must not split if Twilio starts sending ExternalUserId
        # for them too, and catch-up rebuilds the same id from Twilio's log (which has only From).
        user_id = (form.get("WaId") or form.get("ExternalUserId") or sender).strip()
        media = _media(form, num_media)
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
            message_type=(form.get("MessageType") or "").strip().lower()[:32],
            media=media,
            location=_location(form),
            button_text=_short(form.get("ButtonText") or form.get("ListTitle")),
            button_payload=_short(form.get("ButtonPayload") or form.get("ListId")),
            replied_to_sid=_replied_to(form),
            referral=tuple((name, _short(form[name])) for name in REFERRAL_FIELDS if form.get(name, "").strip()),
            profile_name=_short(form.get("ProfileName"))[:256],
            opt_out_type=(form.get("OptOutType") or "").strip().upper()[:16],
        )

    @property
    def conversation_id(self) -> str:
        """Opaque and stable per (our number, user); safe to show in logs and as an SQS group id."""
        return self.conversation or _legacy_conversation_id(self.recipient, self.user_id)

    def to_fields(self) -> dict[str, str]:
        """The record's hash fields; structured parts as JSON, absent ones left out."""
        fields = {
            "message_sid": self.message_sid, "account_sid": self.account_sid, "sender": self.sender,
            "recipient": self.recipient, "body": self.body, "user_id": self.user_id,
            "num_media": str(self.num_media), "received_at": str(self.received_at),
            "conversation": self.conversation, "message_type": self.message_type,
            "button_text": self.button_text, "button_payload": self.button_payload,
            "replied_to_sid": self.replied_to_sid, "profile_name": self.profile_name,
            "opt_out_type": self.opt_out_type,
        }
        if self.media:
            fields["media"] = json.dumps([[m.url, m.content_type] for m in self.media])
        if self.location is not None:
            loc = self.location
            fields["location"] = json.dumps([loc.latitude, loc.longitude, loc.address, loc.label])
        if self.referral:
            fields["referral"] = json.dumps(dict(self.referral))
        return fields

    @classmethod
    def from_fields(cls, data: Mapping[str, str]) -> InboundMessage:
        location = json.loads(data["location"]) if data.get("location") else None
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
            message_type=data.get("message_type", ""),
            media=tuple(Media(url, kind) for url, kind in json.loads(data.get("media") or "[]")),
            location=Location(*location) if location else None,
            button_text=data.get("button_text", ""),
            button_payload=data.get("button_payload", ""),
            replied_to_sid=data.get("replied_to_sid", ""),
            referral=tuple(json.loads(data.get("referral") or "{}").items()),
            profile_name=data.get("profile_name", ""),
            opt_out_type=data.get("opt_out_type", ""),
        )


def _short(value: str | None) -> str:
    return (value or "").strip()[:MAX_FIELD_CHARS]


def _media(form: Mapping[str, str], num_media: int) -> tuple[Media, ...]:
    """MediaUrl{i} and MediaContentType{i} for i < NumMedia; an item without a URL is malformed."""
    items = []
    for i in range(num_media):
        url = form.get(f"MediaUrl{i}", "").strip()
        if not url.startswith(("https://", "http://")) or len(url) > 2048:
            raise MalformedMessage(f"MediaUrl{i} is missing or not an http(s) URL")
        items.append(Media(url, (form.get(f"MediaContentType{i}") or "application/octet-stream").strip()[:128]))
    return tuple(items)


def _location(form: Mapping[str, str]) -> Location | None:
    latitude, longitude = form.get("Latitude", "").strip(), form.get("Longitude", "").strip()
    if not latitude and not longitude:
        return None
    try:
        lat, lon = float(latitude), float(longitude)
    except ValueError as exc:
        raise MalformedMessage("Latitude and Longitude must be numbers") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise MalformedMessage("Latitude or Longitude out of range")
    return Location(lat, lon, _short(form.get("Address")), _short(form.get("Label")))


def _replied_to(form: Mapping[str, str]) -> str:
    sid = (form.get("OriginalRepliedMessageSid") or "").strip()
    return sid if MESSAGE_SID.fullmatch(sid) else ""


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
