"""What a message says beyond its Body, as text the model reads: location, button, quoted message, ad."""

from __future__ import annotations

import logging

from switchboard.clients.twilio_client import ReplySender
from switchboard.domain.inbound import InboundMessage
from switchboard.domain.splitting import split_message
from switchboard.errors import ConfigurationFault, PermanentError, TransientError
from switchboard.store import ConversationStore

log = logging.getLogger(__name__)

QUOTE_MAX_CHARS = 500
_REFERRAL_LABELS = {"ReferralHeadline": "headline", "ReferralBody": "text", "ReferralSourceUrl": "link",
                    "ReferralSourceType": "type"}


def describe(inbound: InboundMessage, quoted: str = "") -> str:
    """The user's words with the structured parts of the message as short bracketed notes, in reading order."""
    notes = []
    if quoted:
        notes.append(f'[Replying to: "{quoted}"]')
    if inbound.referral:
        fields = dict(inbound.referral)
        said = "; ".join(f"{label}: {fields[name]}" for name, label in _REFERRAL_LABELS.items() if fields.get(name))
        notes.append(f"[The user opened this chat from an ad ({said})]" if said
                     else "[The user opened this chat from an ad]")
    if inbound.location is not None:
        place = inbound.location
        named = ", ".join(part for part in (place.label, place.address) if part)
        notes.append(f"[The user shared a location: {named + ' ' if named else ''}"
                     f"(latitude {place.latitude:.6f}, longitude {place.longitude:.6f})]")
    if inbound.button_text or inbound.button_payload:
        payload = f" (option id: {inbound.button_payload})" if inbound.button_payload else ""
        notes.append(f'[The user tapped the option "{inbound.button_text or inbound.button_payload}"{payload}]')
    body = inbound.body.strip()
    # WhatsApp repeats a tapped button's text as the Body: said once, in the note.
    if body and body != inbound.button_text:
        notes.append(body)
    return "\n".join(notes)


def quoted_text(store: ConversationStore, replies: ReplySender | None, sid: str) -> str:
    """The text of the message a reply quotes: ours (a part we sent), the user's own, or Twilio's copy.

    Best effort: a quote we cannot read leaves the message without it, never holds it up.
    """
    if not sid:
        return ""
    delivery = store.delivery(sid)
    if delivery.get("message_sid"):
        answered = store.load(delivery["message_sid"])
        parts = split_message(answered.answer or "") if answered else []
        index = int(delivery.get("part", 0))
        if index < len(parts):
            return _clip(parts[index])
    own = store.load(sid)
    if own is not None:
        return _clip(own.inbound.body or " ".join(own.transcripts[i] for i in sorted(own.transcripts)))
    if replies is None:
        return ""
    try:
        found = replies.fetch_message(sid)
    except (TransientError, PermanentError, ConfigurationFault) as exc:
        log.warning("the quoted message could not be read from Twilio (%s); answering without it", exc)
        return ""
    return _clip(str(getattr(found, "body", "") or "")) if found is not None else ""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_MAX_CHARS else text[: QUOTE_MAX_CHARS - 1] + "…"
