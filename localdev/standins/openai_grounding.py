"""How the OpenAI stand-in answers from Switchboard's knowledge: like an obedient model, from the facts only.

When a system message holds the `<knowledge>` ... `</knowledge>` block (switchboard/knowledge/
instruction.py), the answer is the sentence of the facts sharing the most content words with the newest
user question; when no sentence shares at least half of them, it says plainly that it does not know and
names the contact the instruction gives. Deterministic, so tests can tell a retrieved passage from a
missing one by the answer alone.
"""

from __future__ import annotations

import re
from typing import Any

# A small list of words every question has: they say nothing about which fact is meant.
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with i me my we our you your he she them am do does did can could would should shall may "
    "might must have has had what when where which who whom whose why how much many any some about from than so "
    "please tell know want need get us its it's i'm hi hello thanks thank yes".split())
_WORD = re.compile(r"\w+")
_BLOCK = re.compile(r"^<knowledge>\n(.*?)^</knowledge>", re.DOTALL | re.MULTILINE)
_CONTACT = re.compile(r"^Contact[^:\n]*:\s*(\S.*)$", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MOST_SENTENCES = 2


def content_words(text: str) -> set[str]:
    """Lower-case words that carry meaning, a plural's final "s" folded ("costs" is "cost")."""
    words: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        words.add(word)
    return words


def grounded_answer(messages: list[dict[str, Any]], question: str) -> str | None:
    """The answer to `question` from the knowledge block of a system message; None when there is no block."""
    for message in messages:
        if message.get("role") not in ("system", "developer"):
            continue
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        block = _BLOCK.search(text)
        if block is not None:
            contact = _CONTACT.search(text[:block.start()])
            return _answer(block.group(1), question, contact.group(1).strip() if contact else "")
    return None


def _answer(facts: str, question: str, contact: str) -> str:
    asked = content_words(question)
    scored = []
    for sentence in _sentences(facts):
        shared = len(asked & content_words(sentence))
        if shared:
            scored.append((shared, sentence))
    best = max((shared for shared, _ in scored), default=0)
    if asked and best * 2 >= len(asked):
        return " ".join([sentence for shared, sentence in scored if shared == best][:MOST_SENTENCES])
    return "I don't know that from the information I have." + (f" Please contact {contact}." if contact else "")


def _sentences(facts: str) -> list[str]:
    sentences: list[str] = []
    for line in facts.split("\n"):
        line = line.strip()
        # The block's own headings (--- file > heading ---) and the files' Markdown headings are no answers.
        if not line or line.startswith(("#", "--- ")):
            continue
        line = line.lstrip("-*").strip()  # a list item's text
        sentences.extend(part for part in _SENTENCE_END.split(line) if part)
    return sentences
