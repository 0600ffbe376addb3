"""Lexical retrieval: BM25 (bm25s) over the passages' words, for a question in the same words as the facts.

No stemmer: it would be another dependency and a language to pick, and OpenAI embeddings
(KNOWLEDGE_EMBEDDING_MODEL) are the answer for paraphrases. One fold only, a plural's final "s" ("costs",
"fees", "documents" match "cost", "fee", "document"), because without it the commonest question ("how much
does it cost?") misses the fact ("registration costs $60"); applied to facts and questions alike, a word it
mangles ("goes" -> "goe") still matches itself. Words that every question has and no fact needs ("how",
"what", "the") are dropped, so they cannot outscore the ones that matter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import bm25s
import numpy as np

# bm25s's own English list (Lucene's) and the words questions are made of.
STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | frozenset(
    "i me my we our you your he she they them their am do does did can could would should will shall may might "
    "must have has had what when where which who whom whose why how much many any some about from than so "
    "please tell know want need get us its it's i'm".split())
_WORD = re.compile(r"\w+")


def terms(text: str) -> list[str]:
    """The words BM25 matches on: lower-case, stop words left out, a plural's "s" folded."""
    return [_folded(word) for word in _WORD.findall(text.lower()) if word not in STOPWORDS]


def _folded(word: str) -> str:
    # Not "ss" (pass), "us" (bus), "is" (this): those are no plurals.
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class LexicalIndex:
    """BM25 scores of a question against each passage; built in memory (milliseconds for thousands)."""

    def __init__(self, texts: Sequence[str]) -> None:
        # bm25s logs each index build at DEBUG on a logger it sets to DEBUG: not worth a line per build.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:  # bm25s cannot index nothing
            # An empty token list would be dropped by bm25s's vocabulary: "" keeps each text a document.
            self._bm25.index([terms(text) or [""] for text in texts], show_progress=False)

    def top(self, question: str, k: int) -> list[tuple[int, float]]:
        """(passage number, score) of the best `k` passages sharing a word with the question, best first."""
        if not self._size:
            return []
        words = [word for word in terms(question) if word in self._bm25.vocab_dict]
        if not words:
            return []
        scores = np.asarray(self._bm25.get_scores(words), dtype=np.float64)
        ranked = sorted(range(self._size), key=lambda i: (-scores[i], i))  # ties: the earlier passage first
        return [(i, float(scores[i])) for i in ranked[:k] if scores[i] > 0]
