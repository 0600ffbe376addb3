"""A knowledge folder read in a stable order: its files' texts, what was left out, and a hash of its contents."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from switchboard.knowledge.documents import READABLE_SUFFIXES, UnreadableDocument, document_text

# What a quick look at the folder sees: each file's relative path, size and modification time.
Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the folder, with forward slashes: the file's heading in the prompt
    text: str


@dataclass(frozen=True)
class Corpus:
    """Everything the folder says, file by file in sorted order, and a hash that changes when any file does."""

    root: Path
    files: tuple[SourceFile, ...]
    skipped: tuple[tuple[str, str], ...]  # (relative path, why it was left out)
    content_hash: str  # over every file's path, size and content hash


def folder_files(root: Path) -> list[tuple[str, Path]]:
    """(relative path, path) of every file under `root`, sorted by relative path; hidden ones left out."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        # .git, editors' swap files, macOS's .DS_Store: none of them is the operator's text.
        if any(part.startswith(".") for part in relative.split("/")) or not path.is_file():
            continue
        found.append((relative, path))
    # Sorted on the relative path's text, not by the file system's order, so every host and run agrees.
    return sorted(found)


def signature(root: Path) -> Signature:
    """A cheap look at the folder (no file is read): when it is unchanged, so are the files."""
    looked = []
    for relative, path in folder_files(root):
        stat = path.stat()
        looked.append((relative, stat.st_size, stat.st_mtime_ns))
    return tuple(looked)


def read_corpus(root: Path) -> Corpus:
    """Read every file of the folder; a file that cannot be read is listed in `skipped`, not raised."""
    files, skipped = [], []
    digest = hashlib.sha256()
    for relative, path in folder_files(root):
        data = path.read_bytes()
        digest.update(f"{relative}\0{len(data)}\0{hashlib.sha256(data).hexdigest()}\n".encode())
        if path.suffix.lower() not in READABLE_SUFFIXES:
            skipped.append((relative, "not a .md, .txt or .pdf file"))
            continue
        try:
            text = document_text(relative, data)
        except UnreadableDocument as exc:
            skipped.append((relative, str(exc)))
            continue
        if not text:
            skipped.append((relative, "no text in it (a scanned PDF has none)"))
            continue
        files.append(SourceFile(relative, text))
    return Corpus(root, tuple(files), tuple(skipped), digest.hexdigest())
