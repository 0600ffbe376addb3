"""The table `switchboard eval` prints: one fixed-width row per check, plain text, so it reads in CI logs too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CASE_WIDTH = 40
CHECK_WIDTH = 44
EXCERPT_WIDTH = 80
HEADINGS = ("case", "turn", "check", "result", "excerpt")


@dataclass(frozen=True)
class Row:
    case: str
    turn: int  # 1-based; 0 for a row about the whole case (an error before any turn answered)
    check: str
    passed: bool
    excerpt: str  # the answer's start, or why the check failed


def excerpt(text: str, width: int = EXCERPT_WIDTH) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def render(rows: Sequence[Row]) -> str:
    """The rows under a heading, columns padded to their widest cell (the case and check cut to a limit)."""
    cells = [HEADINGS] + [(excerpt(row.case, CASE_WIDTH), str(row.turn or "-"), excerpt(row.check, CHECK_WIDTH),
                           "pass" if row.passed else "FAIL", excerpt(row.excerpt)) for row in rows]
    widths = [max(len(line[column]) for line in cells) for column in range(len(HEADINGS) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1]
             for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths) + "  " + "-" * len(HEADINGS[-1]))
    return "\n".join(line.rstrip() for line in lines)


def summary(rows: Sequence[Row]) -> str:
    """One line under the table: how many checks and cases passed."""
    failed_cases = {row.case for row in rows if not row.passed}
    cases = {row.case for row in rows}
    passed = sum(row.passed for row in rows)
    return (f"{passed} of {len(rows)} checks passed; "
            f"{len(cases) - len(failed_cases)} of {len(cases)} cases passed")
