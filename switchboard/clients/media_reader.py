"""The media clients together (downloader, transcriber, the content types taken), built once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.clients.openai_client import Transcriber
from switchboard.clients.twilio_media import MediaFetcher
from switchboard.settings import Settings


@dataclass(frozen=True)
class MediaReader:
    """What switchboard.domain.media.read_media downloads and transcribes with, and which types it takes."""

    fetcher: MediaFetcher
    transcriber: Transcriber
    readable: frozenset[str]  # MEDIA_CONTENT_TYPES

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaReader | None:
        """None when MEDIA_ENABLED is false: media then become notes, and nothing is downloaded."""
        if not settings.media_enabled:
            return None
        return cls(MediaFetcher.from_settings(settings), Transcriber.from_settings(settings), settings.media_types)
