"""What the bot reads of a message's media: voice notes as transcripts, images for the model, PDF text, notes."""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass

import pypdf
from pypdf.errors import PyPdfError

from switchboard.clients.media_reader import MediaReader
from switchboard.clients.twilio_media import FetchedMedia, base_type, type_allowed
from switchboard.domain.inbound import Media
from switchboard.errors import PermanentError, TransientError
from switchboard.metrics import MEDIA_ITEMS
from switchboard.store import ConversationStore, StoredMessage

# MediaReader lives with the clients (services builds it); callers know it from here.
__all__ = ["DEFAULT_READABLE", "MediaContent", "MediaReader", "can_read", "read_media"]

log = logging.getLogger(__name__)

# What the bot takes unless MEDIA_CONTENT_TYPES says otherwise: voice notes and audio, photos, PDFs.
# AMR and AAC (some phones' recorders) are left out: OpenAI's transcription does not take them, so
# they get the polite "what I can take" answer instead of a failed transcription.
DEFAULT_READABLE = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/wav", "audio/webm",
                              "image/jpeg", "image/png", "image/webp", "application/pdf"})
# A PDF adds at most this much text to the user's turn (it is kept in the history like typed text).
PDF_MAX_PAGES = 10
PDF_MAX_CHARS = 4000
# OpenAI tells audio formats by the file name's extension.
_AUDIO_SUFFIXES = {"audio/ogg": "ogg", "audio/opus": "ogg", "audio/mpeg": "mp3", "audio/mp3": "mp3",
                   "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/aac": "aac", "audio/amr": "amr",
                   "audio/webm": "webm", "audio/wav": "wav", "audio/x-wav": "wav", "audio/flac": "flac"}
# Malformed PDFs make pypdf raise more than its own errors; each means "this file cannot be read".
_PDF_FAILURES = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError)


def can_read(content_type: str, allowed: frozenset[str]) -> bool:
    """Whether the bot takes media of this type (`allowed`: Settings.media_types, or DEFAULT_READABLE)."""
    return type_allowed(content_type, allowed)


@dataclass(frozen=True)
class MediaContent:
    """A message's media made ready for the model.

    text: what to add to the user's words (transcripts, PDF text, a bracketed note per item that is
    an image or could not be read, and why); images: base64 data: URLs; heard: the transcripts, for
    the optional 'I heard: …' line.
    """

    text: str = ""
    images: tuple[str, ...] = ()
    heard: str = ""


def read_media(store: ConversationStore, message: StoredMessage, reader: MediaReader | None,
               give_up_on_failure: bool) -> MediaContent:
    """Read every media item of the message, in order.

    A voice note is transcribed once: the transcript is stored on the message, so a retry or a
    redelivery reuses it. A TransientError (download or transcription) propagates so the step is
    retried, unless `give_up_on_failure` (the step's last attempt): then it becomes a note, and the
    user still gets an answer saying the media could not be read. A ConfigurationFault (Twilio
    refused our credentials) always propagates: the step waits for the fix, then reads the media.
    """
    texts: list[str] = []
    images: list[str] = []
    heard: list[str] = []
    for index, item in enumerate(message.inbound.media):
        kind = _kind(item)
        try:
            outcome = _read_one(store, message, index, item, kind, reader, texts, images, heard)
        except TransientError as exc:
            if not give_up_on_failure:
                MEDIA_ITEMS.labels(kind=kind, outcome="retry").inc()
                raise
            outcome = "failed"
            texts.append(_could_not(kind, "it could not be downloaded in time"))
            log.warning("media %s of seq %s (%s) given up: %s", index, message.seq, kind, exc)
        except PermanentError as exc:
            outcome = "failed"
            texts.append(_could_not(kind, str(exc)))
            log.warning("media %s of seq %s (%s) could not be read: %s", index, message.seq, kind, exc)
        MEDIA_ITEMS.labels(kind=kind, outcome=outcome).inc()
    return MediaContent("\n".join(texts), tuple(images), " ".join(heard))


def _read_one(store: ConversationStore, message: StoredMessage, index: int, item: Media, kind: str,
              reader: MediaReader | None, texts: list[str], images: list[str], heard: list[str]) -> str:
    """Read one item into texts/images/heard; returns the outcome for the metric."""
    if kind == "audio" and index in message.transcripts:
        _add_transcript(message.transcripts[index], texts, heard)
        return "cached"
    if reader is None:
        texts.append(f"[The user sent a {_NAMES[kind]}, but media cannot be opened here at the moment]")
        return "off"
    if kind == "other" or not can_read(item.content_type, reader.readable):
        texts.append(f"[The user sent a {_NAMES[kind]} ({base_type(item.content_type) or 'unknown type'}), "
                     "which this assistant cannot open]")
        return "unreadable"
    fetched = reader.fetcher.fetch(item.url)
    if kind == "audio":
        suffix = _AUDIO_SUFFIXES.get(fetched.content_type, "ogg")
        transcript = reader.transcriber.transcribe(f"voice-note-{index}.{suffix}", fetched.data, fetched.content_type)
        # Kept on the message before it is used, so no later attempt pays for it again.
        store.record_transcript(message, index, transcript)
        _add_transcript(transcript, texts, heard)
    elif kind == "image":
        images.append(_data_url(fetched))
        texts.append("[The user sent a photo]")
    else:
        texts.append(_pdf_text(fetched.data))
    return "read"


def _add_transcript(transcript: str, texts: list[str], heard: list[str]) -> None:
    if transcript:
        texts.append(transcript)
        heard.append(transcript)
    else:
        texts.append("[The user sent a voice note with no words in it]")


def _kind(item: Media) -> str:
    content_type = base_type(item.content_type)
    if content_type == "application/pdf":
        return "pdf"
    return item.kind if item.kind in ("audio", "image", "video") else "other"


_NAMES = {"audio": "voice note", "image": "photo", "pdf": "PDF", "video": "video", "other": "file"}
_VERBS = {"audio": "played", "image": "opened", "pdf": "read", "video": "played", "other": "opened"}


def _could_not(kind: str, reason: str) -> str:
    return f"[The user sent a {_NAMES[kind]} that could not be {_VERBS[kind]}: {reason}]"


def _data_url(fetched: FetchedMedia) -> str:
    return f"data:{fetched.content_type};base64,{base64.b64encode(fetched.data).decode('ascii')}"


def _pdf_text(data: bytes) -> str:
    """The PDF's text (its first pages, cut to PDF_MAX_CHARS) introduced by a note; raises PermanentError."""
    try:
        document = pypdf.PdfReader(io.BytesIO(data))
        if document.is_encrypted and not document.decrypt(""):
            raise PermanentError("it is password-protected")
        pages = document.pages
        text = "\n".join((page.extract_text() or "").strip() for page in pages[:PDF_MAX_PAGES]).strip()
        total = len(pages)
    except _PDF_FAILURES as exc:
        raise PermanentError("the file is damaged or not a PDF") from exc
    if not text:
        return "[The user sent a PDF with no text in it (it may be a scan)]"
    cut = len(text) > PDF_MAX_CHARS or total > PDF_MAX_PAGES
    shown = text[:PDF_MAX_CHARS].rstrip()
    return f"[The user sent a PDF; its text{' (the beginning)' if cut else ''} follows]\n{shown}{'…' if cut else ''}"
