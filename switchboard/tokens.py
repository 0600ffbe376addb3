"""Token counts for the history budget (a documented estimate) and the context windows of known models.

Why an estimate and not a tokenizer: tiktoken, OpenAI's tokenizer, downloads its BPE ranks from the
internet on first use, which production hosts without egress and CI cannot do; the only PyPI package
found that ships the ranks offline (bpe-openai 0.1.4, an alpha wrapper around a 74 MB native library)
is not well kept enough to depend on. So the count is OpenAI's own rule of thumb, about four bytes of
text per token: UTF-8 bytes / 4, rounded up, plus a few tokens per chat message for its framing. For
English it lands near the real count; for other scripts it errs a little either way, which a budget
sized with headroom absorbs.

The store's history trimming (switchboard/store/history.py, `TRIM_HISTORY`) counts the same way in Lua,
with these constants passed in, so the stored history and the prompt agree on what fits.

A leaf module (it imports nothing of ours): settings, the store and the prompt builder all use it.
"""

from __future__ import annotations

BYTES_PER_TOKEN = 4
# Each chat message costs its content plus framing (OpenAI's cookbook counts 3 per message for its
# chat models, plus the role): 4 keeps the estimate on the safe side.
TOKENS_PER_MESSAGE = 4

# Context windows (input and output together, in tokens) from OpenAI's model pages. A dated snapshot
# (gpt-4o-2024-08-06) takes its family's entry; anything else gets UNKNOWN_MODEL_WINDOW.
CONTEXT_WINDOWS = {
    "gpt-3.5-turbo": 16_385,
    "gpt-4": 8_192,
    "gpt-4-32k": 32_768,
    "gpt-4-turbo": 128_000,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "chatgpt-4o-latest": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "o1": 200_000,
    "o1-mini": 128_000,
    "o3": 200_000,
    "o3-mini": 200_000,
    "o4-mini": 200_000,
    "gpt-5": 400_000,
    "gpt-5-mini": 400_000,
    "gpt-5-nano": 400_000,
    "gpt-5-chat-latest": 128_000,
}
# A model we do not know (another OpenAI-compatible endpoint, a new name): the smallest window a
# current chat model has, so a budget that fits here fits anywhere.
UNKNOWN_MODEL_WINDOW = 8_192


def count_text(text: str) -> int:
    """Estimated tokens of `text`: its UTF-8 bytes / BYTES_PER_TOKEN, rounded up."""
    return -(-len(text.encode("utf-8", "surrogatepass")) // BYTES_PER_TOKEN)


def count_message(content: str) -> int:
    """Estimated tokens of one chat message with this text: the text plus the message's framing."""
    return count_text(content) + TOKENS_PER_MESSAGE


def truncate(text: str, max_tokens: int) -> str:
    """`text` cut to at most `max_tokens` (estimated), at a word boundary when one is near the cut."""
    limit = max(max_tokens, 0) * BYTES_PER_TOKEN
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    ellipsis = "…"
    cut = data[: max(limit - len(ellipsis.encode()), 0)].decode("utf-8", "ignore")  # never half a character
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > len(cut) // 2:  # a word boundary in the second half: cut there rather than mid-word
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def known_window(model: str) -> int | None:
    """The model's context window from CONTEXT_WINDOWS (its family's for a dated snapshot); None if unknown."""
    name = model.strip().lower()
    known = [entry for entry in CONTEXT_WINDOWS if name == entry or name.startswith(entry + "-")]
    return CONTEXT_WINDOWS[max(known, key=len)] if known else None


def context_window(model: str) -> int:
    """The model's context window, or UNKNOWN_MODEL_WINDOW for a model the table does not know."""
    return known_window(model) or UNKNOWN_MODEL_WINDOW
