"""What the page's composer sends, read as the terminal chat reads its lines (localdev/chat_lines.py).

A picked file is kept under the dev phone's upload directory (the page shows it in the bubble) and
named by a fresh id plus its suffix, so the chat's `/voice PATH`, `/photo PATH [caption]` and
`/file PATH [caption]` parse it, guessing the content type from the suffix as they do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from localdev.chat_lines import BadLine, Outgoing, parse_line

MEDIA_KINDS = ("voice", "photo", "file")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


class Upload(Protocol):
    """A picked file (werkzeug's FileStorage)."""

    filename: str | None

    def save(self, dst: str) -> None: ...


def composed(form: Mapping[str, str], upload: Upload | None, upload_dir: Path) -> tuple[Outgoing, Path | None]:
    """(what to send, the saved file if any); raises BadLine for something the chat could not send either."""
    kind = form.get("kind", "text")
    text = form.get("text", "").strip()
    if kind == "text":
        if not text:
            raise BadLine("type a message first")
        return Outgoing(text), None
    if kind == "location":
        latitude, longitude = form.get("latitude", "").strip(), form.get("longitude", "").strip()
        return parse_line(f"/location {latitude},{longitude} {form.get('label', '')}"), None
    if kind not in MEDIA_KINDS:
        raise BadLine(f"unknown kind {kind!r}: text, location, {', '.join(MEDIA_KINDS)}")
    if upload is None or not upload.filename:
        raise BadLine(f"{kind}: choose a file first")
    suffix = Path(upload.filename).suffix.lower()
    saved = upload_dir / f"{uuid.uuid4().hex}{suffix if _SUFFIX.match(suffix) else ''}"
    upload.save(str(saved))
    return parse_line(f"/{kind} {saved} {text}"), saved


def upload_directory(path: Path) -> Path:
    """Make the upload directory; its path must have no whitespace, since the chat's lines split on spaces."""
    if re.search(r"\s", str(path)):
        raise ValueError(f"the dev phone's upload directory must have no spaces in its path: {path}")
    path.mkdir(parents=True, exist_ok=True)
    return path
