"""A doctor's result row (✔, ✘ or ! with what was seen and the fix), the table of them, and the exit code."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Status(enum.Enum):
    OK = "✔"
    FAIL = "✘"
    # Cannot be known from here (e.g. a managed Redis that refuses CONFIG): shown, not counted as failing.
    UNKNOWN = "!"


@dataclass(frozen=True)
class CheckResult:
    status: Status
    check: str  # what was checked, e.g. "redis persistence" or "webhook whatsapp:+14155238886"
    detail: str  # what the service says
    fix: str = ""  # what to do about it: a command, a setting or where in Twilio's Console


def ok(check: str, detail: str) -> CheckResult:
    return CheckResult(Status.OK, check, detail)


def fail(check: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(Status.FAIL, check, detail, fix)


def unknown(check: str, detail: str, fix: str = "") -> CheckResult:
    return CheckResult(Status.UNKNOWN, check, detail, fix)


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when nothing failed (unknowns allowed), else 1."""
    return 1 if any(result.status is Status.FAIL for result in results) else 0


def table(results: Sequence[CheckResult]) -> str:
    """One line per check, the fix on the line below it, and a count at the end."""
    width = max((len(result.check) for result in results), default=0)
    lines = []
    for result in results:
        lines.append(f"{result.status.value} {result.check:<{width}}  {result.detail}")
        if result.fix:
            lines.append(f"  {'':<{width}}  fix: {result.fix}")
    failed = sum(result.status is Status.FAIL for result in results)
    unknowns = sum(result.status is Status.UNKNOWN for result in results)
    lines.append(f"\n{len(results)} checks: {len(results) - failed - unknowns} ok, {failed} failed, "
                 f"{unknowns} cannot tell")
    return "\n".join(lines)
