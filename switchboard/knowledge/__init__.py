"""The operator's facts (issue 14): a folder of Markdown, text and PDF files the model answers from.

While the whole folder fits KNOWLEDGE_PROMPT_MAX_TOKENS it goes into the system prompt in a stable order
(OpenAI's prompt caching keeps a repeated prefix cheap); beyond that, each question gets the passages
retrieval ranks best: BM25 by default, OpenAI embeddings with KNOWLEDGE_EMBEDDING_MODEL. docs/knowledge.md
is the operator's side.

| module      | its job                                                                        |
|-------------|--------------------------------------------------------------------------------|
| documents   | one file as text (.md, .txt as written; .pdf through pypdf)                     |
| folder      | the folder's files in sorted order, a cheap look at it, a hash of its contents |
| passages    | the text cut at headings and paragraphs into passages of bounded size          |
| lexical     | BM25 (bm25s) over the passages                                                 |
| vectors     | cosine similarity over the passages' embeddings                                |
| index       | a folder's whole text, passages and vectors; its fingerprint; its Redis form   |
| instruction | the words the model reads: the instruction and the <knowledge> block           |
| facts       | Knowledge: whole text or retrieved passages for a question, as system text     |
| building    | an index to and from Redis; `switchboard knowledge build`'s step               |
| library     | KnowledgeLibrary: each folder's Knowledge per process, rebuilt on change       |
"""

from __future__ import annotations

from switchboard.knowledge.facts import Knowledge, Selection
from switchboard.knowledge.index import Embedder
from switchboard.knowledge.library import KnowledgeLibrary

__all__ = ["Embedder", "Knowledge", "KnowledgeLibrary", "Selection"]
