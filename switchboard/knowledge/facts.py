"""Which of a folder's facts go with a question: all of them while they fit the budget, else the passages
retrieval ranks best (BM25, or embeddings when the index has them), and the text the model reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from switchboard.errors import TransientError
from switchboard.knowledge.folder import read_corpus
from switchboard.knowledge.index import Embedder, KnowledgeIndex, build_index
from switchboard.knowledge.instruction import knowledge_block, passage_facts
from switchboard.knowledge.passages import Passage
from switchboard.settings import Settings
from switchboard.tokens import count_text, truncate

log = logging.getLogger(__name__)

# A question is embedded as one input; OpenAI's limit is 8192 tokens, and no question needs a tenth of it.
QUESTION_MAX_TOKENS = 500


@dataclass(frozen=True)
class Selection:
    """What goes into the prompt for one question, and how it was chosen."""

    how: str  # "whole" (every file), "bm25" or "embeddings" (retrieved), "none" (no knowledge)
    facts: str = ""
    passages: tuple[tuple[Passage, float], ...] = ()  # retrieved: each passage with its score, best first


@dataclass(frozen=True)
class Knowledge:
    """One folder's facts for the system prompt. Made by KnowledgeLibrary (Redis) or `from_folder` (evals)."""

    index: KnowledgeIndex | None
    max_tokens: int  # KNOWLEDGE_PROMPT_MAX_TOKENS: whole text up to this, and retrieved passages too
    passages: int  # KNOWLEDGE_PASSAGES
    contact: str = ""  # KNOWLEDGE_CONTACT, or the bot's own
    embeddings: Embedder | None = None  # embeds questions when the index has vectors

    @classmethod
    def empty(cls) -> Knowledge:
        return cls(None, max_tokens=0, passages=1)

    @classmethod
    def from_index(cls, index: KnowledgeIndex, settings: Settings, embeddings: Embedder | None = None,
                   contact: str | None = None) -> Knowledge:
        return cls(index, settings.knowledge_prompt_max_tokens, settings.knowledge_passages,
                   settings.knowledge_contact if contact is None else contact, embeddings)

    @classmethod
    def from_folder(cls, path: Path | None, settings: Settings, embeddings: Embedder | None = None,
                    contact: str | None = None) -> Knowledge:
        """Read and index the folder in memory, no Redis (evals); with `embeddings`, its passages are embedded."""
        if path is None:
            return cls.empty()
        return cls.from_index(build_index(read_corpus(path), embeddings), settings, embeddings, contact)

    def with_contact(self, contact: str) -> Knowledge:
        return self if contact == self.contact else replace(self, contact=contact)

    def __bool__(self) -> bool:
        return self.index is not None and bool(self.index.corpus.files)

    def system_text(self, question: str) -> str:
        """The instruction and the facts to append to the system prompt; "" when there is no knowledge."""
        return self.render(self.select(question))

    def render(self, selection: Selection) -> str:
        """`system_text` of a selection already made (`switchboard knowledge show` shows both)."""
        if selection.how == "none":
            return ""
        return knowledge_block(selection.facts, self.contact, retrieved=selection.how != "whole")

    def select(self, question: str) -> Selection:
        index = self.index
        if index is None or not index.corpus.files:
            return Selection("none")
        if index.whole_tokens <= self.max_tokens:
            # The same text for every question: with the system prompt before it, OpenAI caches the prefix.
            return Selection("whole", index.whole_text)
        how, ranked = self._ranked(index, question)
        chosen = self._within_budget(ranked)
        log.debug("knowledge: %d passage(s) by %s: %s", len(chosen), how, [p.title for p, _ in chosen])
        return Selection(how, passage_facts([p for p, _ in chosen]), tuple(chosen))

    def _ranked(self, index: KnowledgeIndex, question: str) -> tuple[str, list[tuple[Passage, float]]]:
        asked = truncate(question.strip(), QUESTION_MAX_TOKENS)
        if not asked:
            return "bm25", []
        if index.vectors is not None and self.embeddings is not None:
            try:
                vector = self.embeddings.embed([asked])[0]
            except TransientError as exc:
                # The answer is still grounded, by words instead of meaning, rather than late or lost.
                log.warning("knowledge: the question's embedding failed (%s); BM25 instead", exc)
            else:
                return "embeddings", [(index.passages[i], s) for i, s in index.vectors.top(vector, self.passages)]
        return "bm25", [(index.passages[i], s) for i, s in index.lexical.top(asked, self.passages)]

    def _within_budget(self, ranked: list[tuple[Passage, float]]) -> list[tuple[Passage, float]]:
        """The best passages while they fit max_tokens together; the best one alone is cut to fit."""
        chosen: list[tuple[Passage, float]] = []
        for passage, score in ranked:
            if count_text(passage_facts([p for p, _ in chosen] + [passage])) <= self.max_tokens:
                chosen.append((passage, score))
                continue
            if not chosen:
                room = self.max_tokens - count_text(passage_facts([replace(passage, text="")]))
                if room > 0:
                    chosen.append((replace(passage, text=truncate(passage.text, room)), score))
            break
        return chosen
