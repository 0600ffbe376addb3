"""Media (issue 11): voice notes, photos and PDFs, fetched from Twilio and read."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator


class MediaSettings(BaseModel):
    # false: nothing is downloaded; the model is told a voice note or photo could not be read.
    media_enabled: bool = True
    # Where Twilio's media URLs may redirect (host, *.domain, optionally :port); no credentials go there.
    twilio_media_redirect_hosts: str = "*.twiliocdn.com,s3-external-1.amazonaws.com"
    # The largest file downloaded. WhatsApp caps audio at 16 MB; OpenAI transcribes at most 25 MB.
    media_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=25 * 1024 * 1024)
    # Content types the bot reads (comma-separated); anything else gets the "what I can take" answer.
    media_content_types: str = ("audio/ogg,audio/mpeg,audio/mp4,audio/wav,audio/webm,"
                                "image/jpeg,image/png,image/webp,application/pdf")
    # Connect and read timeout of each media request; a whole download gets at most three times this.
    media_timeout_seconds: float = Field(default=10.0, gt=0)
    # true: an answer to a voice note starts with 'I heard: "…"', so a mis-hearing shows.
    voice_echo_transcript: bool = False

    @field_validator("twilio_media_redirect_hosts")
    @classmethod
    def _hosts_are_hosts(cls, value: str) -> str:
        bad = [h for h in _split_lower(value) if not re.fullmatch(r"(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?", h)]
        if bad:
            raise ValueError(f"not a host, *.domain or host:port: {', '.join(bad)}")
        return value

    @field_validator("media_content_types")
    @classmethod
    def _types_are_content_types(cls, value: str) -> str:
        bad = [t for t in _split_lower(value) if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*/([a-z0-9][a-z0-9.+-]*|\*)", t)]
        if bad:
            raise ValueError(f"not content types (type/subtype or type/*): {', '.join(bad)}")
        return value

    @property
    def media_redirect_hosts(self) -> tuple[str, ...]:
        return tuple(_split_lower(self.twilio_media_redirect_hosts))

    @property
    def media_types(self) -> frozenset[str]:
        """MEDIA_CONTENT_TYPES as a set, for switchboard.domain.media.can_read."""
        return frozenset(_split_lower(self.media_content_types))

    def readable_media(self) -> frozenset[str]:
        """What intake treats as media the bot can take: none while MEDIA_ENABLED is off (the polite answer)."""
        return self.media_types if self.media_enabled else frozenset()


def _split_lower(value: str) -> list[str]:
    # Compared lowercased, as DNS names and MIME types are.
    return [item.strip().lower() for item in value.split(",") if item.strip()]
