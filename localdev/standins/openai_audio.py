"""The OpenAI stand-in's audio transcription: what it accepts, and a transcript a test controls."""

from __future__ import annotations

from pathlib import PurePosixPath

# The formats OpenAI's transcription endpoint names in its "Invalid file format" answer; it tells
# them by the file name's extension, so a client that sends none is refused, as by OpenAI.
SUPPORTED_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
MAX_FILE_BYTES = 25 * 1024 * 1024
# Real audio is not text: the stand-in "hears" a fixed sentence that names its size.
NOT_TEXT = "(the stand-in heard {size} bytes of audio)"


def format_refusal(filename: str) -> str | None:
    """OpenAI's message when the file name does not say a supported format; None when it does."""
    if PurePosixPath(filename).suffix.lower().lstrip(".") in SUPPORTED_FORMATS:
        return None
    return f"Invalid file format. Supported formats: {list(SUPPORTED_FORMATS)}"


def transcript_of(data: bytes) -> str:
    """The uploaded bytes decoded as UTF-8 when they are text, so a test chooses what is "said"."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT.format(size=len(data))
    if not text.strip() and data:
        return ""  # only whitespace: silence
    if any(not (ch.isprintable() or ch.isspace()) for ch in text):
        return NOT_TEXT.format(size=len(data))
    return text.strip()
