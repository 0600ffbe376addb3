"""Passages: a folder's text cut at Markdown headings and paragraphs into pieces of bounded size, for retrieval."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from switchboard.knowledge.folder import SourceFile
from switchboard.tokens import BYTES_PER_TOKEN, count_text

# Small enough that a few fill a prompt with what the question is about and little else, large enough
# that a passage is a whole answer (a fee table, a list of documents) rather than half a sentence.
PASSAGE_MAX_TOKENS = 300
# Bumped whenever passages are cut differently, so indexes built the old way are not reused (it is in the
# fingerprint): their vectors belong to the old passages.
PASSAGES_VERSION = "1"
TITLE_SEPARATOR = " > "

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")  # no headings inside a code block: `# comment` is not one
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# How a piece too long for one passage is cut: between sentences, else between words.
_FINER_CUTS = (re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+"))


@dataclass(frozen=True)
class Passage:
    title: str  # the file and the headings it sits under: "fees.md > Fees > Late registration"
    text: str

    def searchable(self) -> str:
        """What retrieval matches a question against: the headings say as much as the text."""
        return f"{self.title}\n{self.text}"


def split_passages(files: Sequence[SourceFile], max_tokens: int = PASSAGE_MAX_TOKENS) -> list[Passage]:
    """Every file's sections (a heading and what follows it) as passages of at most `max_tokens`, in order."""
    passages: list[Passage] = []
    for file in files:
        for headings, body in _sections(file.text):
            title = TITLE_SEPARATOR.join([file.path, *headings])
            passages.extend(Passage(title, chunk) for chunk in _chunks(body, max_tokens))
    return passages


def _sections(text: str) -> Iterator[tuple[list[str], str]]:
    """(heading path, body) of each section; a heading replaces those of its level and below."""
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        yield [title for _, title in path], "\n".join(lines)
        level = len(heading.group(1))
        path = [(above, title) for above, title in path if above < level] + [(level, heading.group(2))]
        lines = []
    yield [title for _, title in path], "\n".join(lines)


def _chunks(body: str, max_tokens: int) -> list[str]:
    """The section's paragraphs packed into passages; a paragraph too long for one is cut finer."""
    pieces = [piece for paragraph in _PARAGRAPH_BREAK.split(body) if paragraph.strip()
              for piece in _pieces(paragraph.strip(), max_tokens)]
    return _pack(pieces, "\n\n", max_tokens)


def _pieces(text: str, max_tokens: int) -> list[str]:
    if count_text(text) <= max_tokens:
        return [text]
    for cut in _FINER_CUTS:
        parts = [part for part in cut.split(text) if part]
        if len(parts) > 1:
            return _pack([piece for part in parts for piece in _pieces(part, max_tokens)], " ", max_tokens)
    # One unbroken run (a long URL): cut into pieces as long as fit, never inside a character.
    pieces, rest, limit = [], text, max_tokens * BYTES_PER_TOKEN
    while rest:
        piece = rest.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore") or rest[0]
        pieces.append(piece)
        rest = rest[len(piece):]
    return pieces


def _pack(pieces: list[str], joiner: str, max_tokens: int) -> list[str]:
    """Consecutive pieces joined while they fit `max_tokens` together."""
    packed: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if current and count_text(joiner.join([*current, piece])) > max_tokens:
            packed.append(joiner.join(current))
            current = []
        current.append(piece)
    if current:
        packed.append(joiner.join(current))
    return packed
