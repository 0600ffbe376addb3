"""Reading a knowledge folder: Markdown, text and PDF in sorted order, the same bytes every run, a hash of it."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pypdf

from switchboard.knowledge.folder import read_corpus, signature
from switchboard.knowledge.instruction import whole_facts
from tests.switchboard.domain.test_media import make_pdf


def write(root: Path, relative: str, data: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def locked_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_markdown_text_and_pdf_files_are_read_in_sorted_order_of_their_relative_paths(tmp_path: Path) -> None:
    # Written out of order, nested, so neither creation order nor the file system's order could pass.
    write(tmp_path, "zeta.md", "# Zeta\n\nLast.")
    write(tmp_path, "b/notes.txt", "Plain text notes.")
    write(tmp_path, "a.pdf", make_pdf("Fees are listed in the leaflet"))
    write(tmp_path, "b/a.md", "Nested.")

    corpus = read_corpus(tmp_path)

    assert [f.path for f in corpus.files] == ["a.pdf", "b/a.md", "b/notes.txt", "zeta.md"]
    assert "Fees are listed in the leaflet" in corpus.files[0].text
    assert corpus.files[2].text == "Plain text notes."


def test_other_hidden_damaged_and_empty_files_are_left_out_and_listed_with_why(tmp_path: Path) -> None:
    write(tmp_path, "fees.md", "Registration costs $60.")
    write(tmp_path, "logo.png", b"\x89PNG")
    write(tmp_path, ".git/config", "[core]")
    write(tmp_path, ".notes.md", "hidden")
    write(tmp_path, "broken.pdf", b"%PDF-1.4 not really")
    write(tmp_path, "blank.txt", "  \n\n ")
    write(tmp_path, "locked.pdf", locked_pdf())

    corpus = read_corpus(tmp_path)

    assert [f.path for f in corpus.files] == ["fees.md"]
    assert dict(corpus.skipped) == {"blank.txt": "no text in it (a scanned PDF has none)",
                                    "broken.pdf": "the PDF is damaged or not a PDF",
                                    "locked.pdf": "it is password-protected",
                                    "logo.png": "not a .md, .txt or .pdf file"}


def test_the_whole_text_is_byte_identical_between_reads_and_each_file_sits_under_its_path(folder: Path) -> None:
    first = whole_facts(read_corpus(folder).files)
    second = whole_facts(read_corpus(folder).files)

    assert first.encode() == second.encode()
    headings = [line for line in first.split("\n") if line.startswith("--- ")]
    assert headings == ["--- deadlines.md ---", "--- documents.md ---", "--- fees.md ---"]


def test_line_ends_byte_order_marks_and_trailing_spaces_do_not_change_the_text(tmp_path: Path) -> None:
    write(tmp_path, "unix.md", "Fees   \nare $60.\n")
    write(tmp_path, "windows.md", b"\xef\xbb\xbfFees\r\nare $60.\r\n")

    unix, windows = read_corpus(tmp_path).files

    assert unix.text == windows.text == "Fees\nare $60."


def test_the_content_hash_changes_with_a_files_content_and_not_with_a_touch(folder: Path) -> None:
    before = read_corpus(folder)
    fees = folder / "fees.md"
    stat = fees.stat()
    os.utime(fees, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

    touched = read_corpus(folder)
    fees.write_text(fees.read_text().replace("$60", "$65"))
    changed = read_corpus(folder)

    assert touched.content_hash == before.content_hash
    assert changed.content_hash != before.content_hash


def test_the_quick_look_sees_a_touch_a_new_file_and_a_removed_one(folder: Path) -> None:
    before = signature(folder)
    (folder / "extra.txt").write_text("More.")
    added = signature(folder)
    (folder / "extra.txt").unlink()

    assert added != before
    assert [entry[0] for entry in added] == ["deadlines.md", "documents.md", "extra.txt", "fees.md"]
    assert signature(folder) == before
