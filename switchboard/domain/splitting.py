"""Split a long answer into SMS/WhatsApp-sized parts on paragraph, then sentence, then word boundaries."""

from __future__ import annotations

import re

TWILIO_MAX_BODY = 1600

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_message(text: str, limit: int = TWILIO_MAX_BODY) -> list[str]:
    """Return the parts of `text`, in order, each at most `limit` characters and none empty."""
    text = text.strip()
    if not text:
        return []
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        separator = piece[0]
        chunk = piece[1]
        candidate = f"{current}{separator}{chunk}" if current else chunk
        if len(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = chunk
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, limit: int) -> list[tuple[str, str]]:
    """Break text into (separator, chunk) pairs, each chunk at most `limit` long, finest split last."""
    pieces: list[tuple[str, str]] = []
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not paragraph:
            continue
        separator = "\n\n"
        if len(paragraph) <= limit:
            pieces.append((separator, paragraph))
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            for chunk in _hard_wrap(sentence, limit):
                pieces.append((separator, chunk))
                separator = " "
    return pieces


def _hard_wrap(sentence: str, limit: int) -> list[str]:
    """A sentence longer than the limit is cut between words, or mid-word if a word is too long."""
    if len(sentence) <= limit:
        return [sentence]
    chunks: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = word
    if current:
        chunks.append(current)
    return chunks
