"""One knowledge file as text: Markdown and plain text as written, a PDF's text through pypdf."""

from __future__ import annotations

import io

import pypdf
from pypdf.errors import PyPdfError

# What a knowledge folder may hold; any other file is listed as skipped and left out.
TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
PDF_SUFFIX = ".pdf"
READABLE_SUFFIXES = TEXT_SUFFIXES | {PDF_SUFFIX}
# Malformed PDFs make pypdf raise more than its own errors; each means "this file cannot be read".
_PDF_FAILURES = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError)


class UnreadableDocument(Exception):
    """The file cannot be turned into text (a damaged or password-protected PDF); the folder goes on without it."""


def document_text(name: str, data: bytes) -> str:
    """The text of a file called `name` (its suffix says how to read it), with tidy line ends.

    Tidy so that the same file always gives the same text: no BOM, no carriage returns, no trailing
    spaces. A stable text is what keeps the prompt's prefix identical between runs (prompt caching).
    """
    if name.lower().endswith(PDF_SUFFIX):
        text = _pdf_text(data)
    else:
        # A stray byte in an operator's text file costs one replacement character, not the whole file.
        text = data.decode("utf-8-sig", errors="replace")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _pdf_text(data: bytes) -> str:
    try:
        document = pypdf.PdfReader(io.BytesIO(data))
        if document.is_encrypted and not document.decrypt(""):
            raise UnreadableDocument("it is password-protected")
        # Pages apart by a blank line, so a page break also ends a passage's paragraph.
        return "\n\n".join((page.extract_text() or "").strip() for page in document.pages)
    except _PDF_FAILURES as exc:
        raise UnreadableDocument("the PDF is damaged or not a PDF") from exc
