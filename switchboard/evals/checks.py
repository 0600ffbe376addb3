"""Checking one answer against its turn's expectations: one result per thing expected, each pass or fail.

Texts are compared as people read them, not byte for byte: case-insensitive, curly apostrophes as straight
ones, runs of whitespace as one space. docs/evals.md states the same rules for operators.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.domain.model_answer import CalledTool
from switchboard.evals.cases import Expectation, ToolCallExpectation

# What a plain "I don't know" looks like when no KNOWLEDGE_CONTACT is set (or the answer does not give it).
# Kept short and literal, so a pass means the model said it, not that a pattern stretched to fit.
DOES_NOT_KNOW_PHRASES = (
    "i don't know",
    "i do not know",
    "i'm not sure",
    "i am not sure",
    "i don't have that information",
    "i don't have information",
    "i do not have information",
    "i do not have that information",
    "i don't have details",
    "i can't find",
    "i cannot find",
    "i couldn't find",
    "not covered",
    "no information",
    "i'm unable to answer",
    "i am unable to answer",
    "i can't answer",
    "i cannot answer",
)


@dataclass(frozen=True)
class CheckResult:
    check: str  # what was expected, as the table shows it
    passed: bool
    detail: str = ""  # why it failed, when the answer's excerpt alone does not say


def plain(text: str) -> str:
    """`text` as the checks compare it: lower case, straight apostrophes, single spaces."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").casefold().split())


def check_answer(expect: Expectation, answer: str, calls: Sequence[CalledTool], contact: str) -> list[CheckResult]:
    """Every expectation of the turn checked against the answer and the tool calls made for it."""
    said = plain(answer)
    results = [CheckResult(f"mentions {text!r}", plain(text) in said) for text in expect.mentions]
    results += [CheckResult(f"not_mentions {text!r}", plain(text) not in said) for text in expect.not_mentions]
    results += [_called(wanted, calls) for wanted in expect.tool_called]
    for name in expect.tool_not_called:
        made = [call for call in calls if call.name == name]
        results.append(CheckResult(f"tool_not_called {name}", not made, f"called with {_args(made[0])}" if made else ""))
    if expect.says_it_does_not_know is not None:
        results.append(_does_not_know(expect.says_it_does_not_know, said, contact))
    return results


def says_it_does_not_know(answer: str, contact: str) -> bool:
    """The answer gives the operator's contact (when one is set) or says plainly that it does not know."""
    said = plain(answer)
    if contact and _gives_contact(said, contact):
        return True
    return any(phrase in said for phrase in DOES_NOT_KNOW_PHRASES)


def _does_not_know(expected: bool, said: str, contact: str) -> CheckResult:
    label = f"says_it_does_not_know {str(expected).lower()}"
    if says_it_does_not_know(said, contact) == expected:
        return CheckResult(label, True)
    if expected:
        return CheckResult(label, False, "neither the contact nor an \"I don't know\"" if contact
                           else "no \"I don't know\" phrasing")
    return CheckResult(label, False, "it said it does not know")


def _gives_contact(said: str, contact: str) -> bool:
    # "+1 555 0100" may come back as "+1-555-0100" or "+15550100": compare without the separators too.
    if plain(contact) in said:
        return True
    bare = re.sub(r"[\s\-().]", "", contact)
    return len(bare) >= 5 and bare.casefold() in re.sub(r"[\s\-().]", "", said)


def _called(wanted: ToolCallExpectation, calls: Sequence[CalledTool]) -> CheckResult:
    label = f"tool_called {wanted.name}" + (f" with {_args_text(wanted.arguments)}" if wanted.arguments else "")
    made = [call for call in calls if call.name == wanted.name]
    if any(_has_arguments(call.arguments, wanted.arguments) for call in made):
        return CheckResult(label, True)
    if made:
        return CheckResult(label, False, "called with " + "; ".join(_args(call) for call in made))
    others = ", ".join(call.name for call in calls) or "none"
    return CheckResult(label, False, f"not called (tools called: {others})")


def _has_arguments(given: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(name in given and _same(given[name], value) for name, value in wanted.items())


def _same(given: object, wanted: object) -> bool:
    if isinstance(given, str) and isinstance(wanted, str):
        return plain(given) == plain(wanted)
    return given == wanted


def _args(call: CalledTool) -> str:
    return _args_text(call.arguments)


def _args_text(arguments: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{name}: {value!r}" for name, value in arguments.items()) + "}"
