"""What one chat line sends: text, or a voice note, photo, file or location, as Twilio's WhatsApp webhook has it.

    /voice PATH                 a voice note (MessageType=audio, no text)
    /photo PATH [caption]       a photo with an optional caption (MessageType=image)
    /file PATH [caption]        a document, e.g. a PDF (MessageType=document)
    /location LAT,LON [label]   a shared location (MessageType=location)

Anything else, /reset and /help included, is sent as text.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

USAGE = "Send /voice FILE, /photo FILE [caption], /file FILE [caption] or /location LAT,LON [label]; anything else is text."
# What each command sends when the file's name does not say its type.
_KINDS = {"/voice": ("audio", "audio/ogg"), "/photo": ("image", "image/jpeg"), "/file": ("document", "application/pdf")}


class BadLine(ValueError):
    """A media or location line the chat cannot send (no such file, not a coordinate)."""


@dataclass(frozen=True)
class Outgoing:
    """One message to post: its text, Twilio's MessageType, an attachment to upload first, and extra fields."""

    body: str
    message_type: str = "text"
    attachment: Path | None = None
    content_type: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def parse_line(line: str) -> Outgoing:
    command, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    if command in _KINDS:
        message_type, fallback = _KINDS[command]
        path_text, _, caption = rest.partition(" ")
        path = Path(path_text).expanduser()
        if not path_text or not path.is_file():
            raise BadLine(f"{command}: no such file: {path_text or '(none given)'}")
        guessed = (mimetypes.guess_type(path.name)[0] or fallback).lower()
        # A voice note carries no text on WhatsApp; a photo or file may carry a caption.
        return Outgoing("" if command == "/voice" else caption.strip(), message_type, path, guessed)
    if command == "/location":
        return _location(rest)
    return Outgoing(line.strip())


def _location(rest: str) -> Outgoing:
    coordinates, _, label = rest.partition(" ")
    try:
        latitude, longitude = (float(part) for part in coordinates.split(","))
    except ValueError:
        raise BadLine("/location: expected LAT,LON, e.g. /location 52.52,13.405 Alexanderplatz") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadLine("/location: latitude -90..90, longitude -180..180")
    fields = {"Latitude": str(latitude), "Longitude": str(longitude)}
    if label.strip():
        # WhatsApp names a chosen place in Label (and its street in Address); a dropped pin has neither.
        fields["Label"] = label.strip()
    return Outgoing("", "location", fields=fields)


def webhook_fields(outgoing: Outgoing, media_url: str | None = None) -> dict[str, str]:
    """The fields Twilio adds for this message's kind (merged into the signed form)."""
    fields = {"MessageType": outgoing.message_type, "NumMedia": "1" if media_url else "0", **outgoing.fields}
    if media_url:
        fields.update(MediaUrl0=media_url, MediaContentType0=outgoing.content_type)
    return fields
